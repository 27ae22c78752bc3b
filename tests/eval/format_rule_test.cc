// Format rules: regexes matched whole and without backtracking, the JSON Schema subset, and the
// hostile rules and answers they must survive.
#include <gtest/gtest.h>

#include "eval/metrics.h"

namespace lathe::eval {
namespace {

using nlohmann::json;

FormatRule Regex(std::string pattern) {
  FormatRule r;
  r.kind = FormatRule::Kind::kRegex;
  r.regex = std::move(pattern);
  return r;
}

FormatRule Schema(json schema) {
  FormatRule r;
  r.kind = FormatRule::Kind::kJsonSchema;
  r.schema = std::move(schema);
  return r;
}

TEST(FormatRegex, MatchesTheWholeAnswer) {
  auto phone = Regex(R"(\d{3}-\d{4})");
  EXPECT_EQ(FormatRuleProblem(phone), "");
  EXPECT_TRUE(SatisfiesFormat("555-1234", phone));
  EXPECT_TRUE(SatisfiesFormat(" 555-1234\n", phone));  // surrounding blanks are not the answer
  EXPECT_FALSE(SatisfiesFormat("call 555-1234", phone));
  EXPECT_FALSE(SatisfiesFormat("555-12345", phone));
  // DFA semantics: some alternative must cover the whole answer, not just the first one tried.
  EXPECT_TRUE(SatisfiesFormat("ab", Regex("a|ab")));
  // UTF mode: "." is one code point.
  EXPECT_TRUE(SatisfiesFormat("é", Regex(".")));
  EXPECT_TRUE(SatisfiesFormat("Yes", Regex("(?i)yes|no")));
  EXPECT_TRUE(SatisfiesFormat("", Regex("")));
  EXPECT_TRUE(SatisfiesFormat("anything", FormatRule{}));
}

TEST(FormatRegex, RefusesWhatNeedsBacktracking) {
  EXPECT_NE(FormatRuleProblem(Regex(R"((a)\1)")), "");          // backreference
  EXPECT_NE(FormatRuleProblem(Regex("(*PRUNE)a")), "");          // backtracking verb
  EXPECT_NE(FormatRuleProblem(Regex("(*LIMIT_MATCH=99999999)a")), "");
  EXPECT_NE(FormatRuleProblem(Regex("(a)(?(1)b|c)")), "");       // conditional group
  EXPECT_NE(FormatRuleProblem(Regex(R"(\C)")), "");               // a byte in UTF mode
  EXPECT_NE(FormatRuleProblem(Regex("(")), "");
  EXPECT_NE(FormatRuleProblem(Regex(std::string(kMaxRegexBytes + 1, 'a'))), "");
  EXPECT_NE(FormatRuleProblem(Regex("\xff")), "");                // not UTF-8
  // Counted repeats that compile far beyond the source's size.
  EXPECT_NE(FormatRuleProblem(Regex("(?:(?:ab?){100}){100}")), "");
  // Look-alikes that are plain characters are fine.
  EXPECT_EQ(FormatRuleProblem(Regex(R"(\(*x)")), "");
  EXPECT_EQ(FormatRuleProblem(Regex("[(*]+")), "");
  EXPECT_EQ(FormatRuleProblem(Regex(R"(\Q(*\E)")), "");
  EXPECT_TRUE(SatisfiesFormat("((x", Regex(R"(\(*x)")));
  // An unusable rule never matches.
  EXPECT_FALSE(SatisfiesFormat("aa", Regex(R"((a)\1)")));
}

TEST(FormatRegex, CatastrophicPatternIsLinear) {
  // "(a+)+$" against "aaa...ab" takes a backtracking matcher 2^n steps; the DFA takes one pass.
  // 100,000 bytes would not finish in a backtracking engine's lifetime.
  std::string hostile(100000, 'a');
  hostile += 'b';
  EXPECT_FALSE(SatisfiesFormat(hostile, Regex("(a+)+$")));
  EXPECT_FALSE(SatisfiesFormat(hostile, Regex("(a|aa)*c")));
  EXPECT_TRUE(SatisfiesFormat(hostile, Regex("(a|aa)*b")));
  // PCRE2's DFA keeps a state per byte for nested repeats and dedupes states by a linear scan, so
  // its states are bounded: a rule needing more than the bound does not match rather than take
  // quadratic time. 200 overlapping alternatives need 200 states at every byte.
  std::string many = "(?:a";
  for (int i = 0; i < 199; ++i) many += "|a";
  many += ")*b";
  EXPECT_EQ(FormatRuleProblem(Regex(many)), "");
  EXPECT_FALSE(SatisfiesFormat(hostile, Regex(many)));
  // ... and says it could not decide, so the case gets no formatCompliance rather than a "no"
  // the answer did not earn; a decided "no" stays false, not undecided.
  EXPECT_EQ(CheckFormat(hostile, Regex(many)), std::nullopt);
  TestCase c;
  c.format = Regex(many);
  EXPECT_EQ(ScoreAnswer(c, hostile).count(kFormatCompliance), 0u);
  EXPECT_EQ(CheckFormat(hostile, Regex("(a|aa)*c")), std::optional<bool>(false));
  c.format = Regex("(a|aa)*b");
  EXPECT_EQ(ScoreAnswer(c, "aab").at(kFormatCompliance), 1.0);
  EXPECT_EQ(ScoreAnswer(c, "aac").at(kFormatCompliance), 0.0);
  // Realistic rules stay well inside it.
  EXPECT_TRUE(SatisfiesFormat(R"({"k1": "v v", "k2": "x"})", Regex(R"(\{("\w+": "[^"]*",?\s*)*\})")));
  std::string words;
  for (int i = 0; i < 400; ++i) words += "Word ";
  EXPECT_TRUE(SatisfiesFormat(words, Regex(R"(([A-Z][a-z]+ ?)+)")));
  EXPECT_TRUE(SatisfiesFormat(words + "\n", Regex(R"((\w+\s*)*)")));
}

TEST(FormatRegex, HostileAnswers) {
  EXPECT_FALSE(SatisfiesFormat("caf\xC3", Regex("caf.")));        // truncated UTF-8
  EXPECT_FALSE(SatisfiesFormat(std::string("ab\xff"), Regex(".*")));
  EXPECT_TRUE(SatisfiesFormat(std::string("a\0b", 3), Regex(R"(a\x00b)")));
  EXPECT_FALSE(SatisfiesFormat(std::string("a\0b", 3), Regex("ab")));
}

const json kIntentSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "intent": {"type": "string", "enum": ["balance", "transfer"]},
    "amount": {"type": "number", "minimum": 0, "maximum": 10000}
  },
  "required": ["intent"],
  "additionalProperties": false
})");

TEST(FormatSchema, ObjectRules) {
  auto rule = Schema(kIntentSchema);
  EXPECT_EQ(FormatRuleProblem(rule), "");
  EXPECT_TRUE(SatisfiesFormat(R"({"intent":"balance","amount":5})", rule));
  EXPECT_TRUE(SatisfiesFormat(" {\"intent\": \"transfer\"}\n", rule));
  EXPECT_FALSE(SatisfiesFormat(R"({"intent":"loan"})", rule));                 // enum
  EXPECT_FALSE(SatisfiesFormat(R"({"amount":5})", rule));                      // required
  EXPECT_FALSE(SatisfiesFormat(R"({"intent":"balance","x":1})", rule));         // additionalProperties
  EXPECT_FALSE(SatisfiesFormat(R"({"intent":"balance","amount":-1})", rule));   // minimum
  EXPECT_FALSE(SatisfiesFormat(R"({"intent":"balance","amount":10001})", rule)); // maximum
  EXPECT_FALSE(SatisfiesFormat(R"({"intent":"balance","amount":"5"})", rule));  // type
  EXPECT_FALSE(SatisfiesFormat(R"(["intent"])", rule));
  EXPECT_FALSE(SatisfiesFormat("Sure! {\"intent\":\"balance\"}", rule));       // not JSON
  EXPECT_FALSE(SatisfiesFormat(std::string("{\"intent\":\"balance\"}\0x", 22), rule));
}

TEST(FormatSchema, ArraysStringsNumbers) {
  auto rule = Schema(json::parse(R"({"type":"array","minItems":1,"maxItems":2,
                                     "items":{"type":"string","minLength":1,"maxLength":2}})"));
  EXPECT_EQ(FormatRuleProblem(rule), "");
  EXPECT_TRUE(SatisfiesFormat(R"(["éé","x"])", rule));  // 2 code points (4 bytes)
  EXPECT_FALSE(SatisfiesFormat(R"(["éée"])", rule));
  EXPECT_FALSE(SatisfiesFormat(R"([])", rule));
  EXPECT_FALSE(SatisfiesFormat(R"(["a","b","c"])", rule));
  EXPECT_FALSE(SatisfiesFormat(R"([""])", rule));

  auto integer = Schema(json{{"type", "integer"}});
  EXPECT_TRUE(SatisfiesFormat("3", integer));
  EXPECT_TRUE(SatisfiesFormat("3.0", integer));  // JSON Schema: a number with zero fraction
  EXPECT_FALSE(SatisfiesFormat("3.5", integer));
  auto either = Schema(json{{"type", json::array({"string", "null"})}});
  EXPECT_TRUE(SatisfiesFormat("null", either));
  EXPECT_TRUE(SatisfiesFormat("\"x\"", either));
  EXPECT_FALSE(SatisfiesFormat("1", either));
  EXPECT_TRUE(SatisfiesFormat("{\"a\":1}", Schema(json{{"const", json{{"a", 1}}}})));
  EXPECT_TRUE(SatisfiesFormat("anything goes? no: must be JSON", Schema(true)) == false);
  EXPECT_TRUE(SatisfiesFormat("[1]", Schema(true)));
  EXPECT_FALSE(SatisfiesFormat("[1]", Schema(false)));
}

TEST(FormatSchema, PatternSearchesLikeJsonSchema) {
  // JSON Schema's "pattern" is not anchored: it may match anywhere unless it says ^...$.
  auto anywhere = Schema(json{{"type", "string"}, {"pattern", "b+"}});
  EXPECT_TRUE(SatisfiesFormat("\"abc\"", anywhere));
  EXPECT_FALSE(SatisfiesFormat("\"ac\"", anywhere));
  auto whole = Schema(json{{"type", "string"}, {"pattern", "^[A-Z]{3}$"}});
  EXPECT_TRUE(SatisfiesFormat("\"ABC\"", whole));
  EXPECT_FALSE(SatisfiesFormat("\"ABCD\"", whole));
  // A pattern that only a stray ')' could break out of a wrapper is still checked alone first.
  EXPECT_NE(FormatRuleProblem(Schema(json{{"pattern", "a)(b"}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"pattern", R"((a)\1)"}})), "");
  // Linear search: the hostile case of the regex test, inside a JSON string.
  std::string hostile = "\"" + std::string(100000, 'a') + "b\"";
  EXPECT_FALSE(SatisfiesFormat(hostile, Schema(json{{"pattern", "^(a+)+$"}})));
}

TEST(FormatSchema, RefusesWhatItDoesNotSupport) {
  EXPECT_NE(FormatRuleProblem(Schema(json{{"oneOf", json::array()}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"type", "text"}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"additionalProperties", json::object()}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"items", json::array()}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"minLength", -1}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json{{"required", json::array({1})}})), "");
  EXPECT_NE(FormatRuleProblem(Schema(json::array())), "");
  EXPECT_EQ(FormatRuleProblem(Schema(json{{"title", "t"}, {"description", "d"}, {"$schema", "x"}})), "");
  json big = json::object();
  big["enum"] = json::array({std::string(kMaxSchemaBytes, 'x')});
  EXPECT_NE(FormatRuleProblem(Schema(big)), "");
}

json NestedItems(int depth) {
  json s = json{{"type", "array"}};
  for (int i = 0; i < depth; ++i) s = json{{"items", s}};
  return s;
}

TEST(FormatSchema, DepthIsBounded) {
  EXPECT_EQ(FormatRuleProblem(Schema(NestedItems(kMaxSchemaDepth))), "");
  EXPECT_NE(FormatRuleProblem(Schema(NestedItems(kMaxSchemaDepth + 1))), "");
  auto deep = Schema(NestedItems(1000));
  EXPECT_NE(FormatRuleProblem(deep), "");
  EXPECT_FALSE(SatisfiesFormat("[]", deep));
  // A deeply nested answer is measured before it is parsed.
  std::string answer(100000, '[');
  answer += std::string(100000, ']');
  EXPECT_FALSE(SatisfiesFormat(answer, Schema(json{{"type", "array"}})));
}

}  // namespace
}  // namespace lathe::eval
