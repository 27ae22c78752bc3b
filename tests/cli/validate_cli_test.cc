#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace lathe {
namespace {

using lathe::testing::RunLatheBinary;
using lathe::testing::TempDir;

const std::string kPc = R"({"prompt":"What is 2+2?","completion":"4"})";

std::string Records(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += kPc + "\n";
  return s;
}

// Paths from TempDir hold no characters that need shell quoting.
TEST(ValidateCli, ValidFileExitsZero) {
  TempDir dir;
  std::string path = dir.Write("train.jsonl", Records(32));
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate " + path, &out, &err), 0) << out << err;
  EXPECT_NE(out.find(path + ": OK — 32 prompt-completion records"), std::string::npos) << out;
  EXPECT_EQ(err, "");
}

TEST(ValidateCli, BadFileExitsOneAndNamesFileLineColumn) {
  TempDir dir;
  std::string path =
      dir.Write("train.jsonl", Records(32) + R"({"prompt": "a", "completion": tru})" + "\n");
  std::string out;
  EXPECT_EQ(RunLatheBinary("data validate " + path, &out), 1) << out;
  EXPECT_NE(out.find(path + ":33:34: error: invalid JSON"), std::string::npos) << out;
  EXPECT_NE(out.find("[invalid-json]"), std::string::npos) << out;
  EXPECT_NE(out.find(path + ": INVALID"), std::string::npos) << out;
}

TEST(ValidateCli, WarningsAloneExitZero) {
  TempDir dir;
  std::string path = dir.Write("train.jsonl", "\xEF\xBB\xBF" + Records(32));
  std::string out;
  EXPECT_EQ(RunLatheBinary("data validate " + path, &out), 0) << out;
  EXPECT_NE(out.find(path + ":1:1: warning:"), std::string::npos) << out;
}

TEST(ValidateCli, UsageErrorsExitTwo) {
  TempDir dir;
  std::string path = dir.Write("train.jsonl", Records(32));
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate --frobnicate " + path, &out, &err), 2) << out << err;
  EXPECT_NE(err.find("frobnicate"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("data validate", &out, &err), 2) << out << err;
  EXPECT_EQ(RunLatheBinary("data validate " + dir.File("missing.jsonl"), &out, &err), 2)
      << out << err;
}

TEST(ValidateCli, JsonOutputParsesAndListsProblems) {
  TempDir dir;
  std::string train =
      dir.Write("train.jsonl", Records(32) + R"({"prompt": "a", "completion": tru})" + "\n");
  std::string val = dir.Write("val.jsonl", Records(2));
  std::string out;
  EXPECT_EQ(RunLatheBinary("data validate --json " + train + " --validation " + val, &out), 1);
  nlohmann::json j = nlohmann::json::parse(out);  // stdout is only the JSON document
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["files"].size(), 2u);
  const nlohmann::json& t = j["files"][0];
  EXPECT_EQ(t["file"], train);
  EXPECT_EQ(t["purpose"], "training");
  EXPECT_EQ(t["ok"], false);
  EXPECT_EQ(t["records"], 33);
  EXPECT_EQ(t["errors"], 1);
  ASSERT_EQ(t["problems"].size(), 1u);
  EXPECT_EQ(t["problems"][0]["code"], "invalid-json");
  EXPECT_EQ(t["problems"][0]["line"], 33);
  EXPECT_EQ(t["problems"][0]["column"], 34);
  EXPECT_EQ(t["problems"][0]["severity"], "error");
  // The validation file has no minimum record count.
  EXPECT_EQ(j["files"][1]["purpose"], "validation");
  EXPECT_EQ(j["files"][1]["ok"], true);
  EXPECT_EQ(j["files"][1]["problems"].size(), 0u);
}

TEST(ValidateCli, AllowSmallAndMaxProblems) {
  TempDir dir;
  std::string path = dir.Write("small.jsonl", Records(3) + "x\ny\nz\n");
  std::string out;
  EXPECT_EQ(RunLatheBinary("data validate --allow-small --max-problems 1 " + path, &out), 1);
  EXPECT_NE(out.find(path + ":4:1: error: invalid JSON"), std::string::npos) << out;
  EXPECT_EQ(out.find(":5:1:"), std::string::npos) << out;
  EXPECT_NE(out.find("... and 2 more problems. All problems by kind: invalid-json 3\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("too-few-records"), std::string::npos) << out;
  path = dir.Write("ok.jsonl", Records(3));
  EXPECT_EQ(RunLatheBinary("data validate " + path, &out), 1) << out;  // 3 < 32
  EXPECT_EQ(RunLatheBinary("data validate --allow-small " + path, &out), 0) << out;
}

TEST(ValidateCli, TokenLimitWithAndWithoutTokenizer) {
  TempDir dir;
  // "What is 2+2?" + "4" is 13 characters: about 3 tokens.
  std::string path = dir.Write("train.jsonl", Records(32));
  std::string out;
  EXPECT_EQ(RunLatheBinary("data validate --max-tokens 2 " + path, &out), 0) << out;
  EXPECT_NE(out.find(path + ":1: warning: record has about 3 tokens"), std::string::npos) << out;
  if (lathe::testing::SharedDir().empty()) GTEST_SKIP() << "../shared is absent";
  std::string tok = lathe::testing::SharedDir() + "/tokenizers/stories260k-tok512/tokenizer.model";
  EXPECT_EQ(RunLatheBinary("data validate --max-tokens 2 --tokenizer " + tok + " " + path, &out), 1)
      << out;
  EXPECT_NE(out.find(path + ":1: error: record has "), std::string::npos) << out;
  EXPECT_NE(out.find("(tokenizer.model), over the limit of 2 tokens [too-many-tokens]"),
            std::string::npos)
      << out;
}

TEST(ValidateCli, UnknownModelIsRefused) {
  TempDir dir;
  std::string path = dir.Write("train.jsonl", Records(32));
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate --model no.such-model " + path, &out, &err), 1);
  EXPECT_NE(err.find("unknown model 'no.such-model'"), std::string::npos) << err;
  EXPECT_NE(err.find("amazon.titan-text-express-v1"), std::string::npos) << err;
}

TEST(ValidateCli, JsonOutputSurvivesANonUtf8FileName) {
  TempDir dir;
  std::string path = dir.Write("caf\xE9.jsonl", Records(32));
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate --json '" + path + "'", &out, &err), 0) << out << err;
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["files"][0]["file"], dir.path() + "/caf\xEF\xBF\xBD.jsonl");
}

// Writing a command's output over its own input would destroy the data: every writing command refuses.
TEST(DataCli, WritingCommandsRefuseToOverwriteTheirInput) {
  TempDir dir;
  std::string content = Records(20);
  std::string path = dir.Write("train.jsonl", content);
  for (const std::string& args :
       {"data convert " + path + " --to chat --out " + path, "data augment " + path + " --out " + path,
        "data balance " + path + " --max-per-category 5 --out " + path,
        "data split " + path + " --out-dir " + dir.path() + " --force"}) {
    std::string out, err;  // split's first output is train.jsonl in --out-dir: the input itself
    EXPECT_EQ(RunLatheBinary(args, &out, &err), 1) << args << out << err;
    EXPECT_NE(err.find("is the input file"), std::string::npos) << args << err;
    EXPECT_EQ(lathe::testing::ReadFile(path), content) << args;
  }
}

TEST(ValidateCli, DevicesAreRefusedAtOnceNotReadForever) {
  // /dev/zero reports size 0 and never ends; `data stats` reads through the same Env.
  for (const std::string args : {"data validate /dev/zero", "data stats /dev/zero"}) {
    std::string out, err;
    EXPECT_EQ(RunLatheBinary(args, &out, &err), 1) << args;
    EXPECT_NE((out + err).find("/dev/zero is a character device, not a regular file"), std::string::npos)
        << args << out << err;
  }
}

TEST(ValidateCli, Utf16FileIsNamedWithTheIconvFix) {
  TempDir dir;
  std::string utf16 = "\xFF\xFE";
  for (char c : Records(32)) utf16 += std::string{c, '\0'};
  const std::string path = dir.Write("train.jsonl", utf16);
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate " + path, &out, &err), 1) << out << err;
  EXPECT_NE(out.find(path + ":1: error: " + path + " is UTF-16LE text"), std::string::npos) << out;
  EXPECT_NE(out.find("iconv -f UTF-16 -t UTF-8 " + path), std::string::npos) << out;
  EXPECT_NE(out.find("[utf16]"), std::string::npos) << out;
  EXPECT_EQ(out.find("invalid-utf8"), std::string::npos) << out;  // one clear problem, not 32 confusing ones
  EXPECT_EQ(RunLatheBinary("data stats " + path, &out, &err), 1) << out << err;
  EXPECT_NE(err.find("is UTF-16LE text"), std::string::npos) << err;
}

}  // namespace
}  // namespace lathe
