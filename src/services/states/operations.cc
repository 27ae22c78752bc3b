// Step Functions' operation table: X-Amz-Target "AWSStepFunctions.<Op>" -> handler. Each handler
// maps the wire (shapes.h) onto the backend and back; no semantics live here.
#include "services/states/errors.h"
#include "services/states/service.h"
#include "services/states/shapes.h"

namespace lathe::states {
namespace {

using aws::RequestContext;
using nlohmann::json;

Scope ScopeOf(const RequestContext& ctx) { return Scope{ctx.caller.account, ctx.region}; }

#define STATES_ASSIGN(var, expr)                        \
  auto var##_result = (expr);                           \
  if (!var##_result.ok()) return var##_result.status(); \
  auto& var = *var##_result


class StatesService : public aws::JsonTargetService {
 public:
  explicit StatesService(StatesBackend* backend)
      : JsonTargetService(aws::Protocol::kAwsJson10, "AWSStepFunctions"), b_(backend) {
    SetAccessRules(StatesAccess);
    Add("CreateStateMachine", [this](auto& c, auto& in) { return CreateStateMachine(c, in); });
    Add("ValidateStateMachineDefinition", [this](auto&, auto& in) { return Validate(in); });
    Add("DescribeStateMachine", [this](auto& c, auto& in) { return DescribeStateMachine(c, in); });
    Add("ListStateMachines", [this](auto& c, auto& in) { return ListStateMachines(c, in); });
    Add("UpdateStateMachine", [this](auto& c, auto& in) { return UpdateStateMachine(c, in); });
    Add("DeleteStateMachine", [this](auto& c, auto& in) { return DeleteStateMachine(c, in); });
    Add("StartExecution", [this](auto& c, auto& in) { return StartExecution(c, in); });
    Add("DescribeExecution", [this](auto& c, auto& in) { return DescribeExecution(c, in); });
    Add("ListExecutions", [this](auto& c, auto& in) { return ListExecutions(c, in); });
    Add("StopExecution", [this](auto& c, auto& in) { return StopExecution(c, in); });
    Add("GetExecutionHistory", [this](auto& c, auto& in) { return GetExecutionHistory(c, in); });
    Add("DescribeStateMachineForExecution", [this](auto& c, auto& in) { return DescribeForExecution(c, in); });
    Add("TestState", [this](auto& c, auto& in) { return TestState(c, in); });
    Add("SendTaskSuccess", [this](auto&, auto& in) { return SendTaskSuccess(in); });
    Add("SendTaskFailure", [this](auto&, auto& in) { return SendTaskFailure(in); });
    Add("SendTaskHeartbeat", [this](auto&, auto& in) { return SendTaskHeartbeat(in); });
    Add("TagResource", [this](auto& c, auto& in) { return TagResource(c, in); });
    Add("UntagResource", [this](auto& c, auto& in) { return UntagResource(c, in); });
    Add("ListTagsForResource", [this](auto& c, auto& in) { return ListTagsForResource(c, in); });
  }
  std::string_view signing_name() const override { return "states"; }
  // A definition may be 1 MiB, and its JSON escaping in the request makes it larger.
  size_t BodyLimit(const http::Request&) const override { return 3u << 20; }

 private:
  Result<json> CreateStateMachine(const RequestContext& ctx, const json& in) {
    Members m(in);
    CreateStateMachineInput r;
    STATES_ASSIGN(name, m.Required("name"));
    STATES_ASSIGN(definition, m.Required("definition"));
    STATES_ASSIGN(role, m.Required("roleArn"));
    STATES_ASSIGN(type, m.String("type"));
    STATES_ASSIGN(logging, m.OptObject("loggingConfiguration"));
    STATES_ASSIGN(tracing, m.OptObject("tracingConfiguration"));
    STATES_ASSIGN(tags, m.Tags("tags"));
    STATES_ASSIGN(publish, m.Bool("publish", false));
    if (publish) return ValidationError("State machine versions (publish) are not served by lathe.");
    STATES_ASSIGN(encryption, m.OptObject("encryptionConfiguration"));
    (void)encryption;  // lathe's store is local; AWS-owned keys are what AWS uses by default
    r.name = name;
    r.definition = definition;
    r.role_arn = role;
    r.type = type;
    if (logging) r.logging = *logging;
    if (tracing) r.tracing = *tracing;
    r.tags = tags;
    STATES_ASSIGN(machine, b_->CreateStateMachine(ScopeOf(ctx), r));
    return json{{"stateMachineArn", machine.arn}, {"creationDate", Seconds(machine.created_ms)}};
  }

  Result<json> Validate(const json& in) {
    Members m(in);
    STATES_ASSIGN(definition, m.Required("definition"));
    STATES_ASSIGN(type, m.String("type"));
    STATES_ASSIGN(severity, m.String("severity"));
    STATES_ASSIGN(max, m.OptInt("maxResults"));
    if (max && (*max < 0 || *max > 100))
      return ConstraintViolation(std::to_string(*max), "maxResults", "Member must have value between 0 and 100");
    STATES_ASSIGN(result,
                  b_->ValidateStateMachineDefinition(definition, type, severity, max ? static_cast<size_t>(*max) : 0));
    json out = {{"result", result.result}, {"diagnostics", json::array()}, {"truncated", result.truncated}};
    for (const asl::Diagnostic& d : result.diagnostics) {
      json item = {{"severity", d.severity}, {"code", d.code}, {"message", d.message}};
      if (!d.location.empty()) item["location"] = d.location;
      out["diagnostics"].push_back(std::move(item));
    }
    return out;
  }

  Result<json> DescribeStateMachine(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("stateMachineArn"));
    STATES_ASSIGN(machine, b_->DescribeStateMachine(ScopeOf(ctx), arn));
    return MachineToWire(machine);
  }

  Result<json> ListStateMachines(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(page, m.Paging(1024));
    STATES_ASSIGN(machines, b_->ListStateMachines(ScopeOf(ctx), page));
    json out = {{"stateMachines", json::array()}};
    for (const StateMachineInfo& s : machines.items)
      out["stateMachines"].push_back(
          {{"stateMachineArn", s.arn}, {"name", s.name}, {"type", s.type}, {"creationDate", Seconds(s.created_ms)}});
    if (!machines.next_token.empty()) out["nextToken"] = machines.next_token;
    return out;
  }

  Result<json> UpdateStateMachine(const RequestContext& ctx, const json& in) {
    Members m(in);
    UpdateStateMachineInput r;
    STATES_ASSIGN(arn, m.Required("stateMachineArn"));
    STATES_ASSIGN(definition, m.OptString("definition"));
    STATES_ASSIGN(role, m.OptString("roleArn"));
    STATES_ASSIGN(logging, m.OptObject("loggingConfiguration"));
    STATES_ASSIGN(tracing, m.OptObject("tracingConfiguration"));
    STATES_ASSIGN(publish, m.Bool("publish", false));
    if (publish) return ValidationError("State machine versions (publish) are not served by lathe.");
    r.arn = arn;
    r.definition = definition;
    r.role_arn = role;
    r.logging = logging;
    r.tracing = tracing;
    STATES_ASSIGN(machine, b_->UpdateStateMachine(ScopeOf(ctx), r));
    return json{{"updateDate", Seconds(machine.updated_ms)}, {"revisionId", machine.revision_id}};
  }

  Result<json> DeleteStateMachine(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("stateMachineArn"));
    if (Status s = b_->DeleteStateMachine(ScopeOf(ctx), arn); !s.ok()) return s;
    return json::object();
  }

  Result<json> StartExecution(const RequestContext& ctx, const json& in) {
    Members m(in);
    StartExecutionInput r;
    STATES_ASSIGN(arn, m.Required("stateMachineArn"));
    STATES_ASSIGN(name, m.OptString("name"));
    STATES_ASSIGN(input, m.OptString("input"));
    STATES_ASSIGN(trace, m.String("traceHeader"));
    if (name && name->empty()) return ConstraintViolation("", "name", "Member must have length greater than or equal to 1");
    r.state_machine_arn = arn;
    r.name = name.value_or("");
    r.input = input;
    r.trace_header = trace;
    STATES_ASSIGN(started, b_->StartExecution(ScopeOf(ctx), r));
    return json{{"executionArn", started.execution_arn}, {"startDate", Seconds(started.start_ms)}};
  }

  Result<json> DescribeExecution(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("executionArn"));
    STATES_ASSIGN(included, m.String("includedData"));
    if (!included.empty() && included != "ALL_DATA" && included != "METADATA_ONLY")
      return ConstraintViolation(included, "includedData", "Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]");
    STATES_ASSIGN(execution, b_->DescribeExecution(ScopeOf(ctx), arn));
    return ExecutionToWire(execution, included != "METADATA_ONLY");
  }

  Result<json> ListExecutions(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.String("stateMachineArn"));
    STATES_ASSIGN(status, m.String("statusFilter"));
    STATES_ASSIGN(map_run, m.String("mapRunArn"));
    if (!map_run.empty()) return ValidationError("Map Runs (distributed Map) are not served by lathe.");
    STATES_ASSIGN(page, m.Paging(3096));
    STATES_ASSIGN(executions, b_->ListExecutions(ScopeOf(ctx), arn, status, page));
    json out = {{"executions", json::array()}};
    for (const store::ExecutionRecord& e : executions.items) out["executions"].push_back(ExecutionListItem(e));
    if (!executions.next_token.empty()) out["nextToken"] = executions.next_token;
    return out;
  }

  Result<json> StopExecution(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("executionArn"));
    STATES_ASSIGN(error, m.String("error"));
    STATES_ASSIGN(cause, m.String("cause"));
    STATES_ASSIGN(stopped, b_->StopExecution(ScopeOf(ctx), arn, error, cause));
    return json{{"stopDate", Seconds(stopped)}};
  }

  Result<json> GetExecutionHistory(const RequestContext& ctx, const json& in) {
    Members m(in);
    HistoryRequest r;
    STATES_ASSIGN(arn, m.Required("executionArn"));
    STATES_ASSIGN(page, m.Paging(1024));
    STATES_ASSIGN(reverse, m.Bool("reverseOrder", false));
    STATES_ASSIGN(data, m.Bool("includeExecutionData", true));
    r.page = page;
    r.reverse = reverse;
    r.include_data = data;
    STATES_ASSIGN(events, b_->GetExecutionHistory(ScopeOf(ctx), arn, r));
    json out = {{"events", json::array()}};
    for (const store::HistoryRecord& e : events.items) out["events"].push_back(HistoryEventToWire(e, data));
    if (!events.next_token.empty()) out["nextToken"] = events.next_token;
    return out;
  }

  Result<json> DescribeForExecution(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("executionArn"));
    STATES_ASSIGN(machine, b_->DescribeStateMachineForExecution(ScopeOf(ctx), arn));
    json out = MachineToWire(machine);
    out.erase("status");
    out.erase("type");
    out.erase("creationDate");
    out["updateDate"] = Seconds(machine.updated_ms);
    return out;
  }

  Result<json> TestState(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(definition, m.Required("definition"));
    STATES_ASSIGN(input, m.String("input"));
    STATES_ASSIGN(role, m.String("roleArn"));
    STATES_ASSIGN(level, m.String("inspectionLevel"));
    STATES_ASSIGN(state_name, m.String("stateName"));
    if (!level.empty() && level != "INFO" && level != "DEBUG" && level != "TRACE")
      return ConstraintViolation(level, "inspectionLevel", "Member must satisfy enum value set: [INFO, DEBUG, TRACE]");
    (void)role;
    STATES_ASSIGN(result, b_->TestState(ScopeOf(ctx), definition, input, state_name));
    json out = {{"status", result.status}};
    if (!result.output.empty()) out["output"] = result.output;
    if (!result.error.empty()) out["error"] = result.error;
    if (!result.cause.empty()) out["cause"] = result.cause;
    if (!result.next_state.empty()) out["nextState"] = result.next_state;
    if (level == "DEBUG" || level == "TRACE") out["inspectionData"] = result.inspection_data;
    return out;
  }

  Result<json> SendTaskSuccess(const json& in) {
    Members m(in);
    STATES_ASSIGN(token, m.Required("taskToken"));
    STATES_ASSIGN(output, m.Required("output"));
    if (Status s = b_->SendTaskSuccess(token, output); !s.ok()) return s;
    return json::object();
  }

  Result<json> SendTaskFailure(const json& in) {
    Members m(in);
    STATES_ASSIGN(token, m.Required("taskToken"));
    STATES_ASSIGN(error, m.String("error"));
    STATES_ASSIGN(cause, m.String("cause"));
    if (Status s = b_->SendTaskFailure(token, error, cause); !s.ok()) return s;
    return json::object();
  }

  Result<json> SendTaskHeartbeat(const json& in) {
    Members m(in);
    STATES_ASSIGN(token, m.Required("taskToken"));
    if (Status s = b_->SendTaskHeartbeat(token); !s.ok()) return s;
    return json::object();
  }

  Result<json> TagResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("resourceArn"));
    if (!in.contains("tags") || in["tags"].is_null())
      return ValidationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
                             "Member must not be null");
    STATES_ASSIGN(tags, m.Tags("tags"));
    if (Status s = b_->TagResource(ScopeOf(ctx), arn, tags); !s.ok()) return s;
    return json::object();
  }

  Result<json> UntagResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("resourceArn"));
    if (!in.contains("tagKeys") || in["tagKeys"].is_null())
      return ValidationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
                             "Member must not be null");
    STATES_ASSIGN(keys, m.Strings("tagKeys"));
    if (Status s = b_->UntagResource(ScopeOf(ctx), arn, keys); !s.ok()) return s;
    return json::object();
  }

  Result<json> ListTagsForResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    STATES_ASSIGN(arn, m.Required("resourceArn"));
    STATES_ASSIGN(tags, b_->ListTagsForResource(ScopeOf(ctx), arn));
    json out = {{"tags", json::array()}};
    for (const Tag& t : tags) out["tags"].push_back({{"key", t.key}, {"value", t.value}});
    return out;
  }

  StatesBackend* b_;
};

}  // namespace

std::unique_ptr<aws::JsonTargetService> NewStatesService(StatesBackend* backend) {
  return std::make_unique<StatesService>(backend);
}

}  // namespace lathe::states
