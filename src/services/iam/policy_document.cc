#include "services/iam/policy_document.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/utf8.h"
#include "services/iam/condition.h"
#include "services/iam/errors.h"

namespace lathe::iam {
namespace {

using nlohmann::json;

Status Syntax() { return MalformedPolicyDocument("Syntax errors in policy."); }

// The deepest nesting of objects and arrays, by one pass that skips string contents; stops
// counting once past `max` so the answer is cheap for any input.
size_t JsonDepth(std::string_view s, size_t max) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool IsStringOrStringList(const json& v, bool allow_empty_list = false) {
  if (v.is_string()) return true;
  if (!v.is_array() || (v.empty() && !allow_empty_list)) return false;
  for (const json& e : v)
    if (!e.is_string()) return false;
  return true;
}

std::vector<std::string> Strings(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  std::vector<std::string> out;
  for (const json& e : v) out.push_back(e.get<std::string>());
  return out;
}

// "*" or "service:Action" where the service is [a-z0-9-]+ and the action letters, digits, '*'
// and '?' (wildcards).
bool IsAction(std::string_view a) {
  if (a == "*") return true;
  size_t colon = a.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == a.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = a[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  for (size_t i = colon + 1; i < a.size(); ++i) {
    char c = a[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '?'))
      return false;
  }
  return true;
}

Status CheckActions(const json& v) {
  if (!IsStringOrStringList(v)) return Syntax();
  for (const std::string& a : Strings(v))
    if (!IsAction(a))
      return MalformedPolicyDocument("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  return Status::Ok();
}

Status CheckResources(const json& v) {
  if (!IsStringOrStringList(v)) return Syntax();
  for (const std::string& r : Strings(v))
    if (r != "*" && r.compare(0, 4, "arn:") != 0)
      return MalformedPolicyDocument("Resource " + r.substr(0, 128) + " must be in ARN format or \"*\".");
  return Status::Ok();
}

Status CheckPrincipal(const json& v) {
  if (v.is_string()) {
    if (v.get<std::string>() == "*") return Status::Ok();
    return MalformedPolicyDocument("Invalid principal in policy: " + v.get<std::string>().substr(0, 128));
  }
  if (!v.is_object() || v.empty()) return MalformedPolicyDocument("Invalid principal in policy.");
  static const std::set<std::string> kTypes = {"AWS", "Service", "Federated", "CanonicalUser"};
  for (const auto& [type, ids] : v.items()) {
    if (!kTypes.count(type)) return MalformedPolicyDocument("Invalid principal in policy: \"" + type.substr(0, 64) + "\"");
    if (!IsStringOrStringList(ids)) return MalformedPolicyDocument("Invalid principal in policy.");
    for (const std::string& id : Strings(ids))
      if (id.empty()) return MalformedPolicyDocument("Invalid principal in policy.");
  }
  return Status::Ok();
}

Status CheckCondition(const json& v) {
  if (!v.is_object()) return Syntax();
  for (const auto& [op, block] : v.items()) {
    if (op.empty() || !block.is_object()) return Syntax();
    if (!ParseConditionOperator(op)) return MalformedPolicyDocument("Invalid Condition type : " + op.substr(0, 64));
    for (const auto& [key, values] : block.items()) {
      if (key.empty()) return Syntax();
      auto scalar = [](const json& e) { return e.is_string() || e.is_boolean() || e.is_number(); };
      if (values.is_array()) {
        for (const json& e : values)
          if (!scalar(e)) return Syntax();
      } else if (!scalar(values)) {
        return Syntax();
      }
    }
  }
  return Status::Ok();
}

bool IsSid(std::string_view sid) {
  for (char c : sid)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

Status CheckStatement(const json& st, PolicyKind kind, std::set<std::string>* sids) {
  if (!st.is_object()) return Syntax();
  static const std::set<std::string> kFields = {"Sid",      "Effect",      "Principal", "NotPrincipal", "Action",
                                                "NotAction", "Resource", "NotResource", "Condition"};
  for (const auto& [key, value] : st.items())
    if (!kFields.count(key)) return Syntax();
  if (st.contains("Sid")) {
    const json& sid = st["Sid"];
    if (!sid.is_string()) return Syntax();
    if (kind == PolicyKind::kIdentity && !IsSid(sid.get<std::string>()))
      return MalformedPolicyDocument("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
                                     "regular expression [0-9A-Za-z]*");
    if (!sid.get<std::string>().empty() && !sids->insert(sid.get<std::string>()).second)
      return MalformedPolicyDocument("Statement IDs (SID) in a single policy must be unique.");
  }
  if (!st.contains("Effect")) return MalformedPolicyDocument("Missing required field Effect");
  if (!st["Effect"].is_string() || (st["Effect"] != "Allow" && st["Effect"] != "Deny"))
    return MalformedPolicyDocument("Invalid effect: " + (st["Effect"].is_string() ? st["Effect"].get<std::string>().substr(0, 64) : std::string("(not a string)")));
  bool action = st.contains("Action"), not_action = st.contains("NotAction");
  if (action == not_action)
    return MalformedPolicyDocument(action ? "Statement cannot contain both Action and NotAction."
                                          : "Policy statement must contain actions.");
  LATHE_RETURN_IF_ERROR(CheckActions(st[action ? "Action" : "NotAction"]));
  bool resource = st.contains("Resource"), not_resource = st.contains("NotResource");
  bool principal = st.contains("Principal"), not_principal = st.contains("NotPrincipal");
  if (resource && not_resource) return MalformedPolicyDocument("Statement cannot contain both Resource and NotResource.");
  if (principal && not_principal)
    return MalformedPolicyDocument("Statement cannot contain both Principal and NotPrincipal.");
  if (kind == PolicyKind::kTrust) {
    if (resource) return MalformedPolicyDocument("Has prohibited field Resource");
    if (not_resource) return MalformedPolicyDocument("Has prohibited field NotResource");
    if (!principal && !not_principal) return MalformedPolicyDocument("Missing required field Principal");
    LATHE_RETURN_IF_ERROR(CheckPrincipal(st[principal ? "Principal" : "NotPrincipal"]));
  } else {
    if (principal || not_principal) return MalformedPolicyDocument("Policy document should not specify a principal.");
    if (!resource && !not_resource) return MalformedPolicyDocument("Policy statement must contain resources.");
    LATHE_RETURN_IF_ERROR(CheckResources(st[resource ? "Resource" : "NotResource"]));
  }
  if (st.contains("Condition")) LATHE_RETURN_IF_ERROR(CheckCondition(st["Condition"]));
  return Status::Ok();
}

}  // namespace

size_t PolicyQuotaChars(std::string_view document) {
  size_t n = 0;
  for (unsigned char c : document)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && (c & 0xC0) != 0x80) ++n;
  return n;
}

Status ValidatePolicyDocument(std::string_view document, PolicyKind kind) {
  if (document.empty() || document.size() > kMaxPolicyBytes)
    return ValidationError("1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
                           "Member must have length between 1 and " + std::to_string(kMaxPolicyBytes));
  // policyDocumentType's pattern: tab, LF, CR and U+0020-U+00FF.
  if (FindInvalidUtf8(document) != std::string_view::npos)
    return MalformedPolicyDocument("The policy document is not valid UTF-8.");
  for (size_t i = 0; i < document.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(document[i]);
    bool ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x80) ||
              ((c == 0xC2 || c == 0xC3) && i + 1 < document.size());  // U+0080-U+00FF
    if (c >= 0x80 && ok) ++i;  // the continuation byte of a two-byte U+0080-U+00FF
    if (!ok)
      return ValidationError("1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
                             "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
  }
  if (JsonDepth(document, kMaxPolicyDepth) > kMaxPolicyDepth) return Syntax();
  json doc = json::parse(document.begin(), document.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Syntax();
  for (const auto& [key, value] : doc.items())
    if (key != "Version" && key != "Id" && key != "Statement") return Syntax();
  if (doc.contains("Version")) {
    const json& v = doc["Version"];
    if (!v.is_string() || (v != "2012-10-17" && v != "2008-10-17"))
      return MalformedPolicyDocument("The policy must contain a valid version string");
  }
  if (doc.contains("Id") && !doc["Id"].is_string()) return Syntax();
  if (!doc.contains("Statement")) return MalformedPolicyDocument("Missing required field Statement");
  const json& statements = doc["Statement"];
  std::set<std::string> sids;
  if (statements.is_object()) return CheckStatement(statements, kind, &sids);
  if (!statements.is_array() || statements.empty()) return Syntax();
  for (const json& st : statements) LATHE_RETURN_IF_ERROR(CheckStatement(st, kind, &sids));
  return Status::Ok();
}

}  // namespace lathe::iam
