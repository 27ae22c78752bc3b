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

}  // namespace
}  // namespace lathe::asl
