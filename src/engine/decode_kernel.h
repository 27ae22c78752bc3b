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
  int64_t cache_capacity = 0;  // slots per (sequence, kv head) in the caches
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
  float* k_cache;        // this sequence's keys: [kv_heads, cache_capacity, head_dim]
  float* v_cache;
};

// Reusable buffers, sized on first use.
struct DecodeScratch {
  std::vector<float> h, qkv, att, gu, scores, delta;
};

// Runs token embedding `x` (hidden floats, updated in place) at cache slot `slot` through all
// layers, then writes vocab logits. cos/sin: the RoPE row of this token's position, head_dim
// floats each, sin signed as (-sin | +sin). key_valid: slot + 1 flags (nullptr = all valid).
// The big matrix-vector products are split among threads by `split` (compact_matrix.h).
void DecodeToken(const DecodeShape& s, const std::vector<DecodeLayer>& layers, const MatrixView& lm_head,
                 const float* cos, const float* sin, int64_t slot, const bool* key_valid, float* x,
                 float* logits, DecodeScratch* scratch, const RowSplitter& split);

}  // namespace lathe::engine
