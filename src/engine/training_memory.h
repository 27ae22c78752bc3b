// What one training process of a fine-tuning job takes in memory at its peak, from the base
// model's config and the job's hyperparameters alone (torch-free arithmetic, before anything is
// loaded): an estimate meant to be on the high side, so that a `lathe worker` does not claim a
// job its memory cannot hold (docs/scale-out.md). Counted: float32 weights (and autocast's bf16
// copies unless precision is fp32), what the optimizer trains with its gradient and AdamW's two
// moments (every weight for "full"; LoRA adapters on every projection otherwise), the
// activations of one process's share of a batch at full length (attention scores and logits
// included), and kTrainingProcessOverheadBytes for libtorch and the process.
#pragma once

#include <cstdint>

#include "engine/hyperparameters.h"
#include "engine/model_config.h"

namespace lathe::engine {

inline constexpr int64_t kTrainingProcessOverheadBytes = int64_t{512} << 20;

int64_t EstimateTrainingMemory(const ModelConfig& config, const TrainingHyperparameters& h);

}  // namespace lathe::engine
