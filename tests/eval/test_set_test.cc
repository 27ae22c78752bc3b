// Test sets: the accepted forms (the guide's, Bedrock's, a prompt/completion split), and every
// problem of a bad file reported at its line and field, as `lathe data validate` reports them.
#include "eval/test_set.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace lathe::eval {
namespace {

// "code@line:field" for every problem, in order: what a test compares.
std::vector<std::string> Codes(const TestSet& set) {
  std::vector<std::string> out;
  for (const auto& p : set.problems) out.push_back(p.code + "@" + std::to_string(p.line) + ":" + p.field);
  return out;
}

bool Has(const TestSet& set, const std::string& code_at) {
  auto codes = Codes(set);
  return std::find(codes.begin(), codes.end(), code_at) != codes.end();
}

TEST(TestSet, AcceptsEveryDocumentedForm) {
  const std::string text =
      // Bedrock's evaluation dataset, as is.
      R"({"prompt": "What is my balance?", "referenceResponse": "Open the app.", "category": "accounts"})" "\n"
      // The guide's ModelEvaluator keys, a format rule, an id, and a key lathe does not know.
      R"({"id": "k1", "prompt": "Explain fine-tuning", "expected_keywords": ["Bedrock", "data"], )"
      R"("format": {"regex": "[A-Z].*"}, "expected_theme": "basics"})" "\n"
      // A chat, with the validation split's "completion" as the reference.
      R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi\nthere"}], )"
      R"("completion": "Hello.", "category": "accounts"})" "\r\n"
      // lathe's own keys.
      R"({"prompt": "Intent?", "expectedKeywords": ["balance"], "category": "", )"
      R"("format": {"jsonSchema": {"type": "object", "required": ["intent"]}}})";
  TestSet set = ParseTestSet(text, "cases.jsonl");
  ASSERT_TRUE(set.ok()) << (set.problems.empty() ? "" : data::FormatProblem(set.problems[0]));
  ASSERT_EQ(set.cases.size(), 4u);
  const TestCase& bedrock = set.cases[0];
  EXPECT_EQ(bedrock.id, "line-1");
  EXPECT_EQ(bedrock.line, 1u);
  EXPECT_EQ(bedrock.reference, "Open the app.");
  EXPECT_EQ(bedrock.category, "accounts");
  EXPECT_EQ(bedrock.format.kind, FormatRule::Kind::kNone);
  const TestCase& guide = set.cases[1];
  EXPECT_EQ(guide.id, "k1");
  EXPECT_EQ(guide.keywords, (std::vector<std::string>{"Bedrock", "data"}));
  EXPECT_EQ(guide.category, "uncategorized");
  EXPECT_EQ(guide.format.kind, FormatRule::Kind::kRegex);
  EXPECT_EQ(guide.record.at("expected_theme"), "basics");  // kept for Bedrock's inputRecord
  const TestCase& chat = set.cases[2];
  ASSERT_EQ(chat.messages.size(), 2u);
  EXPECT_EQ(chat.messages[1].content, "Hi\nthere");
  EXPECT_EQ(chat.reference, "Hello.");
  EXPECT_EQ(chat.DisplayPrompt(), "Hi there");
  EXPECT_EQ(set.cases[3].category, "uncategorized");
  EXPECT_EQ(set.cases[3].format.kind, FormatRule::Kind::kJsonSchema);
  EXPECT_EQ(set.Categories(), (std::vector<std::string>{"accounts", "uncategorized"}));
}

TEST(TestSet, DisplayPromptIsOneLine) {
  TestCase c;
  c.prompt = "  What\tis\n\n my  balance?\n";
  EXPECT_EQ(c.DisplayPrompt(), "What is my balance?");
}

TEST(TestSet, ReportsEveryProblemOfEveryLine) {
  const std::string text =
      R"({"prompt": 5, "expectedKeywords": ["ok", 7, ""], "category": 3})" "\n"              // 1
      R"({"referenceResponse": "x"})" "\n"                                                  // 2
      R"({"prompt": "q", "messages": [{"role": "user", "content": "q"}]})" "\n"             // 3
      R"({"prompt": "   "})" "\n"                                                           // 4
      "\n"                                                                                  // 5
      R"({"prompt": "q", "format": {"regex": "(a)\\1"}})" "\n"                              // 6
      R"({"prompt": "q", "format": {"jsonSchema": {"oneOf": []}}})" "\n"                    // 7
      R"({"prompt": "q", "format": {"regex": "a", "jsonSchema": {}}})" "\n"                 // 8
      R"({"prompt": "q", "id": "same"})" "\n"                                               // 9
      R"({"prompt": "q", "id": "same"})" "\n"                                               // 10
      R"({"prompt": "q",})" "\n"                                                            // 11
      R"(["prompt"])" "\n"                                                                  // 12
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})" "\n"  // 13
      R"({"messages": [{"role": "robot"}]})" "\n"                                           // 14
      R"({"prompt": "q", "expectedKeywords": "one", "completion": "a", "referenceResponse": "b"})" "\n"  // 15
      R"({"prompt": "q", "messages": 4, "format": "json"})" "\n"                            // 16
      // The order RenderChat enforces, reported here rather than as a failed answer mid-run.
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}, {"role": "user", "content": "r"}]})" "\n"  // 17
      R"({"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "r"}]})" "\n";  // 18
  TestSet set = ParseTestSet(text, "bad.jsonl");
  EXPECT_FALSE(set.ok());
  auto codes = Codes(set);
  const std::vector<std::string> want = {
      "wrong-type@1:prompt",
      "wrong-type@1:expectedKeywords[1]",
      "empty-string@1:expectedKeywords[2]",
      "wrong-type@1:category",
      "missing-prompt@2:",
      "prompt-and-messages@3:",
      "empty-string@4:prompt",
      "blank-line@5:",
      "bad-format-rule@6:format.regex",
      "bad-format-rule@7:format.jsonSchema",
      "bad-format-rule@8:format",
      "duplicate-id@10:id",
      "invalid-json@11:",
      "not-an-object@12:",
      "role-order@13:messages[1].role",
      "bad-role@14:messages[0].role",
      "missing-key@14:messages[0].content",
      "role-order@14:messages[0].role",
      "duplicate-key@15:completion",
      "wrong-type@15:expectedKeywords",
      "prompt-and-messages@16:",
      "wrong-type@16:format",
      "role-order@17:messages",
      "role-order@18:messages",
  };
  EXPECT_EQ(codes, want);
  // Blank lines are warnings; everything else here is an error.
  for (const auto& p : set.problems) {
    EXPECT_EQ(p.severity == data::Severity::kWarning, p.code == "blank-line") << p.code;
    EXPECT_EQ(p.file, "bad.jsonl");
  }
  EXPECT_NE(set.problems[set.problems.size() - 2].message.find("a system message must come first"), std::string::npos);
  // Lines 9 is fine (its duplicate on line 10 is the error); nothing with an error is a case.
  ASSERT_EQ(set.cases.size(), 1u);
  EXPECT_EQ(set.cases[0].line, 9u);
  // `lathe data validate`'s form: file:line:col, field, code, fix.
  const std::string printed = data::FormatProblem(set.problems[12]);
  EXPECT_EQ(printed.rfind("bad.jsonl:11:16: error: invalid JSON", 0), 0u) << printed;
  EXPECT_NE(data::FormatProblem(set.problems[11]).find("already used on line 9 [duplicate-id]\n    fix: "),
            std::string::npos);
}

TEST(TestSet, EmptyAndBlankFiles) {
  EXPECT_EQ(Codes(ParseTestSet("", "e.jsonl")), (std::vector<std::string>{"empty-test-set@0:"}));
  TestSet blank = ParseTestSet("\n  \n", "b.jsonl");
  EXPECT_EQ(Codes(blank), (std::vector<std::string>{"blank-line@1:", "blank-line@2:", "empty-test-set@0:"}));
  EXPECT_FALSE(blank.ok());
  // A trailing newline is not a blank line; a blank line alone does not make a good set bad.
  TestSet ok = ParseTestSet("{\"prompt\": \"q\"}\n\n{\"prompt\": \"r\"}\n", "ok.jsonl");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(Codes(ok), (std::vector<std::string>{"blank-line@2:"}));
  EXPECT_EQ(ok.cases[1].id, "line-3");
}

TEST(TestSet, BoundsAndHostileBytes) {
  // A line over the limit is refused before it is parsed.
  std::string long_line = "{\"prompt\": \"" + std::string(kMaxLineBytes, 'x') + "\"}";
  EXPECT_TRUE(Has(ParseTestSet(long_line, "l.jsonl"), "line-too-long@1:"));
  // Nesting is measured before nlohmann sees the line.
  std::string deep = "{\"prompt\": \"q\", \"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(Has(ParseTestSet(deep, "d.jsonl"), "too-deep@1:"));
  // NUL bytes and invalid UTF-8, with their columns.
  TestSet nul = ParseTestSet(std::string("{\"prompt\": \"q\"}\0x", 17), "n.jsonl");
  ASSERT_EQ(nul.problems.size(), 1u);
  EXPECT_EQ(nul.problems[0].code, "invalid-json");
  EXPECT_EQ(nul.problems[0].column, 16u);
  TestSet latin1 = ParseTestSet("{\"prompt\": \"caf\xE9\"}", "u.jsonl");
  ASSERT_EQ(latin1.problems.size(), 1u);
  EXPECT_EQ(latin1.problems[0].code, "invalid-utf8");
  EXPECT_EQ(latin1.problems[0].column, 16u);
  // A keyword of 1 MiB does not fit in a line; one over the keyword bound does.
  std::string mib_keyword = "{\"prompt\": \"q\", \"expectedKeywords\": [\"" + std::string(1 << 20, 'k') + "\"]}";
  EXPECT_TRUE(Has(ParseTestSet(mib_keyword, "k.jsonl"), "line-too-long@1:"));
  std::string big_keyword =
      "{\"prompt\": \"q\", \"expectedKeywords\": [\"" + std::string(kMaxKeywordBytes + 1, 'k') + "\"]}";
  EXPECT_TRUE(Has(ParseTestSet(big_keyword, "k.jsonl"), "too-long@1:expectedKeywords[0]"));
  std::string many = "{\"prompt\": \"q\", \"expectedKeywords\": [";
  for (size_t i = 0; i <= kMaxKeywords; ++i) many += std::string(i ? "," : "") + "\"k\"";
  EXPECT_TRUE(Has(ParseTestSet(many + "]}", "k.jsonl"), "too-many-keywords@1:expectedKeywords"));
  EXPECT_TRUE(Has(ParseTestSet("{\"prompt\": \"q\", \"id\": \"" + std::string(kMaxIdBytes + 1, 'i') + "\"}", "i"),
                  "too-long@1:id"));
  EXPECT_TRUE(Has(ParseTestSet("{\"prompt\": \"q\", \"category\": \"" + std::string(kMaxCategoryBytes + 1, 'c') +
                                   "\"}", "c"),
                  "too-long@1:category"));
  std::string regex = "{\"prompt\": \"q\", \"format\": {\"regex\": \"" + std::string(kMaxRegexBytes + 1, 'a') + "\"}}";
  EXPECT_TRUE(Has(ParseTestSet(regex, "r"), "too-long@1:format.regex"));
  // A schema nested past kMaxSchemaDepth (within the line's JSON depth) is refused.
  std::string schema = "{\"type\": \"array\"}";
  for (size_t i = 0; i <= kMaxSchemaDepth; ++i) schema = "{\"items\": " + schema + "}";
  EXPECT_TRUE(Has(ParseTestSet("{\"prompt\": \"q\", \"format\": {\"jsonSchema\": " + schema + "}}", "s"),
                  "bad-format-rule@1:format.jsonSchema"));
  std::string messages = "{\"messages\": [";
  for (size_t i = 0; i <= kMaxMessages; ++i) messages += std::string(i ? "," : "") + R"({"role":"user","content":"q"})";
  EXPECT_TRUE(Has(ParseTestSet(messages + "]}", "m"), "too-many-messages@1:messages"));
  // UTF-16 is named, not parsed as noise.
  EXPECT_TRUE(Has(ParseTestSet(std::string("\xFF\xFE{\0\"\0", 6), "w"), "utf16@1:"));
  // A byte-order mark is a warning, and columns still count it.
  TestSet bom = ParseTestSet("\xEF\xBB\xBF{\"prompt\": \"q\"}", "bom");
  EXPECT_TRUE(bom.ok());
  EXPECT_EQ(Codes(bom), (std::vector<std::string>{"bom@1:"}));
}

TEST(TestSet, CaseAndProblemCountsAreBounded) {
  std::string text;
  for (size_t i = 0; i <= kMaxCases; ++i) text += "{\"prompt\": \"q\"}\n";
  TestSet set = ParseTestSet(text, "many");
  EXPECT_EQ(set.cases.size(), kMaxCases);
  EXPECT_EQ(Codes(set), (std::vector<std::string>{"too-many-cases@" + std::to_string(kMaxCases + 1) + ":"}));
  // 5,000 bad lines: the first problems listed, the rest counted.
  std::string bad;
  for (int i = 0; i < 5000; ++i) bad += "{\"x\": 1}\n";
  TestSet noisy = ParseTestSet(bad, "noisy");
  EXPECT_LE(noisy.problems.size(), 1001u);
  EXPECT_EQ(noisy.problems.back().code, "too-many-problems");
  EXPECT_FALSE(noisy.ok());
}

TEST(ReadTestSet, TheDocumentedExample) {
  // docs/evaluation.md's example file: every form of case, and it must stay valid.
  auto set = ReadTestSet(std::string(LATHE_SOURCE_DIR) + "/samples/eval_example.jsonl");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_TRUE(set->ok()) << (set->problems.empty() ? "" : data::FormatProblem(set->problems[0]));
  EXPECT_EQ(set->cases.size(), 5u);
  EXPECT_EQ(set->Categories(), (std::vector<std::string>{"accounts", "cards", "format"}));
}

TEST(ReadTestSet, FromAFile) {
  EXPECT_EQ(ReadTestSet("/nonexistent/cases.jsonl").status().code(), Status::Code::kNotFound);
  char path[] = "/tmp/lathe_test_set_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "{\"prompt\": \"q\", \"referenceResponse\": \"a\"}\n";
  auto set = ReadTestSet(path);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->ok());
  EXPECT_EQ(set->source, path);
  EXPECT_EQ(set->cases.at(0).reference, "a");
  std::remove(path);
}

}  // namespace
}  // namespace lathe::eval
