// One state of each type: the fields it accepts (any other is "not supported", as AWS says),
// their forms and ranges, and the parsed State. Transitions are checked by the machine around it.
#include <map>
#include <set>

#include "asl/definition_internal.h"
#include "asl/intrinsics.h"
#include "asl/timestamp.h"

namespace lathe::asl::internal {
namespace {

const std::map<std::string, StateType>& TypesByName() {
  static const auto* kTypes = new std::map<std::string, StateType>{
      {"Pass", StateType::kPass},         {"Task", StateType::kTask},         {"Choice", StateType::kChoice},
      {"Wait", StateType::kWait},         {"Succeed", StateType::kSucceed},   {"Fail", StateType::kFail},
      {"Parallel", StateType::kParallel}, {"Map", StateType::kMap}};
  return *kTypes;
}

// The fields AWS accepts per state type in JSONPath mode, less JSONata's and variables' (lathe
// runs JSONPath only; docs/compatibility.md). Credentials is accepted and has no effect here.
const std::set<std::string>& Allowed(StateType type) {
  static const std::set<std::string> kCommon = {"Type", "Comment", "QueryLanguage"};
  auto with = [](std::initializer_list<const char*> more) {
    std::set<std::string> s = kCommon;
    for (const char* f : more) s.insert(f);
    return s;
  };
  static const std::map<StateType, std::set<std::string>> kAllowed = {
      {StateType::kPass, with({"InputPath", "OutputPath", "Result", "ResultPath", "Parameters", "Next", "End"})},
      {StateType::kTask,
       with({"InputPath", "OutputPath", "ResultPath", "Parameters", "Resource", "Credentials", "ResultSelector", "Retry",
             "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Next",
             "End"})},
      {StateType::kWait,
       with({"InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Next", "End"})},
      {StateType::kParallel, with({"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry",
                                   "Catch", "Branches", "Next", "End"})},
      {StateType::kMap,
       with({"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch",
             "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath",
             "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount",
             "ToleratedFailureCountPath", "Label", "Next", "End"})},
      {StateType::kChoice, with({"InputPath", "OutputPath", "Choices", "Default"})},
      {StateType::kSucceed, with({"InputPath", "OutputPath"})},
      {StateType::kFail, with({"Error", "Cause", "ErrorPath", "CausePath"})},
  };
  return kAllowed.at(type);
}

// Whether a Pass Result has a ".$" key anywhere (bounded by the definition's nesting).
bool HasDollarKey(const json& value, int depth) {
  if (depth > kMaxDefinitionDepth) return false;
  if (value.is_array()) {
    for (const json& item : value)
      if (HasDollarKey(item, depth + 1)) return true;
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      if ((it.key().size() >= 2 && it.key().substr(it.key().size() - 2) == ".$") || HasDollarKey(*it, depth + 1))
        return true;
  }
  return false;
}

// Next or End: true, exactly one (Pass, Task, Wait, Parallel, Map).
void Transition(Checker& c, const json& raw, const std::string& loc, State& s) {
  s.next = c.Target(raw, "Next", loc);
  s.end = c.Bool(raw, "End", loc).value_or(false);
  bool has_next = raw.contains("Next");
  if (has_next && s.end)
    c.Schema("There should only be one of the following fields: [Next, End]", loc);
  else if (!has_next && !s.end)
    c.Schema("This object should have only one of the following fields: [Next, End]", loc);
}

void QueryLanguage(Checker& c, const json& raw, const std::string& loc) {
  const std::string* ql = c.String(raw, "QueryLanguage", loc);
  if (!ql || *ql == "JSONPath") return;
  if (*ql == "JSONata")
    c.Schema("QueryLanguage 'JSONata' is not supported by lathe (JSONPath only)", Child(loc, "QueryLanguage"));
  else
    c.Schema("Value should be one of the following: [JSONPath, JSONata]", Child(loc, "QueryLanguage"));
}

// Integrations that never offer .sync / .waitForTaskToken (AWS's optimized-integrations table).
bool PatternOffered(const TaskResource& r) {
  static const std::set<std::string> kNoSync = {"lambda", "sns", "sqs", "dynamodb", "events", "apigateway"};
  static const std::set<std::string> kNoToken = {"athena", "batch", "codebuild", "glue", "sagemaker", "dynamodb"};
  if (r.service == "states" && r.action == "activity") return false;
  if (r.pattern == "sync:2") return r.service == "states" && r.action == "startExecution";
  if (r.pattern == "sync") return !kNoSync.count(r.service) && r.service.rfind("aws-sdk:", 0) != 0;
  return !kNoToken.count(r.service);
}

void ParseTask(Checker& c, const json& raw, const std::string& loc, State& s) {
  c.Require(raw, {"Resource"}, loc);
  if (const std::string* resource = c.String(raw, "Resource", loc)) {
    s.resource = *resource;
    std::string where = Child(loc, "Resource");
    if (resource->compare(0, 4, "arn:") != 0) {
      c.Schema("Value is not a valid resource ARN", where);
    } else if (auto parsed = ParseTaskResource(*resource); !parsed.ok()) {
      c.Error("INVALID_RESOURCE", "The resource provided " + resource->substr(0, 2048) + " is not recognized", where);
    } else if (parsed->pattern != "" && !PatternOffered(*parsed)) {
      // AWS refuses an integration pattern the service does not offer (no lambda:invoke.sync).
      c.Schema("The resource provided " + *resource + " is not recognized", where);
    }
  }
  c.Exclusive(raw, "TimeoutSeconds", "TimeoutSecondsPath", loc);
  c.Exclusive(raw, "HeartbeatSeconds", "HeartbeatSecondsPath", loc);
  s.timeout_seconds = c.Seconds(raw, "TimeoutSeconds", loc, 1, "a positive integer");
  s.heartbeat_seconds = c.Seconds(raw, "HeartbeatSeconds", loc, 1, "a positive integer");
  s.timeout_seconds_path = c.Path(raw, "TimeoutSecondsPath", loc, true);
  s.heartbeat_seconds_path = c.Path(raw, "HeartbeatSecondsPath", loc, true);
  if (s.timeout_seconds && s.heartbeat_seconds && *s.heartbeat_seconds >= *s.timeout_seconds)
    c.Schema("The value for the field 'HeartbeatSeconds' must be smaller than the value for the field 'TimeoutSeconds'",
             Child(loc, "HeartbeatSeconds"));
  c.Object(raw, "Credentials", loc);
}

void ParseWait(Checker& c, const json& raw, const std::string& loc, State& s) {
  int given = 0;
  for (const char* f : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) given += raw.contains(f);
  if (given > 1)
    c.Schema("There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]", loc);
  if (given == 0)
    c.Schema("This object should have only one of the following fields: [SecondsPath, Seconds, TimestampPath, "
             "Timestamp]",
             loc);
  if (auto seconds = c.Seconds(raw, "Seconds", loc, 0, "a non-negative integer")) s.seconds = double(*seconds);
  if (const std::string* ts = c.String(raw, "Timestamp", loc)) {
    if (ParseTimestamp(*ts))
      s.timestamp = *ts;
    else
      c.Schema("String does not match RFC3339 timestamp", Child(loc, "Timestamp"));
  }
  s.seconds_path = c.Path(raw, "SecondsPath", loc, true);
  s.timestamp_path = c.Path(raw, "TimestampPath", loc, true);
}

// ErrorPath / CausePath: a reference path, or one of the intrinsics AWS lists for them (those
// that return a string).
void ParseFailPath(Checker& c, const json& raw, const char* key, const std::string& loc,
                   std::optional<JsonPath>& path, std::optional<Intrinsic>& intrinsic) {
  auto it = raw.find(key);
  if (it == raw.end() || !it->is_string() || !LooksLikeIntrinsic(it->get_ref<const std::string&>())) {
    path = c.Path(raw, key, loc, true);
    return;
  }
  const std::string& text = it->get_ref<const std::string&>();
  static const std::set<std::string> kAllowed = {"States.Format",       "States.JsonToString", "States.ArrayGetItem",
                                                 "States.Base64Encode", "States.Base64Decode", "States.Hash",
                                                 "States.UUID"};
  const std::string function = text.substr(0, text.find('('));
  auto parsed = Intrinsic::Parse(text);
  if (!kAllowed.count(function) || !parsed.ok()) {
    c.Schema(std::string("The value for the field '") + key +
                 "' must be a valid reference path or a call of one of the intrinsic functions States.Format, "
                 "States.JsonToString, States.ArrayGetItem, States.Base64Encode, States.Base64Decode, States.Hash "
                 "and States.UUID",
             Child(loc, key));
    return;
  }
  intrinsic = std::move(parsed).value();
}

void ParseFail(Checker& c, const json& raw, const std::string& loc, State& s) {
  c.Exclusive(raw, "Error", "ErrorPath", loc);
  c.Exclusive(raw, "Cause", "CausePath", loc);
  for (const char* field : {"Error", "Cause"}) {
    const std::string* v = c.String(raw, field, loc);
    if (!v) continue;
    (field[0] == 'E' ? s.error : s.cause) = *v;
    if (LooksLikePath(*v))
      c.Warn("NO_PATH",
             std::string("The value for the field '") + field + "' looks like a path, but the field name does not end "
                 "with 'Path'",
             Child(loc, field));
  }
  ParseFailPath(c, raw, "ErrorPath", loc, s.error_path, s.error_intrinsic);
  ParseFailPath(c, raw, "CausePath", loc, s.cause_path, s.cause_intrinsic);
}

void ParseChoice(Checker& c, const json& raw, const std::string& loc, State& s) {
  c.Require(raw, {"Choices"}, loc);
  if (const json* choices = c.Array(raw, "Choices", loc)) {
    std::string base = Child(loc, "Choices");
    if (choices->empty()) c.Schema("Value cannot be empty", base);
    for (size_t i = 0; i < choices->size(); ++i) s.choices.push_back(c.Rule((*choices)[i], Element(base, i), true, 0));
  }
  s.default_next = c.Target(raw, "Default", loc);
}

void ParseParallel(Checker& c, const json& raw, const std::string& loc, State& s) {
  c.Require(raw, {"Branches"}, loc);
  const json* branches = c.Array(raw, "Branches", loc);
  if (!branches) return;
  std::string base = Child(loc, "Branches");
  if (branches->empty()) c.Schema("Value cannot be empty", base);
  for (size_t i = 0; i < branches->size(); ++i) {
    std::string where = Element(base, i);
    if (!(*branches)[i].is_object()) {
      c.Schema("The value for the field 'Branches' must be an ARRAY of OBJECTs", where);
      continue;
    }
    s.branches.push_back(ParseMachine(c, (*branches)[i], where, false));
  }
}

void ParseMap(Checker& c, const json& raw, const std::string& loc, State& s) {
  bool processor = raw.contains("ItemProcessor"), iterator = raw.contains("Iterator");
  if (processor && iterator)
    c.Schema("There should only be one of the following fields: [ItemProcessor, Iterator]", loc);
  else if (!processor && !iterator)
    c.Schema("This object should have only one of the following fields: [ItemProcessor, Iterator]", loc);
  const char* key = processor ? "ItemProcessor" : "Iterator";
  if (const json* body = c.Object(raw, key, loc)) {
    std::string where = Child(loc, key);
    if (const json* config = c.Object(*body, "ProcessorConfig", where)) {
      std::string cfg = Child(where, "ProcessorConfig");
      c.OnlyFields(*config, {"Mode", "ExecutionType"}, cfg);
      if (const std::string* mode = c.String(*config, "Mode", cfg)) {
        if (*mode == "DISTRIBUTED")
          c.Schema("Map Mode 'DISTRIBUTED' is not supported by lathe (INLINE only)", Child(cfg, "Mode"));
        else if (*mode != "INLINE")
          c.Schema("Value should be one of the following: [INLINE, DISTRIBUTED]", Child(cfg, "Mode"));
      }
      c.String(*config, "ExecutionType", cfg);
    }
    s.item_processor = ParseMachine(c, *body, where, false);
  }
  s.items_path = c.Path(raw, "ItemsPath", loc, true);
  // Parameters is the legacy spelling of ItemSelector: it shapes each item, not the Map's input.
  if (c.Exclusive(raw, "ItemSelector", "Parameters", loc))
    s.item_selector = c.Template(raw, raw.contains("ItemSelector") ? "ItemSelector" : "Parameters", loc);
  c.Exclusive(raw, "MaxConcurrency", "MaxConcurrencyPath", loc);
  c.Exclusive(raw, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", loc);
  c.Exclusive(raw, "ToleratedFailureCount", "ToleratedFailureCountPath", loc);
  s.max_concurrency = c.Integer(raw, "MaxConcurrency", loc, 0, "a non-negative integer").value_or(0);
  s.max_concurrency_path = c.Path(raw, "MaxConcurrencyPath", loc, true);
  if (auto pct = c.Number(raw, "ToleratedFailurePercentage", loc)) {
    if (*pct < 0 || *pct > 100)
      c.Schema("The value for the field 'ToleratedFailurePercentage' must be between 0 and 100",
               Child(loc, "ToleratedFailurePercentage"));
    else
      s.tolerated_failure_percentage = *pct;
  }
  s.tolerated_failure_count = c.Integer(raw, "ToleratedFailureCount", loc, 0, "a non-negative integer");
  s.tolerated_failure_percentage_path = c.Path(raw, "ToleratedFailurePercentagePath", loc, true);
  s.tolerated_failure_count_path = c.Path(raw, "ToleratedFailureCountPath", loc, true);
  if (const std::string* label = c.String(raw, "Label", loc); label && label->size() > 40)
    c.Error("INVALID_LABEL_NAME", "Label exceeds the 40-character limit allowed by the service", Child(loc, "Label"));
}

}  // namespace

State ParseState(Checker& c, const std::string& name, const json& raw, const std::string& loc) {
  State s;
  s.name = name;
  if (!raw.is_object()) {
    c.Schema("The value for the field '" + name.substr(0, 100) + "' must be an OBJECT", loc);
    return s;
  }
  c.Require(raw, {"Type"}, loc);
  const std::string* type = c.String(raw, "Type", loc);
  if (!type) return s;
  auto it = TypesByName().find(*type);
  if (it == TypesByName().end()) {
    c.Schema("The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
             Child(loc, "Type"));
    return s;
  }
  s.type = it->second;
  c.OnlyFields(raw, Allowed(s.type), loc);
  QueryLanguage(c, raw, loc);
  if (const std::string* comment = c.String(raw, "Comment", loc)) s.comment = *comment;

  bool io = s.type != StateType::kFail;
  bool result = s.type == StateType::kPass || s.type == StateType::kTask || s.type == StateType::kParallel ||
                s.type == StateType::kMap;
  if (io) {
    s.input_path = c.PathOrNull(raw, "InputPath", loc, false);
    s.output_path = c.PathOrNull(raw, "OutputPath", loc, false);
  }
  if (result) s.result_path = c.PathOrNull(raw, "ResultPath", loc, true);
  if (result || s.type == StateType::kWait) Transition(c, raw, loc, s);
  bool recovers = s.type == StateType::kTask || s.type == StateType::kParallel || s.type == StateType::kMap;
  if (recovers) {
    s.result_selector = c.Template(raw, "ResultSelector", loc);
    s.retry = c.Retry(raw, loc);
    s.catches = c.Catch(raw, loc);
  }
  if (s.type == StateType::kPass || s.type == StateType::kTask || s.type == StateType::kParallel)
    s.parameters = c.Template(raw, "Parameters", loc);

  switch (s.type) {
    case StateType::kPass:
      if (raw.contains("Result")) {
        s.result = raw["Result"];
        if (HasDollarKey(raw["Result"], 0))
          c.Warn("PASS_RESULT_IS_STATIC",
                 "The Result of a Pass state is static: its '.$' keys are not resolved (use Parameters)",
                 Child(loc, "Result"));
      }
      break;
    case StateType::kTask: ParseTask(c, raw, loc, s); break;
    case StateType::kChoice: ParseChoice(c, raw, loc, s); break;
    case StateType::kWait: ParseWait(c, raw, loc, s); break;
    case StateType::kFail: ParseFail(c, raw, loc, s); break;
    case StateType::kParallel: ParseParallel(c, raw, loc, s); break;
    case StateType::kMap: ParseMap(c, raw, loc, s); break;
    case StateType::kSucceed: break;
  }
  return s;
}

}  // namespace lathe::asl::internal
