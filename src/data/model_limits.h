// Dataset limits per model: what Bedrock enforces for each model id the tutorials use, so a file
// that lathe accepts would also be accepted there. Values: Bedrock User Guide, "Model requirements
// for training and validation datasets" and the customization quotas (see docs/data.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::data {

struct ModelLimits {
  std::string id;
  int64_t max_record_tokens;        // prompt + completion (or all turns) of one record
  uint64_t max_training_records;    // Bedrock's quota; lathe warns above it
  uint64_t max_validation_records;
};

const std::vector<ModelLimits>& KnownModelLimits();
// nullptr when the id is unknown.
const ModelLimits* FindModelLimits(std::string_view id);

// File-level limits that apply whatever the model (Bedrock's published quotas).
inline constexpr uint64_t kMaxFineTuningFileBytes = uint64_t{1} << 30;      // 1 GB
inline constexpr uint64_t kMaxPretrainingFileBytes = uint64_t{10} << 30;    // 10 GB
inline constexpr uint64_t kMaxValidationFileBytes = uint64_t{100} << 20;    // 100 MB
inline constexpr uint64_t kMinFineTuningRecords = 32;
// Without a tokenizer, tokens are estimated the way Bedrock's docs suggest: characters / 6.
inline constexpr int kCharsPerTokenEstimate = 6;

}  // namespace lathe::data
