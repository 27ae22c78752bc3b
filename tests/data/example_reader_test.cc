#include "data/example_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_env.h"
#include "test_util.h"

namespace lathe::data {
namespace {

using lathe::testing::FakeEnv;
using lathe::testing::Pieces;

const std::string kPc1 = R"({"prompt":"What is 2+2?","completion":"4"})";
const std::string kPc2 = R"({"prompt":"Capital of France?","completion":"Paris"})";

std::unique_ptr<ExampleReader> OpenFake(FakeEnv* env, const std::string& contents,
                                        Format format = Format::kAuto) {
  env->Add("t.jsonl", {Pieces{{contents, 1}}});
  std::unique_ptr<ExampleReader> r;
  Status s = ExampleReader::Open(env, "t.jsonl", format, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

// Reads until Next fails; returns the records' lines.
std::vector<uint64_t> Drain(ExampleReader* r) {
  std::vector<uint64_t> lines;
  Record rec;
  while (r->Next(&rec)) lines.push_back(rec.line);
  return lines;
}

TEST(ExampleReader, ReadsPromptCompletionRecords) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n" + kPc2 + "\n");
  EXPECT_EQ(r->path(), "t.jsonl");
  Record rec;
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(rec.line, 1u);
  EXPECT_EQ(rec.raw, kPc1);
  EXPECT_EQ(r->format(), Format::kPromptCompletion);
  EXPECT_EQ(rec.example.format, Format::kPromptCompletion);
  EXPECT_EQ(rec.example.Prompt(), "What is 2+2?");
  EXPECT_EQ(rec.example.Completion(), "4");
  ASSERT_EQ(rec.example.turns.size(), 2u);
  EXPECT_EQ(rec.example.turns[0].role, Role::kUser);
  EXPECT_EQ(rec.example.turns[1].role, Role::kAssistant);
  EXPECT_EQ(rec.example.AllText(), "What is 2+2?\n4");
  EXPECT_EQ(rec.example.TextBytes(), rec.example.AllText().size());
  ASSERT_TRUE(r->Next(&rec));
  EXPECT_EQ(rec.line, 2u);
  EXPECT_EQ(rec.example.Completion(), "Paris");
  EXPECT_FALSE(r->Next(&rec));
  EXPECT_TRUE(r->status().ok()) << r->status().ToString();
}

TEST(ExampleReader, DecodesChatWithSystemAndMultipleTurns) {
  FakeEnv env;
  auto r = OpenFake(
      &env,
      R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},)"
      R"({"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"},)"
      R"({"role":"assistant","content":"Ciao"}]})" "\n");
  Record rec;
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(r->format(), Format::kChat);
  EXPECT_EQ(rec.example.system, "Be brief.");
  ASSERT_EQ(rec.example.turns.size(), 4u);
  EXPECT_EQ(rec.example.Prompt(), "Hi");         // the first user turn
  EXPECT_EQ(rec.example.Completion(), "Ciao");   // the last assistant turn
  EXPECT_EQ(rec.example.AllText(), "Be brief.\nHi\nHello\nBye\nCiao");
  EXPECT_EQ(rec.example.TextBytes(), rec.example.AllText().size());
}

TEST(ExampleReader, DecodesConversationTextBlocks) {
  FakeEnv env;
  auto r = OpenFake(
      &env,
      R"({"schemaVersion":"bedrock-conversation-2024","system":[{"text":"S1"},{"text":"S2"}],)"
      R"("messages":[{"role":"user","content":[{"text":"a"},{"text":"b"}]},)"
      R"({"role":"assistant","content":[{"text":"c"}]}]})" "\n");
  Record rec;
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(r->format(), Format::kConversation);
  EXPECT_EQ(rec.example.system, "S1\nS2");
  EXPECT_EQ(rec.example.Prompt(), "a\nb");
  EXPECT_EQ(rec.example.Completion(), "c");
}

TEST(ExampleReader, DecodesPretraining) {
  FakeEnv env;
  auto r = OpenFake(&env, R"({"input":"Once upon a time"})" "\n");
  Record rec;
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(r->format(), Format::kPretraining);
  EXPECT_EQ(rec.example.input, "Once upon a time");
  EXPECT_EQ(rec.example.AllText(), "Once upon a time");
  EXPECT_EQ(rec.example.Prompt(), "");
  EXPECT_EQ(rec.example.TextBytes(), 16u);
}

TEST(ExampleReader, StripsBomAndCrlfFromRaw) {
  FakeEnv env;
  auto r = OpenFake(&env, "\xEF\xBB\xBF" + kPc1 + "\r\n" + kPc2 + "\r\n");
  Record rec;
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(rec.raw, kPc1);
  ASSERT_TRUE(r->Next(&rec)) << r->status().ToString();
  EXPECT_EQ(rec.raw, kPc2);
  EXPECT_FALSE(r->Next(&rec));
  EXPECT_TRUE(r->status().ok());
}

TEST(ExampleReader, BlankLineStopsWithLocatedError) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n  \n" + kPc2 + "\n");
  EXPECT_EQ(Drain(r.get()), std::vector<uint64_t>{1});
  EXPECT_EQ(r->status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r->status().message(),
            "t.jsonl:2: error: line is blank [blank-line]\n    fix: remove the blank line\n"
            "    (run `lathe data validate t.jsonl` to see every problem)");
  // Stays failed.
  Record rec;
  EXPECT_FALSE(r->Next(&rec));
}

TEST(ExampleReader, InvalidJsonHasTheColumn) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n" + R"({"prompt": "a", "completion": tru})" + "\n");
  EXPECT_EQ(Drain(r.get()), std::vector<uint64_t>{1});
  EXPECT_EQ(r->status().message().rfind("t.jsonl:2:34: error: invalid JSON: ", 0), 0u)
      << r->status().message();
  EXPECT_NE(r->status().message().find("[invalid-json]"), std::string::npos);
}

TEST(ExampleReader, ColumnOnTheBomLineCountsTheBom) {
  FakeEnv env;
  auto r = OpenFake(&env, "\xEF\xBB\xBF" R"({"prompt": "a", "completion": tru})" "\n");
  EXPECT_TRUE(Drain(r.get()).empty());
  EXPECT_EQ(r->status().message().rfind("t.jsonl:1:37: error: invalid JSON", 0), 0u)
      << r->status().message();
}

TEST(ExampleReader, MixedFormatsStopAtTheFirstDifferentLine) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n" + kPc2 + "\n" + R"({"input":"x"})" + "\n");
  EXPECT_EQ(Drain(r.get()), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r->status().message().rfind(
                "t.jsonl:3: error: record is pretraining but the file is prompt-completion "
                "[mixed-format]",
                0),
            0u)
      << r->status().message();
}

TEST(ExampleReader, ForcedFormatIsChecked) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n", Format::kChat);
  EXPECT_TRUE(Drain(r.get()).empty());
  EXPECT_NE(r->status().message().find("record is prompt-completion but the file is chat"),
            std::string::npos)
      << r->status().message();
}

TEST(ExampleReader, DecodeErrorNamesLineAndField) {
  FakeEnv env;
  auto r = OpenFake(&env, kPc1 + "\n" + R"({"prompt":"p","completion":7})" + "\n");
  EXPECT_EQ(Drain(r.get()), std::vector<uint64_t>{1});
  EXPECT_EQ(r->status().message().rfind(
                "t.jsonl:2: error: completion: expected a string, got a number [wrong-type]", 0),
            0u)
      << r->status().message();
}

TEST(ExampleReader, HostileLinesFailCleanly) {
  FakeEnv env;
  auto r = OpenFake(&env, std::string(100000, '[') + "\n");
  EXPECT_TRUE(Drain(r.get()).empty());
  EXPECT_NE(r->status().message().find("[too-deep]"), std::string::npos) << r->status().message();

  FakeEnv env2;
  r = OpenFake(&env2, R"({"prompt": 1e999, "completion": "c"})" "\n");
  EXPECT_TRUE(Drain(r.get()).empty());
  EXPECT_NE(r->status().message().find("t.jsonl:1:16: error: invalid JSON: number overflow"),
            std::string::npos)
      << r->status().message();
}

TEST(ExampleReader, OverlongLineIsAnErrorNotAnAllocation) {
  // 65 MB of generated bytes: over LineReader's 64 MB default, without a real file.
  FakeEnv env;
  env.Add("t.jsonl", {Pieces{{kPc1 + "\n", 1}, {"x", uint64_t{65} << 20}, {"\n" + kPc2 + "\n", 1}}});
  std::unique_ptr<ExampleReader> r;
  ASSERT_TRUE(ExampleReader::Open(&env, "t.jsonl", Format::kAuto, &r).ok());
  EXPECT_EQ(Drain(r.get()), std::vector<uint64_t>{1});
  EXPECT_EQ(r->status().message().rfind(
                "t.jsonl:2: error: line is 68157440 bytes long [line-too-long]", 0),
            0u)
      << r->status().message();
}

TEST(ExampleReader, ReadErrorMidwayIsTheStatus) {
  FakeEnv env;
  const std::string line = kPc1 + "\n";
  env.Add("t.jsonl", {Pieces{{line, 10}}, 0, 2 * line.size() + 5});
  std::unique_ptr<ExampleReader> r;
  ASSERT_TRUE(ExampleReader::Open(&env, "t.jsonl", Format::kAuto, &r).ok());
  EXPECT_EQ(Drain(r.get()), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r->status().code(), Status::Code::kIOError);
  EXPECT_NE(r->status().message().find("injected read error"), std::string::npos);
}

TEST(ExampleReader, Utf16IsNamedWithAFix) {
  // As Windows tools save "Unicode" text: every data command reads through ExampleReader.
  std::string utf16 = "\xFF\xFE";
  for (char c : kPc1 + "\n") utf16 += std::string{c, '\0'};
  FakeEnv env;
  auto r = OpenFake(&env, utf16);
  EXPECT_TRUE(Drain(r.get()).empty());
  EXPECT_EQ(r->status().message(), "t.jsonl is UTF-16LE text; lathe reads UTF-8: convert it first, e.g. iconv -f "
                                   "UTF-16 -t UTF-8 t.jsonl > converted.jsonl");
}

TEST(ExampleReader, OpenMissingFileFails) {
  FakeEnv env;
  std::unique_ptr<ExampleReader> r;
  EXPECT_EQ(ExampleReader::Open(&env, "nope.jsonl", Format::kAuto, &r).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(r, nullptr);
}

TEST(ReadAllRecords, OwnsEveryRecordAndReportsTheFormat) {
  lathe::testing::TempDir dir;
  std::string path = dir.Write("d.jsonl", kPc1 + "\n" + kPc2 + "\n" + kPc1);
  std::vector<OwnedRecord> records;
  Format detected = Format::kAuto;
  ASSERT_TRUE(ReadAllRecords(Env::Default(), path, Format::kAuto, &records, &detected).ok());
  EXPECT_EQ(detected, Format::kPromptCompletion);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].raw, kPc1);  // owned copies: still valid after the reader is gone
  EXPECT_EQ(records[1].raw, kPc2);
  EXPECT_EQ(records[2].raw, kPc1);
  EXPECT_EQ(records[2].line, 3u);
  EXPECT_EQ(records[1].example.Completion(), "Paris");
}

TEST(ReadAllRecords, PropagatesTheFirstError) {
  lathe::testing::TempDir dir;
  std::string path = dir.Write("d.jsonl", kPc1 + "\n{oops\n");
  std::vector<OwnedRecord> records;
  Status s = ReadAllRecords(Env::Default(), path, Format::kAuto, &records, nullptr);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(path + ":2:2: error: invalid JSON"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lathe::data
