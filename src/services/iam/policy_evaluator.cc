#include "services/iam/policy_evaluator.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "services/iam/errors.h"
#include "services/iam/policy_document.h"
#include "services/iam/wildcard.h"

namespace lathe::iam {
namespace {

using nlohmann::json;


std::vector<std::string> Strings(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  std::vector<std::string> out;
  for (const json& e : v) out.push_back(e.get<std::string>());
  return out;
}

// Condition values as IAM reads them: JSON booleans and numbers are their text.
std::string ScalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

Result<PolicyStatement> ParseStatement(const json& st, size_t index) {
  PolicyStatement out;
  out.index = index;
  out.sid = st.value("Sid", "");
  out.allow = st.at("Effect") == "Allow";
  out.not_action = st.contains("NotAction");
  out.actions = Strings(st.at(out.not_action ? "NotAction" : "Action"));
  out.not_resource = st.contains("NotResource");
  out.resources = Strings(st.at(out.not_resource ? "NotResource" : "Resource"));
  if (st.contains("Condition")) {
    for (const auto& [name, block] : st["Condition"].items()) {
      std::optional<ConditionOperator> op = ParseConditionOperator(name);
      if (!op) return MalformedPolicyDocument("Invalid Condition type : " + name.substr(0, 64));
      for (const auto& [key, values] : block.items()) {
        ConditionClause clause{*op, ConditionKey(key), {}};
        if (values.is_array())
          for (const json& v : values) clause.values.push_back(ScalarText(v));
        else
          clause.values.push_back(ScalarText(values));
        out.conditions.push_back(std::move(clause));
      }
    }
  }
  return out;
}

bool ActionApplies(const PolicyStatement& st, std::string_view action) {
  bool any = false;
  for (const std::string& pattern : st.actions)
    if (WildcardMatch(pattern, action, /*ignore_case=*/true)) {
      any = true;
      break;
    }
  return any != st.not_action;
}

bool ResourceApplies(const PolicyStatement& st, bool variables, const AccessQuery& query) {
  bool any = false;
  for (const std::string& pattern : st.resources) {
    if (variables && pattern.find("${") != std::string::npos) {
      std::optional<std::string> expanded = SubstituteVariables(pattern, query.context);
      // Unresolvable: a Resource pattern matches nothing; a NotResource one must not make the
      // statement apply to everything, so the statement is left out.
      if (!expanded && st.not_resource) return false;
      any = expanded && ArnMatch(*expanded, query.resource);
    } else {
      any = ArnMatch(pattern, query.resource);
    }
    if (any) break;
  }
  return any != st.not_resource;
}

bool ConditionsHold(const PolicyStatement& st, bool variables, const ConditionContext& context) {
  for (const ConditionClause& clause : st.conditions) {
    const bool textual = clause.op.family == ConditionFamily::kString ||
                         clause.op.family == ConditionFamily::kStringIgnoreCase ||
                         clause.op.family == ConditionFamily::kStringLike || clause.op.family == ConditionFamily::kArn;
    bool holds;
    if (variables && textual) {
      std::vector<std::string> values;
      for (const std::string& v : clause.values) {
        if (v.find("${") == std::string::npos) {
          values.push_back(v);
        } else if (std::optional<std::string> expanded = SubstituteVariables(v, context)) {
          values.push_back(std::move(*expanded));
        } else if (clause.op.negated) {
          return false;  // a negated operator with a value left out holds too widely: leave it out
        }
      }
      holds = ConditionHolds(clause, values, context);
    } else {
      holds = ConditionHolds(clause, clause.values, context);
    }
    if (!holds) return false;
  }
  return true;
}

}  // namespace

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllowed: return "allowed";
    case Decision::kExplicitDeny: return "explicitDeny";
    case Decision::kImplicitDeny: return "implicitDeny";
  }
  return "implicitDeny";
}

std::string StatementRef::Describe() const {
  return policy_id + " " + (sid.empty() ? "statement " + std::to_string(index + 1) : "Sid " + sid);
}

Result<Policy> ParsePolicy(std::string_view document, std::string id, std::string type) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyDocument(document, PolicyKind::kIdentity));
  json doc = json::parse(document.begin(), document.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MalformedPolicyDocument("Syntax errors in policy.");
  Policy policy;
  policy.id = std::move(id);
  policy.type = std::move(type);
  policy.variables = doc.value("Version", "") == "2012-10-17";
  const json& statements = doc["Statement"];
  try {
    if (statements.is_object()) {
      Result<PolicyStatement> st = ParseStatement(statements, 0);
      if (!st.ok()) return st.status();
      policy.statements.push_back(std::move(*st));
    } else {
      for (size_t i = 0; i < statements.size(); ++i) {
        Result<PolicyStatement> st = ParseStatement(statements[i], i);
        if (!st.ok()) return st.status();
        policy.statements.push_back(std::move(*st));
      }
    }
  } catch (const json::exception&) {  // the validator admitted it; a shape it missed is still refused
    return MalformedPolicyDocument("Syntax errors in policy.");
  }
  return policy;
}

std::optional<std::string> SubstituteVariables(std::string_view text, const ConditionContext& context) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) {  // no variable after all: literal text
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    auto it = context.find(ConditionKey(text.substr(open + 2, close - open - 2)));
    if (it == context.end() || it->second.size() != 1) return std::nullopt;
    const std::string& value = it->second.front();
    if (value.find_first_of("*?") != std::string::npos) return std::nullopt;
    out.append(value);
    i = close + 1;
  }
  return out;
}

Evaluation Evaluate(const std::vector<Policy>& policies, const AccessQuery& query) {
  Evaluation result;
  std::optional<StatementRef> first_allow, first_deny;
  for (const Policy& policy : policies) {
    for (const PolicyStatement& st : policy.statements) {
      if (!ActionApplies(st, query.action) || !ResourceApplies(st, policy.variables, query)) continue;
      for (const ConditionClause& clause : st.conditions)
        if (!query.context.count(clause.key)) result.missing_context_keys.push_back(clause.key);
      if (!ConditionsHold(st, policy.variables, query.context)) continue;
      StatementRef ref{policy.id, policy.type, st.sid, st.index, st.allow};
      if (st.allow && !first_allow) first_allow = ref;
      if (!st.allow && !first_deny) first_deny = ref;
      result.matched.push_back(std::move(ref));
    }
  }
  std::sort(result.missing_context_keys.begin(), result.missing_context_keys.end());
  result.missing_context_keys.erase(
      std::unique(result.missing_context_keys.begin(), result.missing_context_keys.end()),
      result.missing_context_keys.end());
  if (first_deny) {
    result.decision = Decision::kExplicitDeny;
    result.deciding = first_deny;
  } else if (first_allow) {
    result.decision = Decision::kAllowed;
    result.deciding = first_allow;
  }
  return result;
}

}  // namespace lathe::iam
