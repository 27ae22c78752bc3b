#include "data/validator.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/model_limits.h"
#include "data/record.h"
#include "fake_env.h"
#include "test_util.h"
#include "text/tokenizer.h"

namespace lathe::data {
namespace {

using lathe::testing::FakeEnv;
using lathe::testing::Pieces;

const std::string kPc = R"({"prompt":"p","completion":"c"})";
const std::string kChat =
    R"({"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]})";

// Validation with allow_small, so that tests of one rule see only that rule's problems.
ValidateOptions Small() {
  ValidateOptions o;
  o.allow_small = true;
  return o;
}

FileReport Check(const std::string& contents, ValidateOptions o = Small()) {
  return ValidateBuffer(contents, "t.jsonl", o);
}

std::string Lines(int n, const std::string& line) {
  std::string s;
  for (int i = 0; i < n; ++i) s += line + "\n";
  return s;
}

std::string Describe(const FileReport& r) { return FormatReport(r); }

// Asserts every located attribute of one problem.
void ExpectProblem(const Problem& p, Severity sev, const std::string& code, uint64_t line,
                   uint64_t column, const std::string& field) {
  EXPECT_EQ(p.code, code);
  EXPECT_EQ(p.severity, sev) << p.code;
  EXPECT_EQ(p.line, line) << p.code;
  EXPECT_EQ(p.column, column) << p.code;
  EXPECT_EQ(p.field, field) << p.code;
  EXPECT_EQ(p.file, "t.jsonl");
  EXPECT_FALSE(p.message.empty()) << p.code;
  EXPECT_FALSE(p.fix.empty()) << p.code << ": every problem says how to fix it";
}

// The record's only problem (the report must hold exactly one).
const Problem& Only(const FileReport& r) {
  static const Problem kNone;
  EXPECT_EQ(r.problems.size(), 1u) << Describe(r);
  return r.problems.empty() ? kNone : r.problems[0];
}

// The first problem, or an empty one (so a failed expectation above cannot index out of range).
const Problem& First(const FileReport& r) {
  static const Problem kNone;
  return r.problems.empty() ? kNone : r.problems[0];
}

// ---- valid files, one per format -----------------------------------------------------------

TEST(Validator, AcceptsEachFormat) {
  struct Case {
    std::string line;
    Format format;
  } cases[] = {
      {kPc, Format::kPromptCompletion},
      {kChat, Format::kChat},
      {R"({"system":"be brief","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"assistant","content":"d"}]})",
       Format::kChat},
      // OpenAI style: a leading system message.
      {R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"a"},{"role":"assistant","content":"b"}]})",
       Format::kChat},
      {R"({"schemaVersion":"bedrock-conversation-2024","system":[{"text":"be brief"}],"messages":[{"role":"user","content":[{"text":"a"},{"text":"a2"}]},{"role":"assistant","content":[{"text":"b"}]}]})",
       Format::kConversation},
      {R"({"input":"some text to continue pre-training on"})", Format::kPretraining},
  };
  for (const Case& c : cases) {
    FileReport r = ValidateBuffer(Lines(40, c.line), "t.jsonl", ValidateOptions{});
    EXPECT_TRUE(r.ok()) << c.line << "\n" << Describe(r);
    EXPECT_TRUE(r.problems.empty()) << Describe(r);
    EXPECT_EQ(r.format, c.format) << c.line;
    EXPECT_EQ(r.records, 40u);
    EXPECT_EQ(r.valid_records, 40u);
    EXPECT_EQ(r.errors, 0u);
    EXPECT_EQ(r.warnings, 0u);
    EXPECT_EQ(r.bytes, (c.line.size() + 1) * 40);
  }
}

TEST(Validator, LastLineWithoutNewlineIsARecord) {
  FileReport r = Check(kPc + "\n" + kPc);
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.valid_records, 2u);
}

TEST(Validator, ForcedFormatIsUsed) {
  ValidateOptions o = Small();
  o.format = Format::kChat;
  FileReport r = Check(kPc + "\n", o);
  ExpectProblem(Only(r), Severity::kError, "mixed-format", 1, 0, "");
  EXPECT_NE(First(r).message.find("set by --format"), std::string::npos);
}

// ---- line-level rules ----------------------------------------------------------------------

TEST(Validator, InvalidJsonNamesTheParsersColumn) {
  // The literal "tru" breaks at the '}' in column 34.
  FileReport r = Check(kPc + "\n" + R"({"prompt": "a", "completion": tru})" + "\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-json", 2, 34, "");
  EXPECT_NE(First(r).message.find("invalid literal"), std::string::npos);
  // The message keeps nlohmann's explanation but not its own "line 1, column N" position.
  EXPECT_EQ(First(r).message.find("column"), std::string::npos) << First(r).message;
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.valid_records, 1u);
}

TEST(Validator, TruncatedJsonPointsJustPastTheEnd) {
  std::string line = R"({"prompt": "a")";  // 14 bytes: the parser runs out after the last one
  ExpectProblem(Only(Check(line + "\n")), Severity::kError, "invalid-json", 1, 15, "");
}

TEST(Validator, TrailingGarbageIsInvalidJson) {
  // The second '{' is byte 32, after a complete object.
  ExpectProblem(Only(Check(kPc + "{}\n")), Severity::kError, "invalid-json", 1, 32, "");
}

TEST(Validator, NumberOverflowIsInvalidJsonNotACrash) {
  // nlohmann reports an overflowing number with out_of_range, not parse_error.
  // The number is bytes 12-16; the parser stops after its last digit.
  FileReport r = Check(kPc + "\n" + R"({"prompt": 1e999, "completion": "c"})" "\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-json", 2, 16, "");
  EXPECT_EQ(First(r).message, "invalid JSON: number overflow parsing '1e999'");
}

TEST(Validator, NulByteEndsNothing) {
  // nlohmann stops at a NUL as if the input ended there; the junk after it must not pass.
  FileReport r = Check(kPc + std::string(1, '\0') + "junk\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-json", 1, 32, "");
  r = Check(std::string(R"({"prompt":"a)") + '\0' + R"(","completion":"c"})" "\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-json", 1, 13, "");
}

TEST(Validator, InvalidUtf8NamesTheByte) {
  // "caf" ends at byte 14; the Latin-1 é is byte 15.
  FileReport r = Check(kPc + "\n" + "{\"prompt\":\"caf\xE9\",\"completion\":\"c\"}\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-utf8", 2, 15, "");
  EXPECT_EQ(First(r).message, "invalid UTF-8 (byte 0xE9)");
}

TEST(Validator, InvalidUtf8OverlongAndSurrogateAreRejected) {
  // An overlong '"' would fool a naive JSON scanner; a CESU-8 surrogate is not UTF-8 either.
  ExpectProblem(Only(Check("{\"prompt\":\"\xC0\xA2\",\"completion\":\"c\"}\n")), Severity::kError,
                "invalid-utf8", 1, 12, "");
  ExpectProblem(Only(Check("{\"prompt\":\"\xED\xA0\x80\",\"completion\":\"c\"}\n")),
                Severity::kError, "invalid-utf8", 1, 12, "");
}

TEST(Validator, BlankLinesAreErrors) {
  FileReport r = Check(kPc + "\n\n" + kPc + "\n \t\n" + kPc + "\r\n\r\n" + kPc + "\n");
  ASSERT_EQ(r.problems.size(), 3u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "blank-line", 2, 0, "");
  ExpectProblem(r.problems[1], Severity::kError, "blank-line", 4, 0, "");
  ExpectProblem(r.problems[2], Severity::kError, "blank-line", 6, 0, "");
  EXPECT_EQ(r.records, 4u);  // blank lines are not records
  EXPECT_EQ(r.problem_counts.at("blank-line"), 3u);
}

TEST(Validator, TrailingNewlineIsNotABlankLine) {
  EXPECT_TRUE(Check(kPc + "\n" + kPc + "\n").problems.empty());
}

TEST(Validator, BomIsAcceptedWithAWarning) {
  FileReport r = Check("\xEF\xBB\xBF" + kPc + "\n" + kPc + "\n");
  ExpectProblem(Only(r), Severity::kWarning, "bom", 1, 1, "");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.valid_records, 2u);
  EXPECT_EQ(r.warnings, 1u);
  EXPECT_EQ(r.errors, 0u);
}

TEST(Validator, BomLaterInTheFileIsNotStripped) {
  // Only a BOM at the very start is a BOM; elsewhere U+FEFF before '{' is not JSON.
  FileReport r = Check(kPc + "\n\xEF\xBB\xBF" + kPc + "\n");
  ExpectProblem(Only(r), Severity::kError, "invalid-json", 2, 1, "");
}

TEST(Validator, ColumnsOnTheBomLineCountTheBom) {
  // Columns are file columns: after a 3-byte BOM, the broken literal's '}' is byte 37.
  FileReport r = Check("\xEF\xBB\xBF" R"({"prompt": "a", "completion": tru})" "\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kWarning, "bom", 1, 1, "");
  ExpectProblem(r.problems[1], Severity::kError, "invalid-json", 1, 37, "");
  r = Check("\xEF\xBB\xBF{\"prompt\":\"caf\xE9\",\"completion\":\"c\"}\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[1], Severity::kError, "invalid-utf8", 1, 18, "");
}

TEST(Validator, CrlfIsAcceptedAndCounted) {
  FileReport r = Check(kPc + "\r\n" + kPc + "\r\n" + kPc + "\n");
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.crlf_lines, 2u);
  EXPECT_EQ(r.valid_records, 3u);
  EXPECT_NE(FormatReport(r).find("2 CRLF line endings (accepted)"), std::string::npos);
}

TEST(Validator, NotAnObject) {
  FileReport r = Check("[1, 2]\n\"text\"\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "not-object", 1, 0, "");
  EXPECT_EQ(First(r).message, "expected a JSON object, got an array");
  ExpectProblem(r.problems[1], Severity::kError, "not-object", 2, 0, "");
  EXPECT_EQ(r.problems[1].message, "expected a JSON object, got a string");
}

TEST(Validator, UnknownFormatListsTheKeys) {
  FileReport r = Check(R"({"question":"q","answer":"a"})" "\n{}\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "unknown-format", 1, 0, "");
  EXPECT_NE(First(r).message.find(R"(keys: "answer", "question")"), std::string::npos)
      << First(r).message;
  ExpectProblem(r.problems[1], Severity::kError, "unknown-format", 2, 0, "");
  EXPECT_NE(r.problems[1].message.find("keys: none"), std::string::npos);
  EXPECT_EQ(r.format, Format::kAuto);
}

TEST(Validator, MixedFormatsNameTheLineThatDiffers) {
  FileReport r = Check(kPc + "\n" + kPc + "\n" + kChat + "\n" + R"({"input":"x"})" + "\n" + kPc +
                       "\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "mixed-format", 3, 0, "");
  EXPECT_EQ(First(r).message,
            "record is chat but the file is prompt-completion (detected from line 1)");
  ExpectProblem(r.problems[1], Severity::kError, "mixed-format", 4, 0, "");
  EXPECT_EQ(r.format, Format::kPromptCompletion);
  EXPECT_EQ(r.valid_records, 3u);
}

TEST(Validator, FormatIsDetectedFromTheFirstRecordThatHasOne) {
  FileReport r = Check("oops\n" + kChat + "\n" + kPc + "\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "invalid-json", 1, 1, "");
  ExpectProblem(r.problems[1], Severity::kError, "mixed-format", 3, 0, "");
  EXPECT_NE(r.problems[1].message.find("(detected from line 2)"), std::string::npos);
  EXPECT_EQ(r.format, Format::kChat);
}

// ---- prompt-completion and pre-training fields ------------------------------------------

TEST(Validator, WrongTypes) {
  struct Case {
    std::string line, field, got;
  } cases[] = {
      {R"({"prompt":5,"completion":"c"})", "prompt", "a number"},
      {R"({"prompt":"p","completion":null})", "completion", "null"},
      {R"({"prompt":["p"],"completion":"c"})", "prompt", "an array"},
      {R"({"prompt":"p","completion":{"text":"c"}})", "completion", "an object"},
      {R"({"prompt":true,"completion":"c"})", "prompt", "a boolean"},
      {R"({"input":1.5})", "input", "a number"},
  };
  for (const Case& c : cases) {
    FileReport r = Check(c.line + "\n");
    ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, c.field);
    EXPECT_EQ(First(r).message, "expected a string, got " + c.got) << c.line;
    EXPECT_EQ(r.valid_records, 0u);
  }
}

TEST(Validator, MissingKeys) {
  FileReport r = Check(R"({"prompt":"p"})" "\n" R"({"completion":"c"})" "\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "missing-key", 1, 0, "completion");
  EXPECT_EQ(First(r).message, "required key \"completion\" is missing");
  ExpectProblem(r.problems[1], Severity::kError, "missing-key", 2, 0, "prompt");
}

TEST(Validator, ExtraKeys) {
  FileReport r = Check(R"({"prompt":"p","completion":"c","id":7,"meta":{}})" "\n"
                       R"({"input":"x","source":"web"})" "\n",
                       [] {
                         ValidateOptions o = Small();
                         o.max_problems_in_full = 100;
                         return o;
                       }());
  // Line 2 is pre-training: also a mixed-format error, and nothing else.
  ASSERT_EQ(r.problems.size(), 3u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "extra-key", 1, 0, "id");
  EXPECT_EQ(First(r).message, "unexpected key \"id\"");
  EXPECT_EQ(First(r).fix, "remove it: a prompt-completion record allows only prompt, completion");
  ExpectProblem(r.problems[1], Severity::kError, "extra-key", 1, 0, "meta");
  ExpectProblem(r.problems[2], Severity::kError, "mixed-format", 2, 0, "");

  r = Check(R"({"input":"x","source":"web"})" "\n");
  ExpectProblem(Only(r), Severity::kError, "extra-key", 1, 0, "source");
}

TEST(Validator, EmptyAndWhitespaceOnlyStrings) {
  FileReport r = Check(R"({"prompt":"","completion":"c"})" "\n"
                       R"({"prompt":"p","completion":" \t\n\r "})" "\n"
                       R"({"input":"   "})" "\n");
  ASSERT_EQ(r.problems.size(), 3u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "empty-string", 1, 0, "prompt");
  EXPECT_EQ(First(r).message, "is empty");
  ExpectProblem(r.problems[1], Severity::kError, "empty-string", 2, 0, "completion");
  EXPECT_EQ(r.problems[1].message, "contains only whitespace");
  ExpectProblem(r.problems[2], Severity::kError, "mixed-format", 3, 0, "");
  r = Check(R"({"input":"   "})" "\n");
  ExpectProblem(Only(r), Severity::kError, "empty-string", 1, 0, "input");
}

TEST(Validator, EveryProblemOfARecordIsReported) {
  FileReport r = Check(R"({"prompt":"","completion":3,"x":1})" "\n");
  ASSERT_EQ(r.problems.size(), 3u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "extra-key", 1, 0, "x");
  ExpectProblem(r.problems[1], Severity::kError, "empty-string", 1, 0, "prompt");
  ExpectProblem(r.problems[2], Severity::kError, "wrong-type", 1, 0, "completion");
  EXPECT_EQ(r.errors, 3u);
}

// ---- chat ----------------------------------------------------------------------------------

std::string Msg(const std::string& role, const std::string& content) {
  return R"({"role":")" + role + R"(","content":")" + content + R"("})";
}
std::string ChatLine(const std::vector<std::string>& msgs, const std::string& extra = "") {
  std::string s = "{" + extra + R"("messages":[)";
  for (size_t i = 0; i < msgs.size(); ++i) s += (i ? "," : "") + msgs[i];
  return s + "]}\n";
}

TEST(Validator, ChatRolesMustAlternateStartingWithUser) {
  FileReport r = Check(ChatLine({Msg("user", "a"), Msg("user", "b"), Msg("assistant", "c")}));
  ExpectProblem(Only(r), Severity::kError, "role-order", 1, 0, "messages[1].role");
  EXPECT_EQ(First(r).message, "expected \"assistant\", got \"user\"");

  r = Check(ChatLine({Msg("assistant", "a"), Msg("user", "b"), Msg("assistant", "c")}));
  ExpectProblem(Only(r), Severity::kError, "role-order", 1, 0, "messages[0].role");
  EXPECT_EQ(First(r).message, "expected \"user\", got \"assistant\"");
}

TEST(Validator, ChatMustEndWithAssistant) {
  FileReport r = Check(ChatLine({Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c")}));
  ExpectProblem(Only(r), Severity::kError, "last-not-assistant", 1, 0, "messages[2]");
}

TEST(Validator, ChatNeedsTwoMessages) {
  FileReport r = Check(ChatLine({Msg("user", "a")}));
  ExpectProblem(Only(r), Severity::kError, "too-few-messages", 1, 0, "messages");
  r = Check(ChatLine({}));
  ExpectProblem(Only(r), Severity::kError, "too-few-messages", 1, 0, "messages");
}

TEST(Validator, OpenAiSystemMessageShiftsTheReportedIndex) {
  // messages[0] is the system message, so the misplaced user turn is messages[2].
  FileReport r = Check(
      ChatLine({Msg("system", "s"), Msg("user", "a"), Msg("user", "b"), Msg("assistant", "c")}));
  ExpectProblem(Only(r), Severity::kError, "role-order", 1, 0, "messages[2].role");
  r = Check(ChatLine({Msg("system", "s"), Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c")}));
  ExpectProblem(Only(r), Severity::kError, "last-not-assistant", 1, 0, "messages[3]");
}

TEST(Validator, SystemRoleOnlyAsTheFirstMessage) {
  FileReport r = Check(ChatLine({Msg("user", "a"), Msg("system", "s"), Msg("assistant", "c")}));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "bad-role", 1, 0, "messages[1].role");
  EXPECT_EQ(First(r).message, "unknown role \"system\"");
  // With a top-level "system" a system message is not allowed even first.
  r = Check(ChatLine({Msg("system", "s"), Msg("user", "a"), Msg("assistant", "c")},
                     R"("system":"top",)"));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "bad-role", 1, 0, "messages[0].role");
}

TEST(Validator, ChatFieldErrors) {
  FileReport r = Check(ChatLine({R"({"role":"user","content":"a","name":"bob"})", Msg("assistant", "b")}));
  ExpectProblem(Only(r), Severity::kError, "extra-key", 1, 0, "messages[0].name");

  r = Check(ChatLine({Msg("user", "a"), Msg("assistant", "b")}, R"("id":1,)"));
  ExpectProblem(Only(r), Severity::kError, "extra-key", 1, 0, "id");

  r = Check(ChatLine({Msg("user", "a"), Msg("assistant", "  ")}));
  ExpectProblem(Only(r), Severity::kError, "empty-string", 1, 0, "messages[1].content");

  r = Check(ChatLine({Msg("user", "a"), Msg("assistant", "b")}, R"("system":"",)"));
  ExpectProblem(Only(r), Severity::kError, "empty-string", 1, 0, "system");

  r = Check(ChatLine({Msg("user", "a"), Msg("assistant", "b")}, R"("system":["s"],)"));
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "system");

  r = Check(ChatLine({R"({"role":"user","content":["a"]})", Msg("assistant", "b")}));
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "messages[0].content");

  r = Check(ChatLine({R"({"role":"user"})", Msg("assistant", "b")}));
  ExpectProblem(Only(r), Severity::kError, "missing-key", 1, 0, "messages[0].content");

  r = Check(ChatLine({R"({"content":"a"})", Msg("assistant", "b")}));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "missing-key", 1, 0, "messages[0].role");

  r = Check(ChatLine({R"({"role":"bot","content":"a"})", Msg("assistant", "b")}));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "bad-role", 1, 0, "messages[0].role");

  r = Check(ChatLine({R"({"role":1,"content":"a"})", Msg("assistant", "b")}));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "wrong-type", 1, 0, "messages[0].role");

  r = Check(ChatLine({R"("hello")", Msg("assistant", "b")}));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "wrong-type", 1, 0, "messages[0]");

  r = Check(R"({"messages":"hi"})" "\n");
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "messages");
}

TEST(Validator, ChatFormatForcedButMessagesMissing) {
  ValidateOptions o = Small();
  o.format = Format::kChat;
  FileReport r = Check(R"({"system":"s"})" "\n", o);
  ExpectProblem(Only(r), Severity::kError, "missing-key", 1, 0, "messages");
}

// ---- bedrock-conversation-2024 -------------------------------------------------------------

std::string Conv(const std::string& body) {
  return R"({"schemaVersion":"bedrock-conversation-2024",)" + body + "}\n";
}
const std::string kConvMsgs =
    R"("messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"text":"b"}]}])";

TEST(Validator, ConversationRules) {
  EXPECT_TRUE(Check(Conv(kConvMsgs)).problems.empty());

  FileReport r = Check(R"({"schemaVersion":"bedrock-conversation-2023",)" + kConvMsgs + "}\n");
  ExpectProblem(Only(r), Severity::kError, "bad-schema-version", 1, 0, "schemaVersion");
  EXPECT_EQ(First(r).message,
            "expected \"bedrock-conversation-2024\", got \"bedrock-conversation-2023\"");

  r = Check(Conv(R"("messages":[{"role":"user","content":[{"image":{"format":"png"}}]},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "unsupported-content", 1, 0, "messages[0].content[0]");
  EXPECT_EQ(First(r).message, "content block of type \"image\"");

  r = Check(Conv(R"("messages":[{"role":"user","content":[{"text":"a","cachePoint":1}]},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "extra-key", 1, 0, "messages[0].content[0].cachePoint");

  r = Check(Conv(R"("messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "messages[0].content");

  r = Check(Conv(R"("messages":[{"role":"user","content":[]},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "messages[0].content");

  r = Check(Conv(R"("messages":[{"role":"user","content":[{"text":""}]},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "empty-string", 1, 0, "messages[0].content[0].text");

  r = Check(Conv(R"("system":"s",)" + kConvMsgs));
  ExpectProblem(Only(r), Severity::kError, "wrong-type", 1, 0, "system");

  r = Check(Conv(R"("system":[{"text":"s"}],"extra":1,)" + kConvMsgs));
  ExpectProblem(Only(r), Severity::kError, "extra-key", 1, 0, "extra");

  r = Check(Conv(R"("messages":[{"role":"assistant","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "role-order", 1, 0, "messages[0].role");

  r = Check(Conv(R"("messages":[{"role":"system","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]},{"role":"assistant","content":[{"text":"c"}]}])"));
  ASSERT_GE(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "bad-role", 1, 0, "messages[0].role");

  r = Check(R"({"schemaVersion":"bedrock-conversation-2024"})" "\n");
  ExpectProblem(Only(r), Severity::kError, "missing-key", 1, 0, "messages");

  r = Check(Conv(R"("messages":[{"role":"user"},{"role":"assistant","content":[{"text":"b"}]}])"));
  ExpectProblem(Only(r), Severity::kError, "missing-key", 1, 0, "messages[0].content");
}

// ---- tokens --------------------------------------------------------------------------------

TEST(Validator, TokenEstimateIsCharactersOverSixAndOnlyWarns) {
  ValidateOptions o = Small();
  o.max_record_tokens = 2;
  o.model_id = "m";
  // 6 + 6 code points (é is one) = 12 characters -> 2 tokens: at the limit, accepted.
  FileReport r = Check(R"({"prompt":"abcdé!","completion":"uvwxyz"})" "\n", o);
  EXPECT_TRUE(r.problems.empty()) << Describe(r);
  EXPECT_EQ(r.max_tokens, 2u);
  EXPECT_FALSE(r.tokens_exact);
  // 13 characters -> ceil(13 / 6) = 3 tokens: over, but only a warning.
  r = Check(R"({"prompt":"abcdé!","completion":"uvwxyz1"})" "\n", o);
  ExpectProblem(Only(r), Severity::kWarning, "too-many-tokens", 1, 0, "");
  EXPECT_EQ(First(r).message,
            "record has about 3 tokens (estimated as characters / 6), over the m limit of 2 tokens");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.max_tokens, 3u);
  EXPECT_EQ(r.total_tokens, 3u);
}

TEST(Validator, TokenEstimateCountsSystemAndAllTurns) {
  ValidateOptions o = Small();
  o.max_record_tokens = 1000;
  // system 6 + four turns of 6 = 30 characters -> 5 tokens.
  FileReport r = Check(
      ChatLine({Msg("user", "aaaaaa"), Msg("assistant", "bbbbbb"), Msg("user", "cccccc"),
                Msg("assistant", "dddddd")}, R"("system":"ssssss",)") +
          R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]})" "\n",
      o);
  EXPECT_TRUE(r.problems.empty()) << Describe(r);
  EXPECT_EQ(r.max_tokens, 5u);   // 30 characters / 6
  EXPECT_EQ(r.total_tokens, 6u);  // + ceil(2 / 6) = 1
}

// Counts whitespace-separated words, so expected counts are easy to verify.
class WordTokenizer final : public text::Tokenizer {
 public:
  Status Encode(std::string_view text, std::vector<int>* ids) const override {
    ids->clear();
    bool in_word = false;
    for (char c : text) {
      bool space = c == ' ' || c == '\n';
      if (!space && !in_word) ids->push_back(static_cast<int>(ids->size()));
      in_word = !space;
    }
    return Status::Ok();
  }
  Status Decode(const std::vector<int>&, std::string*) const override {
    return Status::Unsupported("no");
  }
  int vocab_size() const override { return 1000; }
  int bos_id() const override { return -1; }
  int eos_id() const override { return -1; }
};

TEST(Validator, ExactTokenCountOverTheLimitIsAnError) {
  WordTokenizer tok;
  ValidateOptions o = Small();
  o.tokenizer = &tok;
  o.tokenizer_name = "words";
  o.max_record_tokens = 4;
  FileReport r = Check(R"({"prompt":"one two","completion":"three four"})" "\n"
                       R"({"prompt":"one two three","completion":"four five"})" "\n",
                       o);
  ExpectProblem(Only(r), Severity::kError, "too-many-tokens", 2, 0, "");
  EXPECT_EQ(First(r).message, "record has 5 tokens (words), over the limit of 4 tokens");
  EXPECT_TRUE(r.tokens_exact);
  EXPECT_EQ(r.max_tokens, 5u);
  EXPECT_EQ(r.total_tokens, 9u);
  EXPECT_FALSE(r.ok());
}

TEST(Validator, NoTokenLimitMeansNoTokenProblems) {
  FileReport r = Check(R"({"input":")" + std::string(10000, 'a') + "\"}\n");
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.max_tokens, 1667u);  // ceil(10000 / 6)
}

// ---- file-level rules ----------------------------------------------------------------------

TEST(Validator, AtLeast32RecordsForFineTuning) {
  ValidateOptions o;  // allow_small off
  FileReport r = ValidateBuffer(Lines(31, kPc), "t.jsonl", o);
  ExpectProblem(Only(r), Severity::kError, "too-few-records", 0, 0, "");
  EXPECT_EQ(First(r).message, "file has 31 records; fine-tuning needs at least 32");
  EXPECT_TRUE(ValidateBuffer(Lines(32, kPc), "t.jsonl", o).ok());
  // --allow-small, validation files and pre-training files have no minimum.
  o.allow_small = true;
  EXPECT_TRUE(ValidateBuffer(Lines(1, kPc), "t.jsonl", o).problems.empty());
  o.allow_small = false;
  o.purpose = Purpose::kValidation;
  EXPECT_TRUE(ValidateBuffer(Lines(1, kPc), "t.jsonl", o).problems.empty());
  o.purpose = Purpose::kTraining;
  EXPECT_TRUE(ValidateBuffer(Lines(1, R"({"input":"x"})"), "t.jsonl", o).problems.empty());
}

TEST(Validator, EmptyFile) {
  ExpectProblem(Only(Check("")), Severity::kError, "empty-file", 0, 0, "");
  FileReport r = Check("\n");
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "blank-line", 1, 0, "");
  ExpectProblem(r.problems[1], Severity::kError, "empty-file", 0, 0, "");
}

TEST(Validator, RecordQuotaIsAWarning) {
  ValidateOptions o = Small();
  o.max_records = 2;
  o.model_id = "m";
  FileReport r = Check(Lines(3, kPc), o);
  ExpectProblem(Only(r), Severity::kWarning, "too-many-records", 0, 0, "");
  EXPECT_EQ(First(r).message, "file has 3 records; Bedrock's quota for m is 2");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(Check(Lines(2, kPc), o).problems.empty());
}

// A 32-record file whose reported size is `size`.
FileReport ValidateWithReportedSize(const std::string& line, uint64_t size, Purpose purpose) {
  FakeEnv env;
  env.Add("t.jsonl", {Pieces{{line + "\n", 32}}, size});
  ValidateOptions o;
  o.purpose = purpose;
  return ValidateFile(&env, "t.jsonl", o);
}

TEST(Validator, FileSizeLimitsUseTheReportedSize) {
  FileReport r = ValidateWithReportedSize(kPc, uint64_t{2} << 30, Purpose::kTraining);
  ExpectProblem(Only(r), Severity::kError, "file-too-large", 0, 0, "");
  EXPECT_EQ(First(r).message,
            "file is 2.0 GB (2,147,483,648 bytes), over the 1.0 GB limit (1,073,741,824 bytes) "
            "for a fine-tuning file");
  EXPECT_EQ(r.bytes, uint64_t{2} << 30);
  // Exactly 1 GB is allowed.
  EXPECT_TRUE(ValidateWithReportedSize(kPc, kMaxFineTuningFileBytes, Purpose::kTraining).ok());
  EXPECT_FALSE(ValidateWithReportedSize(kPc, kMaxFineTuningFileBytes + 1, Purpose::kTraining).ok());

  r = ValidateWithReportedSize(kPc, (uint64_t{100} << 20) + 1, Purpose::kValidation);
  ExpectProblem(Only(r), Severity::kError, "file-too-large", 0, 0, "");
  EXPECT_EQ(First(r).message,
            "file is 100.0 MB (104,857,601 bytes), over the 100.0 MB limit (104,857,600 bytes) "
            "for a validation file");
  EXPECT_TRUE(ValidateWithReportedSize(kPc, uint64_t{100} << 20, Purpose::kValidation).ok());

  const std::string pt = R"({"input":"x"})";
  EXPECT_TRUE(ValidateWithReportedSize(pt, uint64_t{2} << 30, Purpose::kTraining).ok());
  EXPECT_TRUE(ValidateWithReportedSize(pt, uint64_t{10} << 30, Purpose::kTraining).ok());
  r = ValidateWithReportedSize(pt, uint64_t{11} << 30, Purpose::kTraining);
  ExpectProblem(Only(r), Severity::kError, "file-too-large", 0, 0, "");
  EXPECT_EQ(First(r).message,
            "file is 11.0 GB (11,811,160,064 bytes), over the 10.0 GB limit (10,737,418,240 "
            "bytes) for a continued pre-training file");
  // A pre-training validation file still has the 100 MB limit.
  EXPECT_FALSE(ValidateWithReportedSize(pt, uint64_t{2} << 30, Purpose::kValidation).ok());
}

TEST(Validator, TheSizeLimitHoldsOnAStreamThatReportsNoSize) {
  // A stream (or a file still being written) says 1 byte, then never ends: reading stops at the
  // validation file limit instead of running on.
  FakeEnv env;
  env.Add("t.jsonl", {Pieces{{std::string(1, '\0'), uint64_t{1} << 40}}, 1});
  ValidateOptions o;
  o.purpose = Purpose::kValidation;
  FileReport r = ValidateFile(&env, "t.jsonl", o);
  ExpectProblem(First(r), Severity::kError, "file-too-large", 0, 0, "");
  EXPECT_NE(First(r).message.find("file is more than 100.0 MB"), std::string::npos) << First(r).message;
  EXPECT_NE(First(r).message.find("where reading stopped"), std::string::npos) << First(r).message;
  EXPECT_GT(r.bytes, kMaxValidationFileBytes);
  EXPECT_LE(r.bytes, kMaxValidationFileBytes + (1u << 20));
}

TEST(Validator, Utf16IsNamedWithAFix) {
  std::string utf16 = "\xFF\xFE";
  for (char c : kPc + "\n") utf16 += std::string{c, '\0'};
  FileReport r = Check(utf16);
  ExpectProblem(Only(r), Severity::kError, "utf16", 1, 0, "");
  EXPECT_EQ(First(r).message, "t.jsonl is UTF-16LE text; lathe reads UTF-8: convert it first, e.g. iconv -f "
                              "UTF-16 -t UTF-8 t.jsonl > converted.jsonl");
  EXPECT_EQ(First(r).fix, "convert the file to UTF-8, e.g. iconv -f UTF-16 -t UTF-8 t.jsonl > converted.jsonl");
}

TEST(Validator, MissingFileIsAReadError) {
  FakeEnv env;
  FileReport r = ValidateFile(&env, "t.jsonl", ValidateOptions{});
  ExpectProblem(Only(r), Severity::kError, "read-error", 0, 0, "");
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.problem_counts.at("read-error"), 1u);
  EXPECT_FALSE(r.ok());
}

TEST(Validator, ReadErrorMidwayIsReportedNotACrash) {
  FakeEnv env;
  // Fails after 100 bytes: three 32-byte records come through, the fourth is cut off.
  env.Add("t.jsonl", {Pieces{{kPc + "\n", 40}}, 0, 100});
  FileReport r = ValidateFile(&env, "t.jsonl", Small());
  ASSERT_EQ(r.problems.size(), 1u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "read-error", 0, 0, "");
  EXPECT_NE(First(r).message.find("injected read error at byte 100"), std::string::npos)
      << First(r).message;
  EXPECT_EQ(r.valid_records, 3u);
  EXPECT_FALSE(r.ok());
}

TEST(Validator, ReportsEveryProblemButListsOnlyTheFirstN) {
  ValidateOptions o = Small();
  o.max_problems_in_full = 3;
  std::string data;
  for (int i = 0; i < 10; ++i) data += "oops\n";
  for (int i = 0; i < 5; ++i) data += "\n";
  FileReport r = Check(data, o);
  ASSERT_EQ(r.problems.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i)
    ExpectProblem(r.problems[i], Severity::kError, "invalid-json", i + 1, 1, "");
  EXPECT_EQ(r.errors, 15u);
  EXPECT_EQ(r.problem_counts.at("invalid-json"), 10u);
  EXPECT_EQ(r.problem_counts.at("blank-line"), 5u);
  std::string text = FormatReport(r);
  EXPECT_NE(text.find("... and 12 more problems. All problems by kind: blank-line 5; invalid-json 10\n"),
            std::string::npos)
      << text;
}

// ---- hostile input: constant memory, no crash, no hang ---------------------------------------

long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(Validator, OneGigabyteLineIsSkippedInBoundedMemory) {
  // Pre-training, so that the 1 GB + 41 B file is within its 10 GB limit.
  const uint64_t kGiB = uint64_t{1} << 30;
  const std::string small = R"({"input":"x"})" "\n";  // 14 bytes
  FakeEnv env;
  env.Add("t.jsonl", {Pieces{{small, 1},
                             {R"({"input":")", 1},  // 10 bytes
                             {"a", kGiB},
                             {"\"}\n", 1},         // 2 bytes + newline
                             {small, 1}}});
  long before = MaxRssKb();
  FileReport r = ValidateFile(&env, "t.jsonl", Small());
  long grown_mb = (MaxRssKb() - before) / 1024;
  ExpectProblem(Only(r), Severity::kError, "line-too-long", 2, 0, "");
  EXPECT_EQ(First(r).message,
            "line is 1,073,741,836 bytes, over the 64.0 MB limit for one record");
  EXPECT_EQ(r.format, Format::kPretraining);
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.valid_records, 2u);
  EXPECT_EQ(r.bytes, 2 * small.size() + 10 + kGiB + 3);
  // The line reader keeps at most max_line_bytes plus one chunk.
  EXPECT_LT(grown_mb, 200) << "memory grew by " << grown_mb << " MB";
}

TEST(Validator, GigabytesOfNulBytes) {
  const uint64_t size = uint64_t{2} << 30;
  FakeEnv env;
  env.Add("t.jsonl", {Pieces{{std::string(1, '\0'), size}}});
  long before = MaxRssKb();
  FileReport r = ValidateFile(&env, "t.jsonl", Small());
  long grown_mb = (MaxRssKb() - before) / 1024;
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "line-too-long", 1, 0, "");
  EXPECT_EQ(First(r).message,
            "line is 2,147,483,648 bytes, over the 64.0 MB limit for one record");
  ExpectProblem(r.problems[1], Severity::kError, "file-too-large", 0, 0, "");
  EXPECT_LT(grown_mb, 200) << "memory grew by " << grown_mb << " MB";
}

TEST(Validator, ShortLinesOfNulBytesAreInvalidJson) {
  FileReport r = Check(std::string(5, '\0') + "\n" + std::string(3, '\0'));
  ASSERT_EQ(r.problems.size(), 2u) << Describe(r);
  ExpectProblem(r.problems[0], Severity::kError, "invalid-json", 1, 1, "");
  ExpectProblem(r.problems[1], Severity::kError, "invalid-json", 2, 1, "");
  // Messages are printable and valid JSON text even though the input held NULs.
  EXPECT_NO_THROW(ReportToJson(r).dump());
}

TEST(Validator, SmallMaxLineBytesIsHonoured) {
  ValidateOptions o = Small();
  o.max_line_bytes = 40;
  // 41 bytes: over the limit even though the whole line fits in the reader's first chunk.
  std::string long_line = R"({"prompt":"p","completion":")" + std::string(10, 'c') + "\"}";
  ASSERT_EQ(long_line.size(), 40u);
  EXPECT_TRUE(Check(long_line + "\n", o).problems.empty()) << Describe(Check(long_line + "\n", o));
  std::string longer = R"({"prompt":"p","completion":")" + std::string(11, 'c') + "\"}";
  FileReport r = Check(longer + "\n" + kPc + "\n", o);
  ExpectProblem(Only(r), Severity::kError, "line-too-long", 1, 0, "");
  EXPECT_EQ(First(r).message, "line is 41 bytes, over the 40 B limit for one record");
}

TEST(Validator, DeepNestingIsRefusedBeforeParsing) {
  FileReport r = Check(std::string(100000, '[') + "\n" + std::string(100000, '{') + "\n" +
                       std::string(50000, '[') + std::string(50000, ']') + "\n");
  ASSERT_EQ(r.problems.size(), 3u) << Describe(r);
  for (uint64_t i = 0; i < 3; ++i) {
    ExpectProblem(r.problems[i], Severity::kError, "too-deep", i + 1, 0, "");
    EXPECT_EQ(r.problems[i].message, "JSON nests deeper than 32 levels");
  }
}

TEST(Validator, NestingLimitIsExactlyThe32Levels) {
  // 32 levels parse (and are then not a record); 33 are refused.
  FileReport r = Check(std::string(32, '[') + std::string(32, ']') + "\n");
  ExpectProblem(Only(r), Severity::kError, "not-object", 1, 0, "");
  r = Check(std::string(33, '[') + std::string(33, ']') + "\n");
  ExpectProblem(Only(r), Severity::kError, "too-deep", 1, 0, "");
  // Brackets inside strings do not count, escaped quotes included.
  r = Check(R"({"prompt":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[[[","completion":"c"})" "\n");
  EXPECT_TRUE(r.problems.empty()) << Describe(r);
}

TEST(Validator, ReportJsonHasEveryField) {
  FileReport r = Check(kPc + "\n" + "{bad\n");
  nlohmann::json j = ReportToJson(r);
  EXPECT_EQ(j["file"], "t.jsonl");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["format"], "prompt-completion");
  EXPECT_EQ(j["records"], 2);
  EXPECT_EQ(j["validRecords"], 1);
  EXPECT_EQ(j["errors"], 1);
  EXPECT_EQ(j["problemCounts"]["invalid-json"], 1);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["line"], 2);
  EXPECT_EQ(j["problems"][0]["column"], 2);  // the 'b' where a key string was expected
  EXPECT_EQ(j["problems"][0]["severity"], "error");
  EXPECT_EQ(j["problems"][0]["code"], "invalid-json");
  EXPECT_FALSE(j["problems"][0].contains("field"));
}

TEST(Validator, ReportJsonSurvivesANonUtf8FileName) {
  // File names need not be UTF-8; nlohmann's dump() throws on invalid UTF-8.
  FileReport r = ValidateBuffer("oops\n", "caf\xE9.jsonl", Small());
  std::string text;
  ASSERT_NO_THROW(text = ReportToJson(r).dump());
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["file"], "caf\xEF\xBF\xBD.jsonl");
  EXPECT_EQ(j["problems"][0]["file"], "caf\xEF\xBF\xBD.jsonl");
  // A read error quotes the path in its message.
  FakeEnv env;
  r = ValidateFile(&env, "caf\xE9.jsonl", ValidateOptions{});
  ASSERT_NO_THROW(text = ReportToJson(r).dump());
  EXPECT_EQ(nlohmann::json::parse(text)["problems"][0]["code"], "read-error");
}

// ---- golden report -------------------------------------------------------------------------

// Every kind of line-level problem in one small file; tests/data/golden/validate_report.txt is
// the report, written by hand from the rules (see the comments on each line).
const char kGoldenFixture[] =
    "\xEF\xBB\xBF{\"prompt\":\"Hi\",\"completion\":\"Hello!\"}\n"  // 1: BOM warning 1:1
    "{\"prompt\":\"What is 2+2?\",\"completion\":4}\n"              // 2: completion is a number
    "\n"                                                           // 3: blank
    "{\"prompt\": \"a\", \"completion\": tru}\n"                   // 4: literal breaks at col 34
    "{\"prompt\":\"\",\"completion\":\"x\",\"id\":7}\n"            // 5: extra id, empty prompt
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
    "{\"role\":\"assistant\",\"content\":\"yo\"}]}\n"              // 6: chat in a p-c file
    "{\"prompt\":\"caf\xE9\",\"completion\":\"ok\"}\n"             // 7: Latin-1 byte at col 15
    "{\"prompt\":\"ok\",\"completion\":\"fine\"}\r\n";             // 8: valid, CRLF

TEST(Validator, GoldenHumanReport) {
  ValidateOptions o;
  o.max_problems_in_full = 7;
  FileReport r = ValidateBuffer(std::string_view(kGoldenFixture, sizeof kGoldenFixture - 1),
                                "fixture.jsonl", o);
  std::string golden = lathe::testing::ReadFile(std::string(LATHE_SOURCE_DIR) +
                                                "/tests/data/golden/validate_report.txt");
  ASSERT_FALSE(golden.empty());
  EXPECT_EQ(FormatReport(r), golden);
}

}  // namespace
}  // namespace lathe::data
