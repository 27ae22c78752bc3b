// SimulatePrincipalPolicy over the query protocol (simulation.h): ActionNames, ResourceArns,
// PolicyInputList, ContextEntries; results paged by MaxItems and Marker (an index into them).
// Resource-based policies and permissions boundaries are not simulated: asking for them is
// refused rather than answered as if they were absent.
#include "aws/xml.h"
#include "services/iam/errors.h"
#include "services/iam/operations_internal.h"
#include "services/iam/simulation.h"

namespace lathe::iam {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

namespace {

Result<ConditionContext> ContextFromParams(const QueryParams& p) {
  Result<size_t> n = p.ListLength("ContextEntries");
  if (!n.ok()) return n.status();
  if (*n > kMaxSimulationContextEntries)
    return InvalidInput("ContextEntries may hold at most " + std::to_string(kMaxSimulationContextEntries) + " keys");
  ConditionContext context;
  for (size_t i = 1; i <= *n; ++i) {
    const std::string at = "ContextEntries.member." + std::to_string(i);
    const std::string* name = p.Get(at + ".ContextKeyName");
    if (!name || name->empty() || name->size() > 256)
      return InvalidInput(at + ".ContextKeyName must be 5 to 256 characters");
    Result<std::vector<std::string>> values = p.List(at + ".ContextKeyValues");
    if (!values.ok()) return values.status();
    if (const std::string* type = p.Get(at + ".ContextKeyType");
        type && *type != "string" && *type != "stringList" && *type != "numeric" && *type != "numericList" &&
        *type != "boolean" && *type != "booleanList" && *type != "ip" && *type != "ipList" && *type != "binary" &&
        *type != "binaryList" && *type != "date" && *type != "dateList")
      return ValidationError("1 validation error detected: Value '" + type->substr(0, 32) +
                             "' at 'contextEntries." + std::to_string(i) +
                             ".member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value "
                             "set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, "
                             "binary, binaryList, date, dateList]");
    context[ConditionKey(*name)] = std::move(*values);
  }
  return context;
}

void WriteStatement(pugi::xml_node parent, const StatementRef& s) {
  pugi::xml_node m = parent.append_child("member");
  AppendTextElement(m, "SourcePolicyId", s.policy_id);
  AppendTextElement(m, "SourcePolicyType", s.policy_type);
}

}  // namespace

void AddSimulateOperations(IamBackend* iam, const AddOperation& add) {
  add("SimulatePrincipalPolicy", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    for (const char* unsupported : {"ResourcePolicy", "ResourceOwner", "ResourceHandlingOption", "CallerArn"})
      if (p.Has(unsupported))
        return InvalidInput(std::string("lathe does not simulate resource-based policies (") + unsupported +
                            "); see docs/compatibility.md");
    if (Result<size_t> n = p.ListLength("PermissionsBoundaryPolicyInputList"); !n.ok() || *n > 0)
      return InvalidInput("lathe does not simulate permissions boundaries (PermissionsBoundaryPolicyInputList)");
    SimulationInput in;
    in.account = ctx.caller.account;
    Result<std::string> source = Member(p, "PolicySourceArn");
    if (!source.ok()) return source.status();
    in.source_arn = *source;
    Result<std::vector<std::string>> actions = p.List("ActionNames");
    if (!actions.ok()) return actions.status();
    if (actions->empty()) return aws::QueryMissingParameter("ActionNames");
    in.actions = std::move(*actions);
    Result<std::vector<std::string>> resources = p.List("ResourceArns");
    if (!resources.ok()) return resources.status();
    in.resources = std::move(*resources);
    Result<std::vector<std::string>> extra = p.List("PolicyInputList");
    if (!extra.ok()) return extra.status();
    in.extra_policies = std::move(*extra);
    Result<ConditionContext> context = ContextFromParams(p);
    if (!context.ok()) return context.status();
    in.context = std::move(*context);
    Result<std::optional<int64_t>> max_items = p.Int("MaxItems", 1, 1000);
    if (!max_items.ok()) return max_items.status();
    size_t start = 0;
    if (const std::string* marker = p.Get("Marker")) {
      if (marker->empty() || marker->size() > 6 || marker->find_first_not_of("0123456789") != std::string::npos)
        return InvalidInput("Invalid Marker.");
      start = std::stoul(*marker);
    }
    Result<std::vector<SimulationResult>> results = Simulate(iam, in);
    if (!results.ok()) return results.status();
    if (start > results->size()) return InvalidInput("Invalid Marker.");
    const size_t page = max_items->value_or(100);
    const size_t end = std::min(results->size(), start + page);
    pugi::xml_node list = result.append_child("EvaluationResults");
    for (size_t i = start; i < end; ++i) {
      const SimulationResult& r = (*results)[i];
      pugi::xml_node m = list.append_child("member");
      AppendTextElement(m, "EvalActionName", r.action);
      AppendTextElement(m, "EvalResourceName", r.resource);
      AppendTextElement(m, "EvalDecision", std::string(DecisionName(r.evaluation.decision)));
      pugi::xml_node matched = m.append_child("MatchedStatements");
      if (r.evaluation.deciding) WriteStatement(matched, *r.evaluation.deciding);
      pugi::xml_node missing = m.append_child("MissingContextValues");
      for (const std::string& key : r.evaluation.missing_context_keys) AppendTextElement(missing, "member", key);
    }
    AppendTextElement(result, "IsTruncated", end < results->size() ? "true" : "false");
    if (end < results->size()) AppendTextElement(result, "Marker", std::to_string(end));
    return Status::Ok();
  }, true);
}

}  // namespace lathe::iam
