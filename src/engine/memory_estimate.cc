// What a model costs in memory, from its config alone: torch-free arithmetic, so the server can
// budget a model before it loads the engine module (language_model.h), and a worker can tell
// whether a job's training fits (training_memory.h).
#include <algorithm>

#include "engine/gemv_kernels.h"
#include "engine/language_model.h"
#include "engine/llama_model_sizes.h"
#include "engine/training_memory.h"

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
    // LlamaModel::HoldWeightsIn: the compact copy of every prepared matrix. Where the AVX-512
    // kernels run, the fused f32 matrices (q|k|v, gate|up, the output layer) are dropped; else
    // they hold rounded values, and so do o_proj/down_proj (copies, no longer used in place).
    // Q8_0 is counted at its 34 bytes per 32 weights even where a matrix falls back to bf16 (at
    // most 2 - 1.0625 bytes more each).
    const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim,
                  ff = c.intermediate_size;
    const int64_t o_down = q * h + ff * h, fused = (q + 2 * kv) * h + 2 * ff * h;
    const int64_t matrices = c.num_layers * (fused + o_down) + c.vocab_size * h;
    const double per_weight = precision == WeightPrecision::kBf16 ? 2.0 : 34.0 / 32;
    need.weight_bytes += static_cast<int64_t>(per_weight * static_cast<double>(matrices));
    need.weight_bytes += GemvVectorKernels() ? -4 * (c.num_layers * fused + c.vocab_size * h)
                                             : 4 * c.num_layers * o_down;
  }
  // KVCache: float32 keys and values of every layer, for every position of the context.
  need.kv_bytes_per_sequence =
      c.num_layers * 2 * std::max<int64_t>(c.max_position_embeddings, 1) * c.num_kv_heads * c.head_dim * 4;
  return need;
}

int64_t EstimateTrainingMemory(const ModelConfig& c, const TrainingHyperparameters& h) {
  const int64_t params = c.ParameterCount();
  const int64_t hidden = c.hidden_size, ff = c.intermediate_size, q = c.num_heads * c.head_dim,
                kv = c.num_kv_heads * c.head_dim;
  // Weights: float32 masters, plus the bf16 copies autocast caches when it may run ("auto"
  // counts as bf16: the CPU decides).
  int64_t bytes = 4 * params + (h.precision == "fp32" ? 0 : 2 * params);
  // What the optimizer trains, each with its gradient and AdamW's two moments (4 floats).
  if (h.method == "full") {
    bytes += 12 * params;
  } else {
    // LoRA: rank x (in + out) per adapted matrix; counted as if every projection were adapted.
    const int64_t per_layer = (hidden + q) + 2 * (hidden + kv) + (q + hidden) + 2 * (hidden + ff) + (ff + hidden);
    bytes += 16 * h.lora_rank * per_layer * c.num_layers;
  }
  // Activations kept for the backward pass, for one process's share of a batch at full length:
  // per layer about 10 hidden-wide and 4 intermediate-wide float vectors per token, the attention
  // scores and probabilities, and the logits with their softmax and gradient.
  const int64_t seq = std::min(h.max_sequence_length, std::max<int64_t>(c.max_position_embeddings, 1));
  const int64_t rows = (h.batch_size + h.workers - 1) / std::max<int64_t>(h.workers, 1);
  const int64_t tokens = rows * seq;
  bytes += 4 * tokens * c.num_layers * (10 * hidden + 4 * ff);
  bytes += 4 * 2 * rows * c.num_heads * seq * seq * c.num_layers;
  bytes += 4 * 3 * tokens * c.vocab_size;
  return bytes + kTrainingProcessOverheadBytes;
}

}  // namespace lathe::engine
