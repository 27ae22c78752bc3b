// The linear-time matcher: ECMAScript's meaning for the syntax AWS's service models use, whole-input
// matching, and inputs of any length without recursion (std::regex overflows the stack on them).
#include <gtest/gtest.h>

#include <string>

#include "core/json_nesting.h"
#include "core/linear_pattern.h"

namespace lathe {
namespace {

LinearPattern Compiled(const std::string& p) {
  auto c = LinearPattern::Compile(p);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

TEST(LinearPattern, TheSyntaxOfServiceModels) {
  struct Case {
    const char* pattern;
    const char* input;
    bool match;
  };
  for (const Case& c : std::vector<Case>{
           {"abc", "abc", true},           {"abc", "abcd", false},         {"abc", "ab", false},
           {"a|b", "b", true},             {"a|ab", "ab", true},           {"(a|b)+", "abba", true},
           {"(a|b)+", "", false},          {"a*", "", true},               {"a?b", "b", true},
           {"[a-c]{2,3}", "ab", true},     {"[a-c]{2,3}", "abcc", false},  {"[a-c]{2}", "ab", true},
           {"x{2,}", "xxxxx", true},       {"x{2,}", "x", false},          {"[^:]+", "a/b", true},
           {"[^:]+", "a:b", false},        {"[-a]+", "-a-", true},         {"[a-]+", "-a-", true},
           {"[,-.]", "-", true},           {R"(\S*)", "a b", false},       {R"(\s)", "\t", true},
           {R"(\d+)", "0123", true},       {R"(\w+)", "a_Z9", true},       {R"(a\.b)", "a.b", true},
           {R"(a\.b)", "axb", false},      {"a.b", "axb", true},           {"a.b", "a\nb", false},
           {"(?:ab)+", "abab", true},      {"(|x)", "", true},             {"^a$|b", "a", true},
           {"x(^a)", "xa", false},         {"(a$)b", "ab", false},         {"[0-9a-zA-Z-_ ]+", "A -_", true},
           {R"([a-zA-Z0-9\s._:/=+@-]*)", "cost center:ml/x=1@a+b", true}}) {
    EXPECT_EQ(Compiled(c.pattern).FullMatch(c.input), c.match) << c.pattern << " on \"" << c.input << "\"";
  }
}

TEST(LinearPattern, RefusesSyntaxOutsideTheSubsetNamingTheOffset) {
  for (const char* bad : {"(ab", "ab)", "[ab", "a{2", "a{3,2}", "*a", "a**?", R"(\p{L})", "(?=a)", "\xC3\xA9"}) {
    auto c = LinearPattern::Compile(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("at offset"), std::string::npos) << c.status().message();
  }
}

// A megabyte against patterns whose backtracking form recurses per character (std::regex on a
// 30,000-character provisionedModelName overflowed the stack). Only the answers are asserted.
TEST(LinearPattern, MegabyteInputsFinishWithTheRightAnswer) {
  const std::string mb(1 << 20, 'a');
  EXPECT_TRUE(Compiled("([0-9a-zA-Z][_-]?)+").FullMatch(mb));
  EXPECT_FALSE(Compiled("([0-9a-zA-Z][_-]?)+").FullMatch(mb + "__"));
  EXPECT_TRUE(Compiled(R"([a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*)").FullMatch(mb));
  EXPECT_FALSE(Compiled("(a|aa)*b").FullMatch(mb));  // exponential for a backtracker
  EXPECT_TRUE(Compiled(".*(^[a-zA-Z0-9][a-zA-Z0-9\\-]*$)|(^arn:.*)").FullMatch(mb));
  EXPECT_FALSE(Compiled("([0-9a-zA-Z][_-]?){1,63}").FullMatch(mb));
}

TEST(JsonNesting, CountsBracketsOutsideStringsOnly) {
  EXPECT_TRUE(JsonNestingWithin("[[1]]", 2));
  EXPECT_FALSE(JsonNestingWithin("[[[1]]]", 2));
  EXPECT_TRUE(JsonNestingWithin(R"({"a": "[[[[", "b": "\"[[[["})", 1));  // brackets inside strings, escaped quote
  EXPECT_FALSE(JsonNestingWithin(R"({"a": "\\", "b": [[1]]})", 2));      // an escaped backslash ends the escape
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_FALSE(JsonNestingWithin(deep, 64));
  EXPECT_TRUE(JsonNestingWithin(deep, 200000));
}

}  // namespace
}  // namespace lathe
