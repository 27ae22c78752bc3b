// Input and output processing as AWS's developer guide shows it: InputPath, Parameters,
// ResultSelector, ResultPath and OutputPath on its example inputs, then bad templates.
#include "asl/payload.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::asl {
namespace {

using nlohmann::json;

PayloadTemplate T(const json& tmpl) {
  Result<PayloadTemplate> t = PayloadTemplate::Parse(tmpl, "/States/X/Parameters");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : PayloadTemplate();
}

PathField Path(const std::string& text) {
  PathField field;
  field.kind = PathField::Kind::kPath;
  field.path = *JsonPath::Parse(text);
  return field;
}

TEST(PayloadTest, SpecExampleParameters) {
  json tmpl = json::parse(R"J({"flagged": true, "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[-3:]"},
                              "weekday.$": "$$.DayOfWeek",
                              "formattedOutput.$": "States.Format('Today is {}', $$.DayOfWeek)"})J");
  json input = json::parse(R"({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]})");
  json context = {{"DayOfWeek", "TUESDAY"}};
  EXPECT_EQ(*T(tmpl).Apply(input, context),
            json::parse(R"({"flagged": true, "parts": {"first": 0, "last3": [30, 40, 50]}, "weekday": "TUESDAY",
                            "formattedOutput": "Today is TUESDAY"})"));
  EXPECT_EQ(T(tmpl).source(), tmpl);
}

TEST(PayloadTest, DeveloperGuideInputOutputExample) {
  // "Example of manipulating state data with paths": the Lambda returns "Hello, AWS Step Functions!".
  json input = json::parse(R"({"comment": "Example for InputPath.", "dataset1": {"val1": 1, "val2": 2, "val3": 3},
                               "dataset2": {"val1": "a", "val2": "b", "val3": "c"}})");
  json effective = *ApplyInputPath(Path("$.dataset2"), input, json::object());
  EXPECT_EQ(effective, json::parse(R"({"val1": "a", "val2": "b", "val3": "c"})"));
  json params = *T(json::parse(R"({"comment": "Selecting what I care about.", "MyDetails": {"size.$": "$.val1",
                                   "exists.$": "$.val2"}})")).Apply(effective, json::object());
  EXPECT_EQ(params["MyDetails"], json::parse(R"({"size": "a", "exists": "b"})"));
  // ResultSelector on a Lambda envelope, ResultPath into the raw input, OutputPath.
  json result = json::parse(R"({"ExecutedVersion": "$LATEST", "Payload": {"foo": "bar", "nested": {"x": 1}},
                                "StatusCode": 200})");
  json selected = *T(json::parse(R"({"modifiedPayload": {"body.$": "$.Payload", "statusCode.$": "$.StatusCode"}})"))
                       .Apply(result, json::object());
  EXPECT_EQ(selected["modifiedPayload"]["statusCode"], 200);
  json output = *ApplyResultPath(Path("$.taskresult"), input, selected);
  EXPECT_EQ(output["taskresult"], selected);
  EXPECT_EQ(output["dataset1"], input["dataset1"]);
  EXPECT_EQ(*ApplyInputPath(Path("$.taskresult.modifiedPayload.body.foo"), output, json::object()), "bar");
}

TEST(PayloadTest, PathFieldDefaultsAndNull) {
  json input = {{"a", 1}};
  PathField def, null_field;
  null_field.kind = PathField::Kind::kNull;
  EXPECT_EQ(*ApplyInputPath(def, input, json::object()), input);
  EXPECT_EQ(*ApplyInputPath(null_field, input, json::object()), json::object());
  EXPECT_EQ(*ApplyResultPath(def, input, "result"), "result");
  EXPECT_EQ(*ApplyResultPath(null_field, input, "result"), input);
  EXPECT_EQ(*ApplyInputPath(Path("$$.Execution.Name"), input, {{"Execution", {{"Name", "n"}}}}), "n");
  Result<json> missing = ApplyInputPath(Path("$.b"), input, json::object());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().aws_code(), "States.Runtime");
  EXPECT_EQ(missing.status().message(), "Invalid path '$.b' : No results for path: $['b']");
  Result<json> mismatch = ApplyResultPath(Path("$.a.b"), input, 2);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().aws_code(), "States.ResultPathMatchFailure");
}

TEST(PayloadTest, MissingPathNamesFieldAndInput) {
  Result<json> r = T(json::parse(R"({"missing.$": "$.nope.deep"})")).Apply({{"other", 1}}, json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().aws_code(), "States.Runtime");
  EXPECT_EQ(r.status().message(),
            "The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the input "
            "'{\"other\":1}'");
  Result<json> intrinsic = T(json::parse(R"J({"x.$": "States.ArrayRange(1, 2, 0)"})J")).Apply(json::object(), json::object());
  ASSERT_FALSE(intrinsic.ok());
  EXPECT_EQ(intrinsic.status().aws_code(), "States.IntrinsicFailure");
}

TEST(PayloadTest, DynamicKeysInsideArraysAndConstantsCopied) {
  json tmpl = json::parse(R"({"list": [{"v.$": "$.a"}, 2, {"k": "v"}], "deep": {"x": {"y": [1, {"z": null}]}}})");
  json out = *T(tmpl).Apply({{"a", "A"}}, json::object());
  EXPECT_EQ(out, json::parse(R"({"list": [{"v": "A"}, 2, {"k": "v"}], "deep": {"x": {"y": [1, {"z": null}]}}})"));
  EXPECT_EQ(*PayloadTemplate().Apply({{"a", 1}}, json::object()), json::object());
}

TEST(PayloadTest, RejectsBadTemplates) {
  auto expect_error = [](const json& tmpl, const std::string& fragment) {
    Result<PayloadTemplate> t = PayloadTemplate::Parse(tmpl, "/States/X/Parameters");
    ASSERT_FALSE(t.ok()) << tmpl.dump();
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(t.status().message().find(fragment), std::string::npos) << t.status().message();
  };
  expect_error(json::array(), "OBJECT");
  expect_error({{"a.$", 1}}, "'a.$' must be a STRING");
  expect_error({{"a.$", "$.b c"}}, "/States/X/Parameters/a.$");
  expect_error({{"a.$", "States.Nope()"}}, "intrinsic");
  expect_error({{"a.$", "plain text"}}, "'a.$'");
  expect_error({{"a", 1}, {"a.$", "$"}}, "twice");
  expect_error({{"o", {{"p/q~", {{"r.$", 5}}}}}}, "/States/X/Parameters/o/p~1q~0/r.$");
  json deep = {{"v.$", "$"}};
  for (size_t i = 0; i < kMaxExpressionDepth + 1; ++i) deep = {{"n", deep}};
  expect_error(deep, "nests deeper");
  // A deep constant (no ".$" below some level) is fine.
  json constant = 1;
  for (int i = 0; i < 500; ++i) constant = json::array({constant});
  EXPECT_TRUE(PayloadTemplate::Parse({{"c", constant}, {"v.$", "$"}}, "/P").ok());
}

TEST(PayloadTest, PayloadSize) {
  EXPECT_EQ(PayloadBytes(json::parse(R"({"a":"b"})")), 9u);
  EXPECT_TRUE(CheckPayloadSize(json(std::string(kMaxPayloadBytes - 2, 'x')), "input").ok());
  Status over = CheckPayloadSize(json(std::string(kMaxPayloadBytes - 1, 'x')), "input");
  EXPECT_EQ(over.aws_code(), "States.DataLimitExceeded");
  // Invalid UTF-8 in a string is counted (as U+FFFD), never thrown.
  EXPECT_GT(PayloadBytes(json(std::string("\xff\xfe", 2))), 2u);
}

// A template that copies its input into many members is stopped as its result passes the
// payload bound, not after building all of it (70,000 copies of 256 KiB would be ~18 GB).
TEST(PayloadTest, TemplateResultIsBoundedWhileItIsBuilt) {
  json tmpl = json::object();
  for (int i = 0; i < 70000; ++i) tmpl["a" + std::to_string(i) + ".$"] = "$";
  json input = {{"big", std::string(200 * 1024, 'x')}};
  Result<json> out = T(tmpl).Apply(input, json::object());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().aws_code(), kStatesDataLimitExceeded);
  EXPECT_NE(out.status().message().find("262144"), std::string::npos) << out.status().message();
  // Constants and intrinsic results count too; a result just under the bound is fine.
  json input2 = {{"big", std::string(100 * 1024, 'x')}};
  json small = {{"a.$", "$"}, {"b", std::string(50 * 1024, 'y')}, {"c.$", "States.Format('{}', $.big)"}};
  EXPECT_TRUE(T(small).Apply(input2, json::object()).ok());
  small["d"] = std::string(20 * 1024, 'z');
  Result<json> over = T(small).Apply(input2, json::object());
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().aws_code(), kStatesDataLimitExceeded);
}

TEST(PayloadTest, PathNotFoundCauseQuotesAClippedInput) {
  // 3-byte characters: a cut in the middle of one would leave bad UTF-8 in the cause.
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "\xe2\x82\xac";
  json input = {{"s", text}};
  Result<json> out = T({{"x.$", "$.missing"}}).Apply(input, json::object());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().aws_code(), kStatesRuntime);
  const std::string& cause = out.status().message();
  EXPECT_LT(cause.size(), 2048u);
  EXPECT_EQ(cause.rfind("The JSONPath '$.missing' specified for the field 'x.$' could not be found in the input '{", 0), 0u)
      << cause.substr(0, 200);
  EXPECT_NO_THROW((void)json(cause).dump());  // valid UTF-8 (dump throws on a cut character)
}

TEST(PayloadTest, DepthIsCheckedBeforeSizeWithoutRecursion) {
  // 100,000 levels: a recursive dump or copy would overflow the stack; the check must not.
  json deep = json::array();
  for (int i = 0; i < 100000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  EXPECT_FALSE(NestingWithin(deep, kMaxPayloadDepth));
  Status s = CheckPayloadSize(deep, "output of state 'Loop'");
  EXPECT_EQ(s.aws_code(), kStatesDataLimitExceeded);
  EXPECT_NE(s.message().find("128 levels"), std::string::npos) << s.message();

  json ok = json::object();
  for (size_t i = 1; i < kMaxPayloadDepth; ++i) ok = json{{"x", std::move(ok)}};
  EXPECT_TRUE(NestingWithin(ok, kMaxPayloadDepth));
  EXPECT_TRUE(CheckPayloadSize(ok, "output").ok());
  json over = json{{"x", ok}};
  EXPECT_FALSE(NestingWithin(over, kMaxPayloadDepth));
  EXPECT_FALSE(CheckPayloadSize(over, "output").ok());
  EXPECT_TRUE(NestingWithin(json(5), 0));
  EXPECT_TRUE(NestingWithin(json::array(), 1));
  EXPECT_FALSE(NestingWithin(json::array(), 0));
}

}  // namespace
}  // namespace lathe::asl
