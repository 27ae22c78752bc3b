// IAM's policy evaluator against a reference written here from the IAM User Guide's words, in the
// plainest way (recursive wildcard matching, conditions spelled out case by case): the input
// bytes choose a policy (statements, actions, resources, conditions over a small vocabulary so
// that matches happen) and a request; the policy is written as JSON, parsed by ParsePolicy and
// evaluated, and the decision and the deciding statement must equal the reference's. A request
// the evaluator allows that the reference does not is the bug this target exists to find. The
// bytes are also fed to ParsePolicy as a document of their own (nothing may crash or hang).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "services/iam/condition.h"
#include "services/iam/policy_evaluator.h"

using namespace lathe;
using nlohmann::json;

namespace {

// Takes bytes from the input; zeros once it runs out.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  size_t Below(size_t n) { return Next() % n; }
  template <size_t N>
  const char* Pick(const char* const (&options)[N]) { return options[Below(N)]; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

const char* const kActions[] = {"s3:GetObject", "s3:Get*", "s3:*", "*", "S3:getobject", "s3:?etObject",
                                "iam:PassRole", "iam:*", "s3:PutObject", "bedrock:*Job", "s3:G*t*"};
const char* const kRequestActions[] = {"s3:GetObject", "s3:PutObject", "iam:PassRole", "bedrock:CreateJob",
                                       "s3:GetObjectAcl", "bedrock:InvokeModel"};
const char* const kResources[] = {"*", "arn:aws:s3:::b", "arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:*",
                                  "arn:aws:s3:::b/a?c", "arn:aws:iam::*:role/R", "arn:aws:s3:::${aws:username}/*",
                                  "arn:aws:s3:::b/*/x"};
const char* const kRequestResources[] = {"*", "arn:aws:s3:::b", "arn:aws:s3:::b/abc", "arn:aws:s3:::b/a:c",
                                         "arn:aws:iam::123456789012:role/R", "arn:aws:s3:::alice/k",
                                         "arn:aws:s3:::b/q/x", "arn:aws:iam::1:2:role/R"};
const char* const kOperators[] = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike",
                                  "StringNotLike", "NumericLessThan", "NumericGreaterThanEquals", "NumericNotEquals",
                                  "DateLessThan", "DateGreaterThan", "Bool", "IpAddress", "NotIpAddress",
                                  "ArnLike", "ArnNotEquals", "Null"};
const char* const kKeys[] = {"aws:username", "s3:prefix", "aws:SourceIp", "aws:CurrentTime", "aws:TagKeys",
                             "aws:SecureTransport"};
const char* const kValues[] = {"alice", "ALICE", "a*", "", "10", "5", "2026-01-01T00:00:00Z", "true", "false",
                               "10.0.0.0/8", "10.1.2.3", "arn:aws:s3:::*", "home/", "${aws:username}"};

struct RefClause {
  std::string op, key;  // key lower-cased
  std::vector<std::string> values;
};
struct RefStatement {
  std::string sid;
  bool allow, not_action, not_resource;
  std::vector<std::string> actions, resources;
  std::vector<RefClause> conditions;
};

// ---- the reference: plain recursion over short strings, straight from the guide's sentences ----

bool Glob(const char* p, const char* t, bool fold) {
  if (!*p) return !*t;
  if (*p == '*') return Glob(p + 1, t, fold) || (*t && Glob(p, t + 1, fold));
  if (!*t) return false;
  char a = *p, b = *t;
  if (fold) a = static_cast<char>(std::tolower(static_cast<unsigned char>(a))),
            b = static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
  return (*p == '?' || a == b) && Glob(p + 1, t + 1, fold);
}

std::vector<std::string> Components(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (out.size() < 5) {
    size_t c = s.find(':', start);
    if (c == std::string::npos) break;
    out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

bool RefArn(const std::string& pattern, const std::string& arn) {
  if (pattern == "*") return true;
  std::vector<std::string> p = Components(pattern), a = Components(arn);
  if (p.size() > a.size()) return false;
  if (p.size() < a.size()) {
    if (p.back().empty() || p.back().back() != '*') return false;
    std::string rest = a[p.size() - 1];
    for (size_t i = p.size(); i < a.size(); ++i) rest += ":" + a[i];
    a.resize(p.size());
    a.back() = rest;
  }
  for (size_t i = 0; i < p.size(); ++i)
    if (!Glob(p[i].c_str(), a[i].c_str(), false)) return false;
  return true;
}

// ${aws:username} is the only variable the vocabulary uses.
bool Expand(std::string s, const std::string* username, std::string* out) {
  size_t at = s.find("${aws:username}");
  if (at == std::string::npos) return *out = s, true;
  if (!username || username->find_first_of("*?") != std::string::npos) return false;  // no wildcards by way of a value
  *out = s.replace(at, 15, *username);
  return true;
}

bool BaseMatch(const std::string& op, const std::string& have, const std::string& want) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (op == "StringEquals" || op == "StringNotEquals") return have == want;
  if (op == "StringEqualsIgnoreCase") return lower(have) == lower(want);
  if (op == "StringLike" || op == "StringNotLike") return Glob(want.c_str(), have.c_str(), false);
  if (op == "Bool") return lower(have) == lower(want);
  if (op == "ArnLike" || op == "ArnNotEquals") return RefArn(want, have);
  if (op.rfind("Numeric", 0) == 0) {
    auto number = [](const std::string& s, double* v) {
      if (s.empty()) return false;
      for (char c : s)
        if (c < '0' || c > '9') return false;
      *v = std::atof(s.c_str());
      return true;
    };
    double h, w;
    if (!number(have, &h) || !number(want, &w)) return false;
    if (op == "NumericLessThan") return h < w;
    if (op == "NumericGreaterThanEquals") return h >= w;
    return h == w;  // NumericNotEquals, before negation
  }
  if (op.rfind("Date", 0) == 0) {
    auto h = iam::ParseConditionDate(have), w = iam::ParseConditionDate(want);
    if (!h || !w) return false;
    return op == "DateLessThan" ? *h < *w : *h > *w;
  }
  if (op == "IpAddress" || op == "NotIpAddress")  // the vocabulary's one address, alone or in its /8
    return have == "10.1.2.3" && (want == "10.0.0.0/8" || want == "10.1.2.3");
  return false;
}

bool Negated(const std::string& op) { return op.find("Not") != std::string::npos; }

// "If the key that you specify in a policy condition is not present in the request context, the
// values do not match and the condition is false. If the policy condition requires that the key is
// not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
// is true." Several values: any matches; for negated operators none may.
bool RefCondition(const RefClause& c, const iam::ConditionContext& ctx, const std::string* username) {
  auto it = ctx.find(c.key);
  const bool present = it != ctx.end() && !it->second.empty();
  if (c.op == "Null") {
    for (const std::string& v : c.values)
      if ((v == "true" && !present) || (v == "false" && present)) return true;
    return false;
  }
  const bool textual = c.op.rfind("String", 0) == 0 || c.op.rfind("Arn", 0) == 0;
  // lathe's rule (AWS leaves it unsaid): a negated operator with a value whose variable cannot be
  // resolved would hold too widely, so the condition fails.
  if (textual && Negated(c.op))
    for (const std::string& raw : c.values) {
      std::string want;
      if (!Expand(raw, username, &want)) return false;
    }
  if (!present) return Negated(c.op);
  bool some_value_matches = false;
  for (const std::string& have : it->second)
    for (const std::string& raw : c.values) {
      std::string want = raw;
      if (textual && !Expand(raw, username, &want)) continue;
      if (BaseMatch(c.op, have, want)) some_value_matches = true;
    }
  return Negated(c.op) ? !some_value_matches : some_value_matches;
}

iam::Decision Reference(const std::vector<RefStatement>& statements, const std::string& action,
                        const std::string& resource, const iam::ConditionContext& ctx, std::string* deciding) {
  auto it = ctx.find("aws:username");
  const std::string* username = it != ctx.end() && it->second.size() == 1 ? &it->second[0] : nullptr;
  const RefStatement *allow = nullptr, *deny = nullptr;
  for (const RefStatement& st : statements) {
    bool action_listed = false, resource_listed = false;
    for (const std::string& a : st.actions) action_listed |= Glob(a.c_str(), action.c_str(), true);
    bool unresolvable = false;
    for (const std::string& r : st.resources) {
      std::string expanded;
      const bool resolved = Expand(r, username, &expanded);
      unresolvable |= !resolved;
      resource_listed |= resolved && RefArn(expanded, resource);
    }
    if (st.not_resource && unresolvable) continue;  // lathe leaves such a statement out
    if (action_listed == st.not_action || resource_listed == st.not_resource) continue;
    bool holds = true;
    for (const RefClause& c : st.conditions) holds = holds && RefCondition(c, ctx, username);
    if (!holds) continue;
    if (st.allow && !allow) allow = &st;
    if (!st.allow && !deny) deny = &st;
  }
  if (deny) return *deciding = deny->sid, iam::Decision::kExplicitDeny;
  if (allow) return *deciding = allow->sid, iam::Decision::kAllowed;
  return iam::Decision::kImplicitDeny;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)iam::ParsePolicy(std::string_view(reinterpret_cast<const char*>(data), size), "raw", "user");

  Bytes in(data, size);
  std::vector<RefStatement> statements(1 + in.Below(3));
  json doc_statements = json::array();
  for (size_t i = 0; i < statements.size(); ++i) {
    RefStatement& st = statements[i];
    st.sid = "S" + std::to_string(i);
    st.allow = in.Below(3) != 0;
    st.not_action = in.Below(4) == 0;
    st.not_resource = in.Below(4) == 0;
    for (size_t n = 1 + in.Below(2); n > 0; --n) st.actions.push_back(in.Pick(kActions));
    for (size_t n = 1 + in.Below(2); n > 0; --n) st.resources.push_back(in.Pick(kResources));
    json statement = {{"Sid", st.sid}, {"Effect", st.allow ? "Allow" : "Deny"},
                      {st.not_action ? "NotAction" : "Action", st.actions},
                      {st.not_resource ? "NotResource" : "Resource", st.resources}};
    json condition = json::object();
    for (size_t n = in.Below(3); n > 0; --n) {
      std::string op = in.Pick(kOperators);
      if (condition.contains(op)) continue;  // one block per operator, as JSON keys are unique
      RefClause c{op, in.Pick(kKeys), {}};
      for (size_t v = 1 + in.Below(2); v > 0; --v) c.values.push_back(in.Pick(kValues));
      condition[op] = {{c.key, c.values}};
      for (char& ch : c.key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      st.conditions.push_back(c);
    }
    if (!condition.empty()) statement["Condition"] = condition;
    doc_statements.push_back(statement);
  }
  const std::string document = json{{"Version", "2012-10-17"}, {"Statement", doc_statements}}.dump();
  Result<iam::Policy> policy = iam::ParsePolicy(document, "fuzz", "user");
  if (!policy.ok()) std::abort();  // every generated policy is well-formed

  iam::AccessQuery query;
  query.action = in.Pick(kRequestActions);
  query.resource = in.Pick(kRequestResources);
  for (size_t n = in.Below(4); n > 0; --n) {
    std::string key = in.Pick(kKeys);
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    query.context[key].push_back(in.Pick(kValues));
  }
  // Two values under one single-valued key would make the reference's "any value" reading and
  // ForAnyValue's meet; keep the keys single-valued except aws:TagKeys, as AWS's are.
  for (auto& [key, values] : query.context)
    if (key != "aws:tagkeys" && values.size() > 1) values.resize(1);

  std::string want_sid;
  const iam::Decision want = Reference(statements, query.action, query.resource, query.context, &want_sid);
  const iam::Evaluation got = iam::Evaluate({*policy}, query);
  if (got.decision != want) std::abort();
  if (want != iam::Decision::kImplicitDeny && (!got.deciding || got.deciding->sid != want_sid)) std::abort();
  return 0;
}
