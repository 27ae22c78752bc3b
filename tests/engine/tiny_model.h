// Helpers for engine tests: a tiny Llama-family model with deterministic random weights, written
// as a Hugging Face directory, and an independent plain-loop reference forward pass.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/model_config.h"

namespace lathe::testing {

using Weights = std::map<std::string, std::vector<float>>;

// Deterministic weights of the config's expected shapes (scaled small, norms near 1).
Weights RandomWeights(const engine::ModelConfig& c, uint64_t seed);
// Writes config.json + model.safetensors (F32, or BF16 when bf16) + a copy of tokenizer_model.
void WriteModelDir(const std::string& dir, const engine::ModelConfig& c, const Weights& w,
                   const std::string& tokenizer_model, bool bf16 = false);
// Logits [T][vocab] computed with plain loops, straight from the Hugging Face definitions.
std::vector<std::vector<float>> ReferenceLogits(const engine::ModelConfig& c, const Weights& w,
                                                const std::vector<int>& ids);

}  // namespace lathe::testing
