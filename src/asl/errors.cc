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

std::string ClipUtf8(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes < 3 ? 0 : max_bytes - 3;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that was cut.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

}  // namespace lathe::asl
