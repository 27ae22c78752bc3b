// Llama 3's rope scaling in GGUF: llama.cpp's converter stores it as a tensor, rope_freqs.weight,
// one divisor per rotary frequency (head_dim / 2 of them), where Hugging Face's config.json has
// four numbers (rope_scaling: factor, low_freq_factor, high_freq_factor,
// original_max_position_embeddings). Export computes the tensor from the four numbers as the
// converter does; import finds four numbers that give the tensor back, or refuses it. Torch-free.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "engine/model_config.h"

namespace lathe::engine {

// The divisor of each rotary frequency under c's llama3 rope scaling (1 where none applies).
std::vector<float> Llama3RopeFreqs(const ModelConfig& c);

// Sets c->rope_scaling to llama3 parameters that reproduce `freqs` within 1e-3 (relative) for c's
// head_dim and rope_theta: the factor is the lowest frequency's divisor, low and high freq factors
// Llama 3's 1 and 4, and the original context from the divisors between. All ones: no scaling.
// Unsupported, naming `file`, where no such parameters exist; InvalidArgument for a tensor of the
// wrong length or with values that are not finite and positive.
Status RopeScalingFromFreqs(const std::vector<float>& freqs, const std::string& file, ModelConfig* c);

}  // namespace lathe::engine
