// asl::ErrorMatches: which errors a Retrier's or Catcher's ErrorEquals entry takes, as AWS's
// "Error names" documents them.
#include <gtest/gtest.h>

#include "asl/errors.h"

namespace lathe::asl {
namespace {

TEST(ErrorMatches, ExactNamesAndWildcards) {
  EXPECT_TRUE(ErrorMatches("MyError", "MyError"));
  EXPECT_FALSE(ErrorMatches("MyError", "myerror"));  // case-sensitive
  EXPECT_TRUE(ErrorMatches(kStatesAll, "MyError"));
  EXPECT_TRUE(ErrorMatches(kStatesAll, kStatesTimeout));
  EXPECT_TRUE(ErrorMatches(kStatesTaskFailed, "Lambda.Unknown"));
  EXPECT_FALSE(ErrorMatches(kStatesTaskFailed, kStatesTimeout));
  EXPECT_FALSE(ErrorMatches(kStatesTaskFailed, kStatesHeartbeatTimeout));
}

TEST(ErrorMatches, TimeoutCoversMissedHeartbeats) {
  EXPECT_TRUE(ErrorMatches(kStatesTimeout, kStatesHeartbeatTimeout));
  EXPECT_TRUE(ErrorMatches(kStatesHeartbeatTimeout, kStatesHeartbeatTimeout));
  EXPECT_FALSE(ErrorMatches(kStatesHeartbeatTimeout, kStatesTimeout));
}

TEST(ErrorMatches, TerminalErrors) {
  // States.Runtime is never caught; States.DataLimitExceeded only by its own name.
  EXPECT_FALSE(ErrorMatches(kStatesAll, kStatesRuntime));
  EXPECT_FALSE(ErrorMatches(kStatesRuntime, kStatesRuntime));
  EXPECT_FALSE(ErrorMatches(kStatesAll, kStatesDataLimitExceeded));
  EXPECT_FALSE(ErrorMatches(kStatesTaskFailed, kStatesDataLimitExceeded));
  EXPECT_TRUE(ErrorMatches(kStatesDataLimitExceeded, kStatesDataLimitExceeded));
}

TEST(ClipUtf8, CutsAtACharacterBoundaryWithinTheBound) {
  EXPECT_EQ(ClipUtf8("short", 10), "short");
  EXPECT_EQ(ClipUtf8("0123456789", 10), "0123456789");
  EXPECT_EQ(ClipUtf8("0123456789x", 10), "0123456...");
  // "\xe2\x82\xac" (the euro sign) straddling the cut is dropped whole.
  std::string euros;
  for (int i = 0; i < 10; ++i) euros += "\xe2\x82\xac";
  std::string clipped = ClipUtf8(euros, 11);  // 8 bytes of text: two whole characters
  EXPECT_EQ(clipped, "\xe2\x82\xac\xe2\x82\xac...");
  EXPECT_LE(ClipUtf8(std::string(100000, 'c'), kMaxCauseBytes).size(), kMaxCauseBytes);
}

}  // namespace
}  // namespace lathe::asl
