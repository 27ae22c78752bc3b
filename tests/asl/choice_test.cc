// Choice rules as Step Functions evaluates them: every comparator and its …Path form, And/Or/Not,
// the type tests, timestamps as instants, AWS's States.Runtime for a path naming nothing, and
// StringMatches in linear time.
#include "asl/choice.h"

#include <gtest/gtest.h>

#include <string>

#include "asl/errors.h"
#include "asl/timestamp.h"

namespace lathe::asl {
namespace {

using nlohmann::json;

JsonPath P(const std::string& text) {
  auto path = JsonPath::Parse(text);
  EXPECT_TRUE(path.ok()) << text;
  return path.ok() ? path.value() : JsonPath();
}

ChoiceRule Compare(const std::string& op, const std::string& variable, json operand) {
  ChoiceRule rule;
  rule.op = op;
  rule.variable = P(variable);
  if (op.size() > 4 && op.substr(op.size() - 4) == "Path")
    rule.operand_path = P(operand.get<std::string>());
  else
    rule.operand = std::move(operand);
  return rule;
}

ChoiceRule Combine(const std::string& op, std::vector<ChoiceRule> children) {
  ChoiceRule rule;
  rule.op = op;
  rule.children = std::move(children);
  return rule;
}

bool Eval(const ChoiceRule& rule, const json& input, const json& context = json::object()) {
  auto r = Evaluate(rule, input, context);
  EXPECT_TRUE(r.ok()) << rule.op << ": " << r.status().ToString();
  return r.ok() && *r;
}

const json kInput = R"({"s": "banana", "n": 5, "f": 2.5, "b": true, "nul": null, "t": "2026-03-01T12:00:00Z",
  "t2": "2026-03-01T13:00:00+01:00", "other": {"s": "apple", "n": 5, "b": true, "t": "2026-03-01T11:59:59.5Z"},
  "big": 9007199254740993, "big2": 9007199254740992, "neg": -3})"_json;

TEST(ChoiceTest, StringComparators) {
  EXPECT_TRUE(Eval(Compare("StringEquals", "$.s", "banana"), kInput));
  EXPECT_FALSE(Eval(Compare("StringEquals", "$.s", "Banana"), kInput));
  EXPECT_TRUE(Eval(Compare("StringLessThan", "$.s", "cherry"), kInput));
  EXPECT_FALSE(Eval(Compare("StringLessThan", "$.s", "banana"), kInput));
  EXPECT_TRUE(Eval(Compare("StringLessThanEquals", "$.s", "banana"), kInput));
  EXPECT_TRUE(Eval(Compare("StringGreaterThan", "$.s", "apple"), kInput));
  EXPECT_TRUE(Eval(Compare("StringGreaterThanEquals", "$.s", "banana"), kInput));
  EXPECT_TRUE(Eval(Compare("StringGreaterThanPath", "$.s", "$.other.s"), kInput));
  EXPECT_FALSE(Eval(Compare("StringEqualsPath", "$.s", "$.other.s"), kInput));
  EXPECT_TRUE(Eval(Compare("StringLessThanEqualsPath", "$.other.s", "$.s"), kInput));
  // A value of another type is no match, not an error.
  EXPECT_FALSE(Eval(Compare("StringEquals", "$.n", "5"), kInput));
}

TEST(ChoiceTest, NumericComparators) {
  EXPECT_TRUE(Eval(Compare("NumericEquals", "$.n", 5), kInput));
  EXPECT_TRUE(Eval(Compare("NumericEquals", "$.n", 5.0), kInput));
  EXPECT_TRUE(Eval(Compare("NumericLessThan", "$.f", 3), kInput));
  EXPECT_TRUE(Eval(Compare("NumericGreaterThan", "$.n", 2.5), kInput));
  EXPECT_TRUE(Eval(Compare("NumericLessThanEquals", "$.neg", -3), kInput));
  EXPECT_TRUE(Eval(Compare("NumericGreaterThanEquals", "$.n", -3), kInput));
  EXPECT_TRUE(Eval(Compare("NumericEqualsPath", "$.n", "$.other.n"), kInput));
  EXPECT_TRUE(Eval(Compare("NumericGreaterThanPath", "$.n", "$.f"), kInput));
  EXPECT_TRUE(Eval(Compare("NumericLessThanPath", "$.neg", "$.f"), kInput));
  EXPECT_TRUE(Eval(Compare("NumericLessThanEqualsPath", "$.f", "$.n"), kInput));
  EXPECT_TRUE(Eval(Compare("NumericGreaterThanEqualsPath", "$.n", "$.other.n"), kInput));
  // Integers past 2^53 compare exactly.
  EXPECT_TRUE(Eval(Compare("NumericGreaterThanPath", "$.big", "$.big2"), kInput));
  EXPECT_FALSE(Eval(Compare("NumericEquals", "$.s", 5), kInput));
}

TEST(ChoiceTest, BooleanComparators) {
  EXPECT_TRUE(Eval(Compare("BooleanEquals", "$.b", true), kInput));
  EXPECT_FALSE(Eval(Compare("BooleanEquals", "$.b", false), kInput));
  EXPECT_TRUE(Eval(Compare("BooleanEqualsPath", "$.b", "$.other.b"), kInput));
  EXPECT_FALSE(Eval(Compare("BooleanEquals", "$.s", true), kInput));
}

TEST(ChoiceTest, TimestampsCompareAsInstants) {
  // 13:00+01:00 is 12:00Z: the same instant, written two ways.
  EXPECT_TRUE(Eval(Compare("TimestampEqualsPath", "$.t", "$.t2"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampEquals", "$.t", "2026-03-01T07:00:00-05:00"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampGreaterThan", "$.t", "2026-03-01T11:59:59.999Z"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampLessThan", "$.t", "2026-03-01T12:00:00.000001Z"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampLessThanEquals", "$.t", "2026-03-01T12:00:00Z"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampGreaterThanEquals", "$.t", "2025-12-31T23:59:59Z"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampGreaterThanPath", "$.t", "$.other.t"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampLessThanPath", "$.other.t", "$.t2"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampLessThanEqualsPath", "$.t2", "$.t"), kInput));
  EXPECT_TRUE(Eval(Compare("TimestampGreaterThanEqualsPath", "$.t", "$.t2"), kInput));
  // A string that is no timestamp is no match.
  EXPECT_FALSE(Eval(Compare("TimestampEquals", "$.s", "2026-03-01T12:00:00Z"), kInput));
}

TEST(ChoiceTest, TimestampParsing) {
  EXPECT_TRUE(ParseTimestamp("2024-02-29T23:59:59Z"));
  EXPECT_TRUE(ParseTimestamp("1969-12-31T23:59:59.123456789-00:30"));
  for (const char* bad : {"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01 00:00:00Z",
                          "2026-01-01t00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "2026-01-01T00:00:00+0100",
                          "2026-01-01T00:00:00Zjunk", ""})
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z")->seconds, 0);
  EXPECT_EQ(ParseTimestamp("1970-01-02T01:00:00+01:00")->seconds, 86400);
}

TEST(ChoiceTest, TypeTestsAndIsPresent) {
  EXPECT_TRUE(Eval(Compare("IsNull", "$.nul", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsNull", "$.s", false), kInput));
  EXPECT_TRUE(Eval(Compare("IsNumeric", "$.f", true), kInput));
  EXPECT_FALSE(Eval(Compare("IsNumeric", "$.s", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsString", "$.s", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsBoolean", "$.b", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsTimestamp", "$.t2", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsTimestamp", "$.s", false), kInput));
  EXPECT_TRUE(Eval(Compare("IsPresent", "$.nul", true), kInput));
  EXPECT_TRUE(Eval(Compare("IsPresent", "$.missing", false), kInput));
  EXPECT_FALSE(Eval(Compare("IsPresent", "$.other.missing", true), kInput));
}

TEST(ChoiceTest, APathNamingNothingFailsAsAwsDoes) {
  for (const char* op : {"StringEquals", "NumericEquals", "IsNull", "IsString"}) {
    json operand = std::string(op) == "NumericEquals" ? json(1) : (op[0] == 'I' ? json(true) : json("x"));
    auto r = Evaluate(Compare(op, "$.missing", operand), kInput, json::object());
    ASSERT_FALSE(r.ok()) << op;
    EXPECT_EQ(ErrorName(r.status()), kStatesRuntime);
    EXPECT_EQ(r.status().message(),
              "Invalid path '$.missing': The choice state's condition path references an invalid value.");
  }
  auto r = Evaluate(Compare("NumericEqualsPath", "$.n", "$.nowhere"), kInput, json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorName(r.status()), kStatesRuntime);
  EXPECT_NE(r.status().message().find("'$.nowhere'"), std::string::npos);
}

TEST(ChoiceTest, AndOrNotShortCircuit) {
  ChoiceRule present = Compare("IsPresent", "$.maybe", true);
  ChoiceRule positive = Compare("NumericGreaterThan", "$.maybe", 0);
  // The guard keeps the comparison from failing on a missing field.
  EXPECT_FALSE(Eval(Combine("And", {present, positive}), kInput));
  json with = kInput;
  with["maybe"] = 3;
  EXPECT_TRUE(Eval(Combine("And", {present, positive}), with));
  ChoiceRule absent = Compare("IsPresent", "$.maybe", false);
  EXPECT_TRUE(Eval(Combine("Or", {absent, positive}), kInput));
  EXPECT_TRUE(Eval(Combine("Not", {Compare("StringEquals", "$.s", "apple")}), kInput));
  EXPECT_FALSE(Eval(Combine("Not", {Combine("Or", {Compare("BooleanEquals", "$.b", true), absent})}), kInput));
}

TEST(ChoiceTest, ContextPaths) {
  json context = {{"Execution", {{"Name", "run-42"}}}};
  EXPECT_TRUE(Eval(Compare("StringMatches", "$$.Execution.Name", "run-*"), kInput, context));
  EXPECT_TRUE(Eval(Compare("StringEqualsPath", "$.s", "$$.Execution.Name"), {{"s", "run-42"}}, context));
}

TEST(ChoiceTest, StringMatchesWildcardsAndEscapes) {
  EXPECT_TRUE(StringMatches("*.log", "system.log"));
  EXPECT_FALSE(StringMatches("*.log", "system.logs"));
  EXPECT_TRUE(StringMatches("log-*.txt", "log-2026-01.txt"));
  EXPECT_TRUE(StringMatches("*", ""));
  EXPECT_TRUE(StringMatches("**", "abc"));
  EXPECT_TRUE(StringMatches("a*b*c", "abc"));
  EXPECT_TRUE(StringMatches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(StringMatches("a*b*c", "aXcYb"));
  EXPECT_FALSE(StringMatches("ab*ba", "aba"));  // segments may not overlap
  EXPECT_TRUE(StringMatches("", ""));
  EXPECT_FALSE(StringMatches("", "a"));
  EXPECT_TRUE(StringMatches("exact", "exact"));
  EXPECT_TRUE(StringMatches("\\*star", "*star"));
  EXPECT_FALSE(StringMatches("\\*star", "a star"));
  EXPECT_TRUE(StringMatches("back\\\\slash*", "back\\slash!"));
  EXPECT_TRUE(StringMatches("*aab*", "xaaaab"));
}

TEST(ChoiceTest, StringMatchesHostilePatternIsLinear) {
  // "*a*a*…*a*b" against "aaaa…a": a backtracking matcher takes exponential (or, with the usual
  // memo, quadratic) time here; segment search with KMP takes one pass per segment's span.
  std::string pattern;
  for (int i = 0; i < 2000; ++i) pattern += "*a";
  pattern += "*b";
  std::string text(200000, 'a');
  EXPECT_FALSE(StringMatches(pattern, text));
  EXPECT_TRUE(StringMatches(pattern, text + "b"));
  std::string repeated;
  for (int i = 0; i < 500; ++i) repeated += "*aaaaaaaaaaaaaaaaaaab";
  EXPECT_FALSE(StringMatches(repeated, text));
}

}  // namespace
}  // namespace lathe::asl
