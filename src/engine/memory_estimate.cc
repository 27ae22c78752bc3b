// What a model costs in memory, from its config alone: torch-free arithmetic, so the server can
// budget a model before it loads the engine module (see language_model.h).
#include <algorithm>

#include "engine/language_model.h"
#include "engine/llama_model_sizes.h"

namespace lathe::engine {

int64_t PreparedWeightBytes(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim,
                ff = c.intermediate_size;
  // What Prepare adds to the weights as loaded (all float32): the fused q|k|v and gate|up
  // matrices, the fused biases, and lm_head with the final norm folded in. o_proj and down_proj
  // are used in place.
  const int64_t fused_per_layer = (q + 2 * kv) * h + (c.attention_bias ? q + 2 * kv : 0) + 2 * ff * h;
  const int64_t rope_rows = std::max<int64_t>(c.max_position_embeddings, 1);
  const int64_t floats = c.ParameterCount() + c.num_layers * fused_per_layer + c.vocab_size * h;
  return 4 * floats + 2 * 4 * rope_rows * c.head_dim;
}

MemoryNeed EstimateMemory(const ModelConfig& c, WeightPrecision precision) {
  MemoryNeed need;
  need.weight_bytes = PreparedWeightBytes(c);
  if (precision != WeightPrecision::kF32) {
    // LlamaModel::HoldWeightsIn: the compact copy of every prepared matrix, and o_proj/down_proj
    // no longer used in place (their rounded values are copies). Q8_0 is counted at its 34 bytes
    // per 32 weights even where a matrix falls back to bf16 (at most 2 - 1.0625 bytes more each).
    const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim,
                  ff = c.intermediate_size;
    const int64_t o_down = q * h + ff * h;
    const int64_t matrices = c.num_layers * ((q + 2 * kv) * h + o_down + 2 * ff * h) + c.vocab_size * h;
    const double per_weight = precision == WeightPrecision::kBf16 ? 2.0 : 34.0 / 32;
    need.weight_bytes += 4 * c.num_layers * o_down + static_cast<int64_t>(per_weight * static_cast<double>(matrices));
  }
  // KVCache: float32 keys and values of every layer, for every position of the context.
  need.kv_bytes_per_sequence =
      c.num_layers * 2 * std::max<int64_t>(c.max_position_embeddings, 1) * c.num_kv_heads * c.head_dim * 4;
  return need;
}

}  // namespace lathe::engine
