// ParseDefinition: the automation tutorial's state machine parses into the right tree, and each
// diagnostic code comes back with AWS's message and location for the definition that earns it.
#include "asl/definition.h"

#include <gtest/gtest.h>

#include <string>
#include "test_util.h"

namespace lathe::asl {
namespace {

using nlohmann::json;

std::string Describe(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += "  " + d.code + ": " + d.message + " at " + d.location + "\n";
  return out;
}

// Whether `parsed` has the diagnostic (an empty message matches any).
::testing::AssertionResult Has(const ParsedDefinition& parsed, const std::string& code, const std::string& message,
                               const std::string& location) {
  for (const Diagnostic& d : parsed.diagnostics)
    if (d.code == code && (message.empty() || d.message == message) && d.location == location)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no " << code << " '" << message << "' at '" << location << "' among:\n"
                                       << Describe(parsed.diagnostics);
}

ParsedDefinition Parse(const json& definition) { return ParseDefinition(definition.dump()); }

// A one-state machine around `state` (named A).
ParsedDefinition ParseState(const json& state) { return Parse({{"StartAt", "A"}, {"States", {{"A", state}}}}); }

const char* kSchema = "SCHEMA_VALIDATION_FAILED";


TEST(DefinitionTest, TheTutorialsStateMachineParsesIntoItsTree) {
  std::string text = lathe::testing::TutorialStateMachineDefinition();
  if (text.empty())
    GTEST_SKIP() << "the automation guide is not at " << LATHE_SHARED_DIR
                 << "/seeds/bedrock-fine-tuning-automation-guide.md (set LATHE_SHARED_DIR)";
  ParsedDefinition parsed = ParseDefinition(text);
  ASSERT_TRUE(parsed.diagnostics.empty()) << Describe(parsed.diagnostics);
  ASSERT_NE(parsed.machine, nullptr);
  const StateMachine& m = *parsed.machine;
  EXPECT_EQ(m.comment, "Bedrock Fine-Tuning Automation Pipeline");
  EXPECT_EQ(m.start_at, "ValidateTrainingData");
  EXPECT_EQ(m.states.size(), 11u);

  const State* validate = m.Find("ValidateTrainingData");
  ASSERT_NE(validate, nullptr);
  EXPECT_EQ(validate->type, StateType::kTask);
  EXPECT_EQ(validate->resource, "arn:aws:states:::lambda:invoke");
  EXPECT_EQ(validate->next, "CheckValidation");
  EXPECT_FALSE(validate->end);
  EXPECT_EQ(validate->result_path.kind, PathField::Kind::kPath);
  EXPECT_EQ(validate->result_path.path.text(), "$.validation");
  ASSERT_TRUE(validate->parameters.has_value());
  EXPECT_EQ(validate->parameters->source()["FunctionName"], "validate-training-data");
  EXPECT_EQ(validate->parameters->source()["Payload"]["bucket.$"], "$.bucket");
  ASSERT_EQ(validate->catches.size(), 1u);
  EXPECT_EQ(validate->catches[0].error_equals, std::vector<std::string>{"States.ALL"});
  EXPECT_EQ(validate->catches[0].next, "NotifyFailure");
  EXPECT_EQ(validate->catches[0].result_path.path.text(), "$.error");
  EXPECT_TRUE(validate->retry.empty());

  const State* check = m.Find("CheckValidation");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->type, StateType::kChoice);
  EXPECT_EQ(check->default_next, "NotifyValidationFailed");
  ASSERT_EQ(check->choices.size(), 1u);
  EXPECT_EQ(check->choices[0].op, "BooleanEquals");
  EXPECT_EQ(check->choices[0].variable.text(), "$.validation.Payload.isValid");
  EXPECT_EQ(check->choices[0].operand, true);
  EXPECT_EQ(check->choices[0].next, "StartFineTuningJob");

  const State* wait = m.Find("WaitForTraining");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->type, StateType::kWait);
  EXPECT_EQ(wait->seconds, 300.0);
  EXPECT_EQ(wait->next, "CheckTrainingStatus");

  const State* complete = m.Find("IsTrainingComplete");
  ASSERT_NE(complete, nullptr);
  ASSERT_EQ(complete->choices.size(), 2u);
  EXPECT_EQ(complete->choices[0].op, "StringEquals");
  EXPECT_EQ(complete->choices[0].operand, "Completed");
  EXPECT_EQ(complete->choices[1].operand, "Failed");
  EXPECT_EQ(complete->choices[1].next, "NotifyFailure");
  EXPECT_EQ(complete->default_next, "WaitForTraining");

  for (const char* name : {"NotifySuccess", "NotifyValidationFailed", "NotifyFailure"}) {
    const State* notify = m.Find(name);
    ASSERT_NE(notify, nullptr) << name;
    EXPECT_TRUE(notify->end) << name;
    auto resource = ParseTaskResource(notify->resource);
    ASSERT_TRUE(resource.ok());
    EXPECT_EQ(resource->service, "sns");
    EXPECT_EQ(resource->action, "publish");
  }
  EXPECT_EQ(m.Find("NotifySuccess")->parameters->source()["Message.$"].get<std::string>().rfind("States.Format(", 0),
            0u);
  EXPECT_EQ(InvalidDefinitionMessage(parsed.diagnostics), "Invalid State Machine Definition: ''");
}

TEST(DefinitionTest, EveryStateTypeParses) {
  json def = R"({
    "Comment": "all types", "TimeoutSeconds": 60, "Version": "1.0", "StartAt": "P",
    "States": {
      "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "InputPath": null, "Next": "T"},
      "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "TimeoutSeconds": 10, "HeartbeatSeconds": 5, "ResultSelector": {"v.$": "$.Payload"},
            "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2, "MaxAttempts": 0,
                       "BackoffRate": 1.5, "MaxDelaySeconds": 9, "JitterStrategy": "FULL"},
                      {"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "F"}],
            "OutputPath": "$.v", "Next": "W"},
      "W": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "Next": "Par"},
      "Par": {"Type": "Parallel", "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}},
                {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}], "Next": "M"},
      "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ToleratedFailurePercentage": 50,
            "Parameters": {"item.$": "$$.Map.Item.Value"},
            "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "Next": "C"},
      "C": {"Type": "Choice", "Choices": [
              {"Not": {"Variable": "$.a", "IsPresent": true}, "Next": "S"},
              {"And": [{"Variable": "$.n", "NumericGreaterThanPath": "$.m"},
                       {"Or": [{"Variable": "$$.Execution.Name", "StringMatches": "run-*"},
                               {"Variable": "$.t", "TimestampLessThan": "2030-01-01T00:00:00+01:00"}]}],
               "Next": "F"}], "Default": "S"},
      "S": {"Type": "Succeed"},
      "F": {"Type": "Fail", "Error": "Boom", "CausePath": "$.why"}
    }})"_json;
  ParsedDefinition parsed = Parse(def);
  ASSERT_TRUE(parsed.diagnostics.empty()) << Describe(parsed.diagnostics);
  const StateMachine& m = *parsed.machine;
  EXPECT_EQ(m.timeout_seconds, 60);
  EXPECT_EQ(m.Find("P")->result, json({{"x", 1}}));
  EXPECT_EQ(m.Find("P")->input_path.kind, PathField::Kind::kNull);
  const State& t = *m.Find("T");
  EXPECT_EQ(t.timeout_seconds, 10);
  EXPECT_EQ(t.heartbeat_seconds, 5);
  ASSERT_EQ(t.retry.size(), 2u);
  EXPECT_EQ(t.retry[0].interval_seconds, 2);
  EXPECT_EQ(t.retry[0].max_attempts, 0);
  EXPECT_EQ(t.retry[0].backoff_rate, 1.5);
  EXPECT_EQ(t.retry[0].max_delay_seconds, 9);
  EXPECT_TRUE(t.retry[0].full_jitter);
  EXPECT_EQ(t.retry[1].interval_seconds, 1);  // the defaults
  EXPECT_EQ(t.retry[1].max_attempts, 3);
  EXPECT_EQ(t.retry[1].backoff_rate, 2.0);
  EXPECT_FALSE(t.retry[1].full_jitter);
  EXPECT_EQ(t.catches[0].result_path.kind, PathField::Kind::kNull);
  EXPECT_EQ(t.output_path.path.text(), "$.v");
  EXPECT_EQ(m.Find("W")->timestamp, "2030-01-01T00:00:00Z");
  const State& par = *m.Find("Par");
  ASSERT_EQ(par.branches.size(), 2u);
  EXPECT_EQ(par.branches[0]->start_at, "B1");
  EXPECT_EQ(par.branches[1]->Find("B2")->end, true);
  const State& map = *m.Find("M");
  EXPECT_EQ(map.items_path->text(), "$.items");
  EXPECT_EQ(map.max_concurrency, 2);
  EXPECT_EQ(map.tolerated_failure_percentage, 50);
  ASSERT_TRUE(map.item_selector.has_value());  // the legacy Parameters shapes each item
  EXPECT_FALSE(map.parameters.has_value());
  ASSERT_NE(map.item_processor, nullptr);
  EXPECT_EQ(map.item_processor->start_at, "I");
  const State& choice = *m.Find("C");
  EXPECT_EQ(choice.choices[0].op, "Not");
  EXPECT_EQ(choice.choices[0].children[0].op, "IsPresent");
  EXPECT_EQ(choice.choices[1].op, "And");
  EXPECT_EQ(choice.choices[1].children[0].operand_path.text(), "$.m");
  EXPECT_EQ(choice.choices[1].children[1].children[0].variable.text(), "$$.Execution.Name");
  EXPECT_EQ(m.Find("F")->error, "Boom");
  EXPECT_EQ(m.Find("F")->cause_path->text(), "$.why");
  EXPECT_STREQ(StateTypeName(StateType::kParallel), "Parallel");
  EXPECT_STREQ(StateTypeName(StateType::kMap), "Map");
}

// --- one bad input per diagnostic code -------------------------------------------------------

TEST(DefinitionTest, InvalidJsonDescription) {
  ParsedDefinition parsed = ParseDefinition("{not json");
  ASSERT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].code, "INVALID_JSON_DESCRIPTION");
  EXPECT_EQ(parsed.diagnostics[0].location, "");
  EXPECT_EQ(parsed.machine, nullptr);
  // A duplicated field, which a JSON parser would silently collapse.
  EXPECT_TRUE(Has(ParseDefinition(R"({"StartAt":"A","StartAt":"A","States":{"A":{"Type":"Succeed"}}})"),
                  "INVALID_JSON_DESCRIPTION", "Duplicate field 'StartAt'", "/StartAt"));
}

TEST(DefinitionTest, MissingDescription) {
  for (const char* text : {"", "  \n"}) {
    ParsedDefinition parsed = ParseDefinition(text);
    EXPECT_TRUE(Has(parsed, "MISSING_DESCRIPTION", "Received a null or empty workflow input", ""));
    EXPECT_EQ(parsed.machine, nullptr);
  }
}

TEST(DefinitionTest, WrongTypesAtTheirFields) {
  ParsedDefinition parsed = ParseState({{"Type", "Pass"}, {"Next", 5}, {"Comment", false}});
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'Next' must be a STRING", "/States/A/Next"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'Comment' must be a STRING", "/States/A/Comment"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"End", "yes"}}), kSchema,
                  "The value for the field 'End' must be a BOOLEAN", "/States/A/End"));
  EXPECT_TRUE(Has(Parse({{"StartAt", 1}, {"States", json::array()}}), kSchema,
                  "The value for the field 'States' must be an OBJECT", "/States"));
  EXPECT_TRUE(Has(Parse(json::array()), kSchema, "The definition must be a JSON object", "/"));
}

TEST(DefinitionTest, MissingRequiredFields) {
  EXPECT_TRUE(Has(Parse(json::object()), kSchema, "These fields are required: [StartAt, States]", "/"));
  EXPECT_TRUE(Has(ParseState({{"End", true}}), kSchema, "These fields are required: [Type]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Task"}, {"End", true}}), kSchema, "These fields are required: [Resource]",
                  "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Choice"}}), kSchema, "These fields are required: [Choices]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Parallel"}, {"End", true}}), kSchema,
                  "These fields are required: [Branches]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Map"}, {"End", true}}), kSchema,
                  "This object should have only one of the following fields: [ItemProcessor, Iterator]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}}), kSchema,
                  "This object should have only one of the following fields: [Next, End]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"Next", "A"}, {"End", true}}), kSchema,
                  "There should only be one of the following fields: [Next, End]", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Parallel"}, {"End", true}, {"Branches", {{{"States", json::object()}}}}}),
                  kSchema, "These fields are required: [StartAt]", "/States/A/Branches[0]"));
}

TEST(DefinitionTest, UnknownTypeAndUnknownFields) {
  EXPECT_TRUE(Has(ParseState({{"Type", "Loop"}, {"End", true}}), kSchema,
                  "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, "
                  "Parallel, Map]",
                  "/States/A/Type"));
  // AWS reports an unsupported field at the state, not at the field.
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"TimeoutSeconds", 5}, {"End", true}}), kSchema,
                  "Field 'TimeoutSeconds' is not supported", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Wait"}, {"Seconds", 1}, {"End", true}, {"Retry", json::array()}}), kSchema,
                  "Field 'Retry' is not supported", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Succeed"}, {"Next", "A"}}), kSchema, "Field 'Next' is not supported",
                  "/States/A"));
  EXPECT_TRUE(Has(Parse({{"StartAt", "A"}, {"States", {{"A", {{"Type", "Succeed"}}}}}, {"Extra", 1}}), kSchema,
                  "Field 'Extra' is not supported", "/"));
  EXPECT_TRUE(Has(Parse({{"StartAt", "A"}, {"QueryLanguage", "JSONata"}, {"States", {{"A", {{"Type", "Succeed"}}}}}}),
                  kSchema, "QueryLanguage 'JSONata' is not supported by lathe (JSONPath only)", "/QueryLanguage"));
}

TEST(DefinitionTest, WhatLatheDoesNotRunIsRefusedWhereItIsWritten) {
  json distributed = {{"Type", "Map"},
                       {"End", true},
                       {"ItemProcessor",
                        {{"ProcessorConfig", {{"Mode", "DISTRIBUTED"}, {"ExecutionType", "STANDARD"}}},
                         {"StartAt", "I"},
                         {"States", {{"I", {{"Type", "Succeed"}}}}}}}};
  EXPECT_TRUE(Has(ParseState(distributed), kSchema, "Map Mode 'DISTRIBUTED' is not supported by lathe (INLINE only)",
                  "/States/A/ItemProcessor/ProcessorConfig/Mode"));
  distributed["ItemProcessor"]["ProcessorConfig"]["Mode"] = "INLINE";
  EXPECT_TRUE(ParseState(distributed).diagnostics.empty()) << Describe(ParseState(distributed).diagnostics);
  distributed["ItemReader"] = {{"Resource", "arn:aws:states:::s3:getObject"}};
  EXPECT_TRUE(Has(ParseState(distributed), kSchema, "Field 'ItemReader' is not supported", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"End", true}, {"Assign", {{"x", 1}}}}), kSchema,
                  "Field 'Assign' is not supported", "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"End", true}, {"QueryLanguage", "JSONata"}}), kSchema,
                  "QueryLanguage 'JSONata' is not supported by lathe (JSONPath only)", "/States/A/QueryLanguage"));
  EXPECT_TRUE(ParseState({{"Type", "Pass"}, {"End", true}, {"QueryLanguage", "JSONPath"}}).diagnostics.empty());
}

TEST(DefinitionTest, MissingTransitionTargets) {
  json def = R"({"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Ghost1",
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Ghost2"}]},
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Ghost3"}],
          "Default": "Ghost4"},
    "S": {"Type": "Succeed"}}})"_json;
  ParsedDefinition parsed = Parse(def);
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Ghost1", "/States/T/Next"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Ghost2", "/States/T/Catch[0]/Next"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Ghost3", "/States/C/Choices[0]/Next"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Ghost4", "/States/C/Default"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "State \"C\" is not reachable.", "/States/C"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "State \"S\" is not reachable.", "/States/S"));
  EXPECT_EQ(parsed.machine, nullptr);
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"Next", ""}}), "MISSING_TRANSITION_TARGET", "Missing 'Next' target: ",
                  "/States/A/Next"));
  EXPECT_TRUE(Has(Parse({{"StartAt", "Nope"}, {"States", {{"A", {{"Type", "Succeed"}}}}}}), "MISSING_TRANSITION_TARGET",
                  "Missing 'Next' target: Nope", "/StartAt"));
}

TEST(DefinitionTest, TransitionsNeverCrossBranches) {
  json def = R"({"StartAt": "P", "States": {
    "P": {"Type": "Parallel", "Next": "Done", "Branches": [
      {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "Done"}, "Orphan": {"Type": "Succeed"}}}]},
    "Done": {"Type": "Succeed"}}})"_json;
  ParsedDefinition parsed = Parse(def);
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Done",
                  "/States/P/Branches[0]/States/B1/Next"));
  EXPECT_TRUE(Has(parsed, "MISSING_TRANSITION_TARGET", "State \"Orphan\" is not reachable.",
                  "/States/P/Branches[0]/States/Orphan"));
  EXPECT_EQ(parsed.diagnostics.size(), 2u) << Describe(parsed.diagnostics);
  // And a Map's processor is its own scope, located under ItemProcessor.
  json map = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
    "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}, "X": {"Type": "Bogus"}}}}}})"_json;
  ParsedDefinition in_map = Parse(map);
  EXPECT_TRUE(Has(in_map, kSchema, "", "/States/M/ItemProcessor/States/X/Type"));
  EXPECT_TRUE(Has(in_map, "MISSING_TRANSITION_TARGET", "State \"X\" is not reachable.",
                  "/States/M/ItemProcessor/States/X"));
}

TEST(DefinitionTest, MissingEndState) {
  json loop = R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"},
                  "Unused": {"Type": "Pass", "Next": "A"}}})"_json;
  ParsedDefinition parsed = Parse(loop);
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << Describe(parsed.diagnostics);  // no "not reachable" then
  EXPECT_TRUE(Has(parsed, "MISSING_END_STATE", "Workflow has no terminal state", ""));
  EXPECT_EQ(InvalidDefinitionMessage(parsed.diagnostics),
            "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'");
  // A loop inside a Map is accepted: the rule is for the top level.
  json nested = R"({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
    "StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}}}})"_json;
  EXPECT_TRUE(Parse(nested).diagnostics.empty()) << Describe(Parse(nested).diagnostics);
}

TEST(DefinitionTest, DuplicateAndInvalidStateNames) {
  json def = R"({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "X", "Branches": [
    {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}]}, "X": {"Type": "Succeed"}}})"_json;
  EXPECT_TRUE(Has(Parse(def), "DUPLICATE_STATE_NAME", "Duplicate State name: X", "/States/X"));
  EXPECT_TRUE(Has(ParseDefinition(R"({"StartAt":"A","States":{"A":{"Type":"Succeed"},"A":{"Type":"Succeed"}}})"),
                  "DUPLICATE_STATE_NAME", "Duplicate State name: A", "/States/A"));
  std::string long_name(81, 'n');
  EXPECT_TRUE(Has(Parse({{"StartAt", long_name}, {"States", {{long_name, {{"Type", "Succeed"}}}}}}),
                  "INVALID_STATE_NAME", "", "/States/" + long_name));
}

TEST(DefinitionTest, BadJsonPaths) {
  ParsedDefinition parsed = ParseState({{"Type", "Pass"}, {"End", true}, {"InputPath", "$.a["}, {"ResultPath", "$.a[*]"},
                                        {"OutputPath", "a.b"}});
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'InputPath' must be a valid JSONPath", "/States/A/InputPath"));
  EXPECT_TRUE(Has(parsed, kSchema, "", "/States/A/ResultPath"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'OutputPath' must be a valid JSONPath",
                  "/States/A/OutputPath"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"End", true}, {"ResultPath", "result"}}), kSchema,
                  "Value is not a Reference Path: Reference path didn't start with '$'", "/States/A/ResultPath"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Map"}, {"End", true}, {"ItemsPath", "$..items"},
                              {"ItemProcessor", {{"StartAt", "I"}, {"States", {{"I", {{"Type", "Succeed"}}}}}}}}),
                  kSchema, "", "/States/A/ItemsPath"));
}

TEST(DefinitionTest, BadIntrinsicsAndTemplates) {
  json state = {{"Type", "Task"},
                {"Resource", "arn:aws:states:::sns:publish"},
                {"End", true},
                {"Parameters",
                 {{"Message.$", "States.Nope('x')"}, {"Payload", {{"n.$", 5}, {"ok.$", "$.fine"}}}, {"list", {{{"p.$", "$["}}}}}}};
  ParsedDefinition parsed = ParseState(state);
  EXPECT_TRUE(Has(parsed, kSchema,
                  "The value for the field 'Message.$' must be a valid JSONPath or a valid intrinsic function call",
                  "/States/A/Parameters/Message.$"));
  EXPECT_TRUE(Has(parsed, kSchema, "", "/States/A/Parameters/Payload/n.$"));
  EXPECT_TRUE(Has(parsed, kSchema, "", "/States/A/Parameters/list[0]/p.$"));
  EXPECT_EQ(parsed.diagnostics.size(), 3u) << Describe(parsed.diagnostics);
  EXPECT_TRUE(Has(ParseState({{"Type", "Pass"}, {"End", true}, {"Parameters", "x"}}), kSchema,
                  "The value for the field 'Parameters' must be an OBJECT", "/States/A/Parameters"));
}

TEST(DefinitionTest, WaitAndFailFieldRules) {
  EXPECT_TRUE(Has(ParseState({{"Type", "Wait"}, {"End", true}}), kSchema,
                  "This object should have only one of the following fields: [SecondsPath, Seconds, TimestampPath, "
                  "Timestamp]",
                  "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Wait"}, {"End", true}, {"Seconds", 1}, {"SecondsPath", "$.s"}}), kSchema,
                  "There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]",
                  "/States/A"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Wait"}, {"End", true}, {"Timestamp", "2030-02-30T00:00:00Z"}}), kSchema,
                  "String does not match RFC3339 timestamp", "/States/A/Timestamp"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Wait"}, {"End", true}, {"Seconds", -1}}), kSchema,
                  "The value for the field 'Seconds' must be a non-negative integer", "/States/A/Seconds"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Fail"}, {"Error", "E"}, {"ErrorPath", "$.e"}}), kSchema,
                  "There should only be one of the following fields: [Error, ErrorPath]", "/States/A/Error"));
}

// AWS takes an intrinsic call returning a string in ErrorPath / CausePath, from the list it names.
TEST(DefinitionTest, FailPathsTakeTheIntrinsicsAwsLists) {
  ParsedDefinition parsed = ParseState({{"Type", "Fail"},
                                        {"ErrorPath", "States.Format('E{}', $.n)"},
                                        {"CausePath", "States.JsonToString($.detail)"}});
  ASSERT_TRUE(parsed.machine) << Describe(parsed.diagnostics);
  const State* fail = parsed.machine->Find("A");
  ASSERT_TRUE(fail);
  EXPECT_FALSE(fail->error_path);
  ASSERT_TRUE(fail->error_intrinsic);
  EXPECT_EQ(fail->error_intrinsic->text(), "States.Format('E{}', $.n)");
  ASSERT_TRUE(fail->cause_intrinsic);
  auto error = fail->error_intrinsic->Evaluate({{"n", 7}}, json::object());
  ASSERT_TRUE(error.ok()) << error.status().message();
  EXPECT_EQ(*error, "E7");

  const std::string refused =
      "The value for the field 'CausePath' must be a valid reference path or a call of one of the intrinsic "
      "functions States.Format, States.JsonToString, States.ArrayGetItem, States.Base64Encode, States.Base64Decode, "
      "States.Hash and States.UUID";
  // A listed function, but malformed; and one AWS does not list (it returns a number).
  EXPECT_TRUE(Has(ParseState({{"Type", "Fail"}, {"CausePath", "States.Format('x', $.a"}}), kSchema, refused,
                  "/States/A/CausePath"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Fail"}, {"CausePath", "States.MathAdd(1, 2)"}}), kSchema, refused,
                  "/States/A/CausePath"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Fail"}, {"Cause", "c"}, {"CausePath", "States.UUID()"}}), kSchema,
                  "There should only be one of the following fields: [Cause, CausePath]", "/States/A/Cause"));
}

TEST(DefinitionTest, RetryAndCatchRules) {
  json state = R"({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
    "Retry": [{"ErrorEquals": ["States.ALL", "Custom"]},
              {"ErrorEquals": ["States.ALL"], "MaxAttempts": -1, "BackoffRate": 0.5, "IntervalSeconds": 0,
               "JitterStrategy": "HALF", "Bogus": 1},
              {"ErrorEquals": []}],
    "Catch": [{"ErrorEquals": ["States.TaskFailed"]}]})"_json;
  ParsedDefinition parsed = ParseState(state);
  EXPECT_TRUE(Has(parsed, kSchema, "States.ALL must appear alone and at end of list", "/States/A/Retry[0]/ErrorEquals"));
  EXPECT_TRUE(Has(parsed, kSchema, "States.ALL must appear alone and at end of list", "/States/A/Retry[1]/ErrorEquals"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'MaxAttempts' must be a non-negative integer",
                  "/States/A/Retry[1]/MaxAttempts"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'BackoffRate' must be greater than or equal to 1.0",
                  "/States/A/Retry[1]/BackoffRate"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'IntervalSeconds' must be a positive integer",
                  "/States/A/Retry[1]/IntervalSeconds"));
  EXPECT_TRUE(Has(parsed, kSchema, "Value should be one of the following: [NONE, FULL]",
                  "/States/A/Retry[1]/JitterStrategy"));
  EXPECT_TRUE(Has(parsed, kSchema, "Field 'Bogus' is not supported", "/States/A/Retry[1]"));
  EXPECT_TRUE(Has(parsed, kSchema, "Value cannot be empty", "/States/A/Retry[2]/ErrorEquals"));
  EXPECT_TRUE(Has(parsed, kSchema, "These fields are required: [Next]", "/States/A/Catch[0]"));
  // Every problem, not the first: nine of them.
  EXPECT_EQ(parsed.diagnostics.size(), 9u) << Describe(parsed.diagnostics);
}

TEST(DefinitionTest, TimeoutsAndMapBounds) {
  json task = {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}};
  json t1 = task;
  t1["TimeoutSeconds"] = 0;
  EXPECT_TRUE(Has(ParseState(t1), kSchema, "The value for the field 'TimeoutSeconds' must be a positive integer",
                  "/States/A/TimeoutSeconds"));
  json t2 = task;
  t2["TimeoutSeconds"] = 10;
  t2["HeartbeatSeconds"] = 10;
  EXPECT_TRUE(Has(ParseState(t2), kSchema,
                  "The value for the field 'HeartbeatSeconds' must be smaller than the value for the field "
                  "'TimeoutSeconds'",
                  "/States/A/HeartbeatSeconds"));
  json t3 = task;
  t3["TimeoutSeconds"] = 10;
  t3["TimeoutSecondsPath"] = "$.t";
  EXPECT_TRUE(Has(ParseState(t3), kSchema, "There should only be one of the following fields: [TimeoutSeconds, "
                                           "TimeoutSecondsPath]",
                  "/States/A/TimeoutSeconds"));
  json map = {{"Type", "Map"},
              {"End", true},
              {"MaxConcurrency", -1},
              {"ToleratedFailurePercentage", 101},
              {"ItemProcessor", {{"StartAt", "I"}, {"States", {{"I", {{"Type", "Succeed"}}}}}}}};
  ParsedDefinition parsed = ParseState(map);
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'MaxConcurrency' must be a non-negative integer",
                  "/States/A/MaxConcurrency"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'ToleratedFailurePercentage' must be between 0 and 100",
                  "/States/A/ToleratedFailurePercentage"));
  map.erase("ToleratedFailurePercentage");
  map["MaxConcurrency"] = 9223372036854775807LL;  // AWS accepts it; lathe bounds concurrency itself
  EXPECT_TRUE(ParseState(map).diagnostics.empty()) << Describe(ParseState(map).diagnostics);
}

// Every time in seconds is bounded (asl::kMaxSeconds), so that ms = s * 1000 and now + ms cannot
// overflow: INT64_MAX, which Integer() clamps larger values to, times 1000 once did.
TEST(DefinitionTest, TimesInSecondsAreBounded) {
  const std::string at_most = "at most " + std::to_string(kMaxSeconds);
  json task = {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}};
  for (const char* field : {"TimeoutSeconds", "HeartbeatSeconds"}) {
    json t = task;
    t[field] = 18446744073709551615ULL;
    EXPECT_TRUE(Has(ParseState(t), kSchema, std::string("The value for the field '") + field + "' must be " + at_most,
                    std::string("/States/A/") + field));
    t[field] = kMaxSeconds;
    if (std::string(field) == "HeartbeatSeconds") t["TimeoutSeconds"] = kMaxSeconds;
    if (std::string(field) == "HeartbeatSeconds") t[field] = kMaxSeconds - 1;
    EXPECT_TRUE(ParseState(t).diagnostics.empty()) << Describe(ParseState(t).diagnostics);
  }
  json wait = {{"Type", "Wait"}, {"Seconds", kMaxSeconds + 1}, {"End", true}};
  EXPECT_TRUE(Has(ParseState(wait), kSchema, "The value for the field 'Seconds' must be " + at_most,
                  "/States/A/Seconds"));
  json retry = task;
  retry["Retry"] = {{{"ErrorEquals", {"States.ALL"}}, {"IntervalSeconds", 9223372036854775807LL},
                     {"MaxDelaySeconds", kMaxSeconds + 1}}};
  ParsedDefinition parsed = ParseState(retry);
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'IntervalSeconds' must be " + at_most,
                  "/States/A/Retry[0]/IntervalSeconds"));
  EXPECT_TRUE(Has(parsed, kSchema, "The value for the field 'MaxDelaySeconds' must be " + at_most,
                  "/States/A/Retry[0]/MaxDelaySeconds"));
  json machine = {{"StartAt", "A"}, {"TimeoutSeconds", kMaxSeconds + 1}, {"States", {{"A", {{"Type", "Succeed"}}}}}};
  EXPECT_TRUE(Has(Parse(machine), kSchema, "The value for the field 'TimeoutSeconds' must be " + at_most,
                  "/TimeoutSeconds"));
}

TEST(DefinitionTest, ChoiceRuleStructure) {
  auto choice = [](json rule) {
    return ParseState({{"Type", "Choice"}, {"Choices", json::array({rule})}, {"Default", "A"}});
  };
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"StringEquals", "a"}, {"NumericEquals", 1}, {"Next", "A"}}), kSchema,
                  "", "/States/A/Choices[0]"));
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"Next", "A"}}), kSchema, "", "/States/A/Choices[0]"));
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"StringEquals", "a"}}), kSchema, "These fields are required: [Next]",
                  "/States/A/Choices[0]"));
  EXPECT_TRUE(Has(choice({{"Not", {{"Variable", "$.x"}, {"IsNull", true}, {"Next", "A"}}}, {"Next", "A"}}), kSchema,
                  "Field 'Next' is not supported", "/States/A/Choices[0]/Not"));
  EXPECT_TRUE(Has(choice({{"And", json::array()}, {"Next", "A"}}), kSchema, "Value cannot be empty",
                  "/States/A/Choices[0]/And"));
  EXPECT_TRUE(Has(choice({{"Variable", "x"}, {"StringEquals", "a"}, {"Next", "A"}}), kSchema,
                  "Value is not a Reference Path: Reference path didn't start with '$'",
                  "/States/A/Choices[0]/Variable"));
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"NumericEquals", "1"}, {"Next", "A"}}), kSchema,
                  "The value for the field 'NumericEquals' must be a NUMBER", "/States/A/Choices[0]/NumericEquals"));
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"TimestampEquals", "yesterday"}, {"Next", "A"}}), kSchema,
                  "String does not match RFC3339 timestamp", "/States/A/Choices[0]/TimestampEquals"));
  EXPECT_TRUE(Has(choice({{"Variable", "$.x"}, {"StringEqualsPath", "$[*]"}, {"Next", "A"}}), kSchema, "",
                  "/States/A/Choices[0]/StringEqualsPath"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Choice"}, {"Choices", json::array()}}), kSchema, "Value cannot be empty",
                  "/States/A/Choices"));
  // Nesting deeper than kMaxExpressionDepth.
  json rule = {{"Variable", "$.x"}, {"IsNull", true}};
  for (size_t i = 0; i < kMaxExpressionDepth + 2; ++i) rule = {{"Not", rule}};
  rule["Next"] = "A";
  bool deep = false;
  for (const Diagnostic& d : choice(rule).diagnostics) deep |= d.message.find("nest more than") != std::string::npos;
  EXPECT_TRUE(deep) << Describe(choice(rule).diagnostics);
}

TEST(DefinitionTest, InvalidResourceAndLabel) {
  EXPECT_TRUE(Has(ParseState({{"Type", "Task"}, {"Resource", "arn:aws:s3:::bucket"}, {"End", true}}),
                  "INVALID_RESOURCE", "The resource provided arn:aws:s3:::bucket is not recognized",
                  "/States/A/Resource"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Task"}, {"Resource", "my-function"}, {"End", true}}), kSchema,
                  "Value is not a valid resource ARN", "/States/A/Resource"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke.sync"}, {"End", true}}),
                  kSchema, "The resource provided arn:aws:states:::lambda:invoke.sync is not recognized",
                  "/States/A/Resource"));
  EXPECT_TRUE(Has(ParseState({{"Type", "Map"},
                              {"End", true},
                              {"Label", std::string(41, 'l')},
                              {"ItemProcessor", {{"StartAt", "I"}, {"States", {{"I", {{"Type", "Succeed"}}}}}}}}),
                  "INVALID_LABEL_NAME", "", "/States/A/Label"));
}

TEST(DefinitionTest, SizeNestingAndStateCountAreBounded) {
  EXPECT_TRUE(Has(ParseDefinition(std::string(200000, '[') + std::string(200000, ']')), "TOO_DEEPLY_NESTED", "", ""));
  std::string big = R"({"Comment": ")" + std::string(kMaxDefinitionBytes, 'x') + R"(", "StartAt": "A", "States": {}})";
  ParsedDefinition too_big = ParseDefinition(big);
  ASSERT_EQ(too_big.diagnostics.size(), 1u);
  EXPECT_EQ(too_big.diagnostics[0].code, kSchema);
  json states = json::object();
  for (size_t i = 0; i <= kMaxStates; ++i) states["s" + std::to_string(i)] = {{"Type", "Succeed"}};
  ParsedDefinition many = Parse({{"StartAt", "s0"}, {"States", states}});
  EXPECT_EQ(many.machine, nullptr);
  bool counted = false;
  for (const Diagnostic& d : many.diagnostics) counted |= d.message.find("more than 10000 states") != std::string::npos;
  EXPECT_TRUE(counted);
}

TEST(DefinitionTest, WarningsNeverRefuseTheDefinition) {
  json def = R"js({"StartAt": "P", "States": {
    "P": {"Type": "Pass", "Result": {"static.$": "$.x"}, "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "F",
          "Parameters": {"FunctionName": "f", "Payload": {"bucket": "$.bucket", "msg": "States.UUID()"}}},
    "F": {"Type": "Fail", "Error": "$.error"}}})js"_json;
  ParsedDefinition parsed = Parse(def);
  ASSERT_NE(parsed.machine, nullptr) << Describe(parsed.diagnostics);
  ASSERT_EQ(parsed.diagnostics.size(), 4u) << Describe(parsed.diagnostics);
  for (const Diagnostic& d : parsed.diagnostics) EXPECT_EQ(d.severity, "WARNING");
  EXPECT_TRUE(Has(parsed, "PASS_RESULT_IS_STATIC", "", "/States/P/Result"));
  EXPECT_TRUE(Has(parsed, "NO_DOLLAR", "", "/States/T/Parameters/Payload/bucket"));
  EXPECT_TRUE(Has(parsed, "NO_DOLLAR", "", "/States/T/Parameters/Payload/msg"));
  EXPECT_TRUE(Has(parsed, "NO_PATH",
                  "The value for the field 'Error' looks like a path, but the field name does not end with 'Path'",
                  "/States/F/Error"));
  EXPECT_EQ(InvalidDefinitionMessage(parsed.diagnostics), "Invalid State Machine Definition: ''");
}

TEST(DefinitionTest, InvalidDefinitionMessageJoinsErrorsAsAwsDoes) {
  std::vector<Diagnostic> diagnostics(2);
  diagnostics[0].code = "SCHEMA_VALIDATION_FAILED";
  diagnostics[0].message = "The value for the field 'Next' must be a STRING";
  diagnostics[0].location = "/States/A/Next";
  diagnostics[1].code = "MISSING_TRANSITION_TARGET";
  diagnostics[1].message = "Missing 'Next' target: B";
  diagnostics[1].location = "/States/C/Next";
  EXPECT_EQ(InvalidDefinitionMessage(diagnostics),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'Next' must be a "
            "STRING at /States/A/Next, MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/C/Next'");
}

TEST(DefinitionTest, TaskResourceForms) {
  struct Case {
    const char* arn;
    TaskResource want;
  } cases[] = {
      {"arn:aws:states:::lambda:invoke", {"lambda", "invoke", ""}},
      {"arn:aws:states:::lambda:invoke.waitForTaskToken", {"lambda", "invoke", "waitForTaskToken"}},
      {"arn:aws:states:::sns:publish", {"sns", "publish", ""}},
      {"arn:aws:states:::events:putEvents", {"events", "putEvents", ""}},
      {"arn:aws:states:::bedrock:createModelCustomizationJob.sync", {"bedrock", "createModelCustomizationJob", "sync"}},
      {"arn:aws:states:::bedrock:invokeModel", {"bedrock", "invokeModel", ""}},
      {"arn:aws:states:::states:startExecution.sync:2", {"states", "startExecution", "sync:2"}},
      {"arn:aws:states:::aws-sdk:s3:getObject", {"aws-sdk:s3", "getObject", ""}},
      {"arn:aws:lambda:us-east-1:123456789012:function:validate-training-data", {"lambda", "function", ""}},
      {"arn:aws:lambda:us-east-1:123456789012:function:f:PROD", {"lambda", "function", ""}},
      {"arn:aws:states:us-east-1:123456789012:activity:approve", {"states", "activity", ""}},
  };
  for (const Case& c : cases) {
    auto r = ParseTaskResource(c.arn);
    ASSERT_TRUE(r.ok()) << c.arn << ": " << r.status().ToString();
    EXPECT_EQ(r->service, c.want.service) << c.arn;
    EXPECT_EQ(r->action, c.want.action) << c.arn;
    EXPECT_EQ(r->pattern, c.want.pattern) << c.arn;
  }
  for (const char* bad : {"", "lambda:invoke", "arn:aws:states:::lambda", "arn:aws:states:::lambda:invoke.later",
                          "arn:aws:s3:::bucket", "arn:aws:lambda:::function:f", "arn:aws:states:r:a:activity:",
                          "arn:aws:states:::Lambda:invoke", "arn:aws:states:::lambda:in voke"})
    EXPECT_FALSE(ParseTaskResource(bad).ok()) << bad;
  EXPECT_FALSE(ParseTaskResource("arn:aws:states:::lambda:" + std::string(5000, 'a')).ok());
}

}  // namespace
}  // namespace lathe::asl
