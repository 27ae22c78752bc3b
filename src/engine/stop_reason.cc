// The torch-free part of language_model.h (the rest lives in the engine module).
#include "engine/language_model.h"

namespace lathe::engine {

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEndToken: return "end_token";
    case StopReason::kLength: return "length";
    case StopReason::kStopSequence: return "stop_sequence";
    case StopReason::kCancelled: return "cancelled";
  }
  return "?";
}

}  // namespace lathe::engine
