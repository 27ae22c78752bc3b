// The bytes a LlamaModel holds, predicted from its config (torch-free; memory_estimate.cc).
#pragma once

#include <cstdint>

#include "engine/model_config.h"

namespace lathe::engine {

// Bytes a LlamaModel built from `c` holds (see LlamaModel::HeldBytes), from the config alone.
int64_t PreparedWeightBytes(const ModelConfig& c);

}  // namespace lathe::engine
