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

// x += W . v, through `delta` (W's rows).
void MatVecAdd(const MatrixView& w, const float* v, float* x, std::vector<float>* delta, const RowSplitter& split) {
  delta->resize(static_cast<size_t>(w.rows));
  MatVec(w, v, delta->data(), split);
  for (int64_t r = 0; r < w.rows; ++r) x[r] += (*delta)[static_cast<size_t>(r)];
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

}  // namespace

void DecodeToken(const DecodeShape& s, const std::vector<DecodeLayer>& layers, const MatrixView& lm_head,
                 const float* cos, const float* sin, int64_t slot, const bool* key_valid, float* x,
                 float* logits, DecodeScratch* sc, const RowSplitter& split) {
  const int64_t H = s.heads, KV = s.kv_heads, D = s.head_dim, G = H / KV;
  const int64_t qkv_rows = (H + 2 * KV) * D;
  sc->h.resize(static_cast<size_t>(std::max(s.hidden, s.ffn)));
  sc->qkv.resize(static_cast<size_t>(qkv_rows));
  sc->att.resize(static_cast<size_t>(H * D));
  sc->gu.resize(static_cast<size_t>(2 * s.ffn));
  sc->scores.resize(static_cast<size_t>(slot + 1));
  float* h = sc->h.data();
  float* qkv = sc->qkv.data();
  float* att = sc->att.data();
  float* gu = sc->gu.data();
  float* scores = sc->scores.data();

  for (const DecodeLayer& L : layers) {
    RmsNormalize(x, s.hidden, s.eps, h);
    MatVec(L.w_qkv, h, qkv, split);
    if (L.b_qkv)
      for (int64_t r = 0; r < qkv_rows; ++r) qkv[r] += L.b_qkv[r];
    Rope(qkv, H + KV, D, cos, sin);  // q heads then k heads
    const float* q = qkv;
    const float* k = qkv + H * D;
    const float* v = qkv + (H + KV) * D;
    for (int64_t g = 0; g < KV; ++g) {
      std::copy(k + g * D, k + (g + 1) * D, L.k_cache + (g * s.cache_capacity + slot) * D);
      std::copy(v + g * D, v + (g + 1) * D, L.v_cache + (g * s.cache_capacity + slot) * D);
    }
    for (int64_t head = 0; head < H; ++head) {
      const int64_t g = head / G;
      const float* kc = L.k_cache + g * s.cache_capacity * D;
      const float* vc = L.v_cache + g * s.cache_capacity * D;
      float max = -INFINITY;
      for (int64_t j = 0; j <= slot; ++j) {
        scores[j] = (key_valid == nullptr || key_valid[j] || j == slot) ? Dot(q + head * D, kc + j * D, D) : -INFINITY;
        max = std::max(max, scores[j]);
      }
      float sum = 0.0f;
      for (int64_t j = 0; j <= slot; ++j) sum += (scores[j] = std::exp(scores[j] - max));
      float* out = att + head * D;
      std::fill(out, out + D, 0.0f);
      for (int64_t j = 0; j <= slot; ++j) {
        const float p = scores[j] / sum;
        if (p == 0.0f) continue;
        const float* vj = vc + j * D;
        for (int64_t i = 0; i < D; ++i) out[i] += p * vj[i];
      }
    }
    MatVecAdd(L.w_o, att, x, &sc->delta, split);
    RmsNormalize(x, s.hidden, s.eps, h);
    MatVec(L.w_gate_up, h, gu, split);
    for (int64_t i = 0; i < s.ffn; ++i) {
      const float g = gu[i];
      h[i] = g / (1.0f + std::exp(-g)) * gu[s.ffn + i];
    }
    MatVecAdd(L.w_down, h, x, &sc->delta, split);
  }
  RmsNormalize(x, s.hidden, s.eps, h);
  MatVec(lm_head, h, logits, split);
}

}  // namespace lathe::engine
