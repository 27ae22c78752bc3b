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

const char* WeightPrecisionName(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kF32: return "f32";
    case WeightPrecision::kBf16: return "bf16";
    case WeightPrecision::kQ8_0: return "q8_0";
  }
  return "?";
}

Result<WeightPrecision> ParseWeightPrecision(std::string_view name) {
  for (WeightPrecision p : {WeightPrecision::kF32, WeightPrecision::kBf16, WeightPrecision::kQ8_0})
    if (name == WeightPrecisionName(p)) return p;
  // Only a bounded prefix is echoed: the name may come from a request or a config file.
  return Status::InvalidArgument("unknown weight precision \"" + std::string(name.substr(0, 32)) +
                                 "\": expected f32, bf16 or q8_0");
}

}  // namespace lathe::engine
