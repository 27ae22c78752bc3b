#include "engine/decode_kernel.h"

#include <algorithm>
#include <cmath>

namespace lathe::engine {
namespace {

float Dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// x[b] += W . v[b] for n vectors, through `delta` (n times W's rows).
void MatMulAdd(const MatrixView& w, const float* v, int64_t n, float* x, std::vector<float>* delta,
               const RowSplitter& split) {
  delta->resize(static_cast<size_t>(n * w.rows));
  MatMul(w, v, n, delta->data(), split);
  for (int64_t i = 0; i < n * w.rows; ++i) x[i] += (*delta)[static_cast<size_t>(i)];
}

void RmsNormalize(const float* x, int64_t n, double eps, float* out) {
  const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dot(x, x, n)) / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv;
}

void Rope(float* v, int64_t heads, int64_t d, const float* cos, const float* sin) {
  const int64_t half = d / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* p = v + h * d;
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = p[i], x2 = p[i + half];
      p[i] = x1 * cos[i] - x2 * sin[i + half];
      p[i + half] = x2 * cos[i + half] + x1 * sin[i + half];
    }
  }
}

// One head's attention for one sequence: softmax(q . keys) . values over slots [0, slot].
void Attend(const float* q, const float* kc, const float* vc, int64_t D, int64_t slot, const bool* key_valid,
            float* scores, float* out) {
  float max = -INFINITY;
  for (int64_t j = 0; j <= slot; ++j) {
    scores[j] = (key_valid == nullptr || key_valid[j] || j == slot) ? Dot(q, kc + j * D, D) : -INFINITY;
    max = std::max(max, scores[j]);
  }
  float sum = 0.0f;
  for (int64_t j = 0; j <= slot; ++j) sum += (scores[j] = std::exp(scores[j] - max));
  std::fill(out, out + D, 0.0f);
  for (int64_t j = 0; j <= slot; ++j) {
    const float p = scores[j] / sum;
    if (p == 0.0f) continue;
    const float* vj = vc + j * D;
    for (int64_t i = 0; i < D; ++i) out[i] += p * vj[i];
  }
}

}  // namespace

void DecodeTokens(const DecodeShape& s, const std::vector<DecodeLayer>& layers, const MatrixView& lm_head,
                  const std::vector<DecodeSequence>& seqs, float* x, float* logits, DecodeScratch* sc,
                  const RowSplitter& split) {
  const int64_t n = static_cast<int64_t>(seqs.size());
  if (n == 0) return;
  const int64_t H = s.heads, KV = s.kv_heads, D = s.head_dim, G = H / KV, E = s.hidden;
  const int64_t qkv_rows = (H + 2 * KV) * D;
  int64_t longest = 0;
  for (const DecodeSequence& q : seqs) longest = std::max(longest, q.slot + 1);
  sc->h.resize(static_cast<size_t>(n * std::max(E, s.ffn)));
  sc->qkv.resize(static_cast<size_t>(n * qkv_rows));
  sc->att.resize(static_cast<size_t>(n * H * D));
  sc->gu.resize(static_cast<size_t>(n * 2 * s.ffn));
  sc->scores.resize(static_cast<size_t>(longest));
  float* h = sc->h.data();
  float* qkv = sc->qkv.data();
  float* att = sc->att.data();
  float* gu = sc->gu.data();

  for (size_t l = 0; l < layers.size(); ++l) {
    const DecodeLayer& L = layers[l];
    for (int64_t b = 0; b < n; ++b) RmsNormalize(x + b * E, E, s.eps, h + b * E);
    MatMul(L.w_qkv, h, n, qkv, split);
    for (int64_t b = 0; b < n; ++b) {
      const DecodeSequence& q = seqs[static_cast<size_t>(b)];
      float* row = qkv + b * qkv_rows;
      if (L.b_qkv)
        for (int64_t r = 0; r < qkv_rows; ++r) row[r] += L.b_qkv[r];
      Rope(row, H + KV, D, q.cos, q.sin);  // q heads then k heads
      const float* k = row + H * D;
      const float* v = row + (H + KV) * D;
      float* k_cache = q.k_cache[l];
      float* v_cache = q.v_cache[l];
      for (int64_t g = 0; g < KV; ++g) {
        std::copy(k + g * D, k + (g + 1) * D, k_cache + (g * q.cache_capacity + q.slot) * D);
        std::copy(v + g * D, v + (g + 1) * D, v_cache + (g * q.cache_capacity + q.slot) * D);
      }
      for (int64_t head = 0; head < H; ++head) {
        const int64_t g = head / G;
        Attend(row + head * D, k_cache + g * q.cache_capacity * D, v_cache + g * q.cache_capacity * D, D, q.slot,
               q.key_valid, sc->scores.data(), att + (b * H + head) * D);
      }
    }
    MatMulAdd(L.w_o, att, n, x, &sc->delta, split);
    for (int64_t b = 0; b < n; ++b) RmsNormalize(x + b * E, E, s.eps, h + b * E);
    MatMul(L.w_gate_up, h, n, gu, split);
    // h becomes [n, ffn]: each sequence's activation, read by the down matrix.
    for (int64_t b = 0; b < n; ++b) {
      const float* g_row = gu + b * 2 * s.ffn;
      float* out = h + b * s.ffn;
      for (int64_t i = 0; i < s.ffn; ++i) {
        const float g = g_row[i];
        out[i] = g / (1.0f + std::exp(-g)) * g_row[s.ffn + i];
      }
    }
    MatMulAdd(L.w_down, h, n, x, &sc->delta, split);
  }
  for (int64_t b = 0; b < n; ++b) RmsNormalize(x + b * E, E, s.eps, h + b * E);
  MatMul(lm_head, h, n, logits, split);
}

}  // namespace lathe::engine
