// The Llama-family decoder in libtorch (ATen): RMSNorm, rotary embeddings (with llama3 scaling),
// grouped-query attention with a KV cache, SwiGLU MLP, tied or untied embeddings, optional q/k/v
// biases (Qwen2). Internal to the engine: nothing outside src/engine includes this header.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/compact_matrix.h"
#include "engine/decode_kernel.h"
#include "engine/llama_model_sizes.h"
#include "engine/model_config.h"

namespace lathe::engine {

struct LayerWeights {
  at::Tensor attn_norm, wq, wk, wv, wo, bq, bk, bv;  // biases undefined unless attention_bias
  at::Tensor mlp_norm, w_gate, w_up, w_down;
};

struct LlamaWeights {
  at::Tensor embed;               // [vocab, hidden]
  std::vector<LayerWeights> layers;
  at::Tensor norm;                // [hidden]
  at::Tensor lm_head;             // [vocab, hidden]; the same tensor as embed when tied
};


// Inverse frequencies of the rotary embedding (double), with Llama 3's rescaling if configured.
at::Tensor InverseFrequencies(const ModelConfig& c);

// Builds LlamaWeights from named tensors; every expected name must be present with its shape.
Result<LlamaWeights> WeightsFromNamed(const ModelConfig& c, std::map<std::string, at::Tensor> named);
// The inverse, for saving (tied models do not repeat lm_head).
std::vector<std::pair<std::string, at::Tensor>> NamedFromWeights(const ModelConfig& c,
                                                                 const LlamaWeights& w);

// Keys and values of every layer for a batch, filled slot by slot.
struct KVCache {
  std::vector<at::Tensor> k, v;  // per layer: [batch, kv_heads, capacity, head_dim]
  int64_t length = 0;            // slots filled
  int64_t capacity = 0;
};

// Weights rearranged for fast inference (see LlamaModel::Prepare): q, k and v in one matrix, gate
// and up in one, RMSNorm weights and the attention scale folded into the matrices that follow.
struct PreparedLayer {
  at::Tensor w_qkv, b_qkv, w_o, w_gate_up, w_down;
  // The same matrices for decode when the model is held in a compact precision (else empty).
  CompactMatrix c_qkv, c_o, c_gate_up, c_down;
};

// Read-only once built: Forward and ForwardDecodeKernel are const and safe to call from several
// threads at once, each with its own KVCache, so instances of a LanguageModel share one LlamaModel.
class LlamaModel {
 public:
  LlamaModel(ModelConfig config, LlamaWeights weights);
  const ModelConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }

  KVCache NewCache(int64_t batch, int64_t capacity) const;

  // tokens, positions: [batch, T] int64. key_valid: [batch, cache.length + T] bool, false for
  // padding slots, or undefined when nothing is padded. Appends T slots to the cache and returns
  // logits [batch, T, vocab] (or [batch, vocab] for the last position when last_only).
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const at::Tensor& key_valid, KVCache* cache, bool last_only) const;
  // The final norm's output [batch, T, hidden] (the "last hidden states"; OpenAI's embeddings
  // average them), no logits computed. Appends T slots to the cache.
  at::Tensor LastHidden(const at::Tensor& tokens, const at::Tensor& positions, KVCache* cache) const;
  // The same for one new token per sequence through decode_kernel.h (no tensor dispatch).
  // Forward uses it by itself where it is faster (UseDecodeKernel); public for the tests.
  at::Tensor ForwardDecodeKernel(const at::Tensor& tokens, const at::Tensor& positions,
                                 const at::Tensor& key_valid, KVCache* cache) const;
  bool UseDecodeKernel(int64_t batch, int64_t tokens) const;
  // One new token for each of several independent sequences (continuous batching), each with its
  // own cache of batch 1 at its own length: one pass through decode_kernel.h whose matrix
  // products read each weight once for all of them. tokens[b] sits at positions[b] and goes into
  // slot caches[b]->length, which grows by one. Returns logits [n, vocab]; each row is bit for bit
  // what ForwardDecodeKernel gives that sequence alone. Works in every weight precision.
  at::Tensor DecodeSequences(const std::vector<int64_t>& tokens, const std::vector<int64_t>& positions,
                             const std::vector<KVCache*>& caches) const;
  void set_decode_kernel_enabled(bool on) { decode_kernel_enabled_ = on; }

  // Holds the prepared matrices in `precision` (LanguageModel::WithWeightPrecision): compact
  // copies that decode and prefill read; the prepared f32 tensors are dropped where the AVX-512
  // kernels run, else replaced by their rounded values for ATen's prefill. Call once, before the
  // model is shared; the original weights stay as loaded.
  void HoldWeightsIn(WeightPrecision precision);
  WeightPrecision weight_precision() const { return precision_; }

  // Bytes held by the tensors (the original weights, the prepared ones, and the RoPE table at its
  // largest), each storage counted once. PreparedWeightBytes(config()) predicts it.
  int64_t HeldBytes() const;

 private:
  struct RopeTable {
    at::Tensor cos, sin;
  };
  void Prepare();
  // The prepared matrices as decode_kernel.h reads them (compact copies where held).
  std::vector<DecodeLayer> DecodeLayers() const;
  // decode_kernel.h's DecodeTokens for seqs (caches, slots and masks set; RoPE rows set here).
  at::Tensor RunDecodeKernel(const std::vector<int64_t>& tokens, const std::vector<int64_t>& positions,
                             std::vector<DecodeSequence>* seqs) const;
  // The decoder layers' output [batch * T, hidden], before the final norm (Forward, LastHidden).
  at::Tensor Layers(const at::Tensor& tokens, const at::Tensor& positions, const at::Tensor& key_valid,
                    KVCache* cache) const;
  // The tables covering `positions`, grown under rope_mu_ when needed. Callers keep the returned
  // tensors: a table grown meanwhile by another thread replaces the member, never the data.
  RopeTable Rope(int64_t positions) const;

  ModelConfig config_;
  LlamaWeights weights_;
  std::vector<PreparedLayer> prepared_;
  bool decode_kernel_enabled_ = true;
  WeightPrecision precision_ = WeightPrecision::kF32;
  at::Tensor lm_head_prepared_;      // lm_head with the final norm's weight folded in
  CompactMatrix lm_head_compact_;    // its compact copy, as PreparedLayer's
  at::Tensor inv_freq_;              // [head_dim / 2]
  // [positions, head_dim], grown on demand; sin_ is signed (-sin | +sin) for the rotate-by-roll.
  mutable std::mutex rope_mu_;
  mutable at::Tensor cos_, sin_;
};

}  // namespace lathe::engine
