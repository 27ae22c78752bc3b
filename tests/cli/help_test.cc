// Every command documents itself: --help exits 0 and shows its options; usage errors exit 2.
#include <gtest/gtest.h>

#include "test_util.h"

namespace lathe {
namespace {

using testing::RunLatheBinary;

TEST(Help, TopLevelListsTheCommands) {
  std::string out;
  ASSERT_EQ(RunLatheBinary("--help", &out), 0);
  EXPECT_NE(out.find("data"), std::string::npos);
  EXPECT_NE(out.find("demo"), std::string::npos);
}

TEST(Help, EveryDataCommandHasHelp) {
  std::string out;
  ASSERT_EQ(RunLatheBinary("data --help", &out), 0);
  for (const char* cmd : {"validate", "stats", "split", "convert", "augment", "balance", "estimate"}) {
    EXPECT_NE(out.find(cmd), std::string::npos) << "data --help does not list " << cmd;
    std::string sub;
    EXPECT_EQ(RunLatheBinary(std::string("data ") + cmd + " --help", &sub), 0) << cmd;
    EXPECT_NE(sub.find("Usage:"), std::string::npos) << cmd;
    EXPECT_NE(sub.find("--"), std::string::npos) << cmd << " shows no options";
  }
}

TEST(Help, UsageErrorsExitTwo) {
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("data validate --no-such-flag x", &out, &err), 2);
  EXPECT_EQ(RunLatheBinary("no-such-command", &out, &err), 2);
  EXPECT_EQ(RunLatheBinary("", &out, &err), 2);  // a command is required
}

}  // namespace
}  // namespace lathe
