#include "asl/errors.h"

namespace lathe::asl {

bool ErrorMatches(std::string_view error_equals, std::string_view error) {
  // States.Runtime always fails the execution, even where a Retrier or Catcher names it.
  if (error == kStatesRuntime) return false;
  if (error_equals == error) return true;
  if (error_equals == kStatesAll) return error != kStatesRuntime && error != kStatesDataLimitExceeded;
  // A missed heartbeat is a kind of timeout: States.Timeout names both, as AWS documents it.
  if (error_equals == kStatesTimeout) return error == kStatesHeartbeatTimeout;
  if (error_equals == kStatesTaskFailed)
    return error != kStatesTimeout && error != kStatesHeartbeatTimeout && error != kStatesDataLimitExceeded;
  return false;
}

}  // namespace lathe::asl
