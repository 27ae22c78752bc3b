// `lathe demo` end to end, as a newcomer runs it: the broken file is rejected at its exact lines,
// the sample is accepted, and the split it leaves behind is valid.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace lathe {
namespace {

using testing::RunLatheBinary;
using testing::TempDir;

TEST(Demo, RejectsTheBrokenFileAtItsLinesAndAcceptsTheSample) {
  TempDir tmp;
  std::string out, err;
  int rc = RunLatheBinary("demo --dir " + tmp.path(), &out, &err);
  ASSERT_EQ(rc, 0) << out << err;
  const std::string broken = tmp.File("banking_support_broken.jsonl");
  // The four planted mistakes, each at its line (and column for the JSON syntax error).
  EXPECT_NE(out.find(broken + ":3: error: completion: required key \"completion\" is missing"),
            std::string::npos) << out;
  EXPECT_NE(out.find(broken + ":7:97: error: invalid JSON"), std::string::npos) << out;
  EXPECT_NE(out.find(broken + ":12: error: prompt: contains only whitespace"), std::string::npos);
  EXPECT_NE(out.find(broken + ":20: error: record is chat but the file is prompt-completion"),
            std::string::npos);
  EXPECT_NE(out.find(tmp.File("banking_support.jsonl") + ": OK"), std::string::npos) << out;
  // The split it made is there and valid on its own.
  ASSERT_TRUE(std::filesystem::exists(tmp.File("split/train.jsonl")));
  ASSERT_TRUE(std::filesystem::exists(tmp.File("split/manifest.json")));
  rc = RunLatheBinary("data validate " + tmp.File("split/train.jsonl") + " --validation " +
                          tmp.File("split/validation.jsonl"),
                      &out);
  EXPECT_EQ(rc, 0) << out;
}

TEST(Demo, CanRunTwiceInTheSameFolder) {
  TempDir tmp;
  std::string out;
  ASSERT_EQ(RunLatheBinary("demo --dir " + tmp.path(), &out), 0) << out;
  EXPECT_EQ(RunLatheBinary("demo --dir " + tmp.path(), &out), 0) << out;
}

}  // namespace
}  // namespace lathe
