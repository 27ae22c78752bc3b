// A hand-written decode step for small models (after llm.c / llama2.c): one new token of one
// sequence through every layer in plain loops over contiguous fp32 weights. At batch 1 a
// stories260K-sized model spends its time dispatching ~30 tensor operations per layer, not
// computing; this kernel does the same arithmetic with no dispatch at all. Torch-free; checked
// against the ATen forward pass in tests/engine/decode_kernel_test.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/compact_matrix.h"

namespace lathe::engine {

struct DecodeShape {
  int64_t hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0;
  double eps = 1e-5;
};

// The prepared weights of one layer (see LlamaModel::Prepare): norms and attention scale folded
// in; each matrix in f32 or in a compact format (compact_matrix.h).
struct DecodeLayer {
  MatrixView w_qkv;      // [(heads + 2 kv_heads) * head_dim, hidden]
  const float* b_qkv;    // [(heads + 2 kv_heads) * head_dim] or nullptr
  MatrixView w_o;        // [hidden, heads * head_dim]
  MatrixView w_gate_up;  // [2 ffn, hidden]
  MatrixView w_down;     // [hidden, ffn]
};

// One sequence of a step: its own KV cache, slot and position, so that sequences of different
// lengths (continuous batching) share the step.
struct DecodeSequence {
  std::vector<float*> k_cache, v_cache;  // per layer: [kv_heads, cache_capacity, head_dim]
  int64_t cache_capacity = 0;
  int64_t slot = 0;                      // where this token's key and value go
  const bool* key_valid = nullptr;       // slot + 1 flags; nullptr = all valid
  const float* cos = nullptr;            // the RoPE row of this token's position, head_dim floats;
  const float* sin = nullptr;            // sin signed as (-sin | +sin)
};

// Reusable buffers, sized on first use.
struct DecodeScratch {
  std::vector<float> h, qkv, att, gu, scores, delta;
};

// Runs one token of each of seqs.size() sequences through all layers: x holds their embeddings
// ([n, hidden], updated in place), logits receives [n, vocab]. Every matrix product covers all
// the sequences at once (compact_matrix.h's MatMul: each weight read once per step), and each
// sequence's numbers are exactly what a step of that sequence alone gives. Attention, norms and
// RoPE run per sequence. The matrix products are split among threads by `split`.
void DecodeTokens(const DecodeShape& s, const std::vector<DecodeLayer>& layers, const MatrixView& lm_head,
                  const std::vector<DecodeSequence>& seqs, float* x, float* logits, DecodeScratch* scratch,
                  const RowSplitter& split);

}  // namespace lathe::engine
