#include "eval/run_limits.h"

#include <cmath>
#include <string>

namespace lathe::eval {

Status CheckSettings(const GenerationSettings& s) {
  if (!(s.temperature >= 0 && s.temperature <= 100))
    return Status::InvalidArgument("temperature must be between 0 and 100 (got " + std::to_string(s.temperature) + ")");
  if (!(s.top_p > 0 && s.top_p <= 1))
    return Status::InvalidArgument("top-p must be greater than 0 and at most 1 (got " + std::to_string(s.top_p) + ")");
  if (s.max_tokens < 1 || s.max_tokens > kMaxAnswerTokens)
    return Status::InvalidArgument("max tokens must be between 1 and " + std::to_string(kMaxAnswerTokens) + " (got " +
                                   std::to_string(s.max_tokens) + ")");
  if (s.batch_size < 1 || s.batch_size > kMaxBatchSize)
    return Status::InvalidArgument("batch size must be between 1 and " + std::to_string(kMaxBatchSize) + " (got " +
                                   std::to_string(s.batch_size) + ")");
  if (s.stop_sequences.size() > kMaxStopSequences)
    return Status::InvalidArgument("at most " + std::to_string(kMaxStopSequences) + " stop sequences (got " +
                                   std::to_string(s.stop_sequences.size()) + ")");
  for (const auto& stop : s.stop_sequences)
    if (stop.empty() || stop.size() > kMaxStopSequenceBytes)
      return Status::InvalidArgument("a stop sequence must be 1 to " + std::to_string(kMaxStopSequenceBytes) +
                                     " bytes long");
  return Status::Ok();
}

GenerationSettings JudgeSettings() {
  GenerationSettings s;
  s.temperature = 0;
  s.top_p = 1;
  s.max_tokens = 96;
  s.batch_size = kMaxBatchSize;
  return s;
}

}  // namespace lathe::eval
