#include "engine/prefill_kernel.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "engine/gemv_kernels.h"
#include "engine/prefill_q8_kernel.h"

namespace lathe::engine {
namespace {

constexpr int kTileRows = 4, kTileTokens = 6;  // 24 accumulators + 6 of x + 1 of w: 31 of 32 registers

// GCC 12's AVX-512 headers build reductions from _mm512_undefined_*: -W(maybe-)uninitialized
// false positives, silenced for this kernel only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define LATHE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c")))

// One step of 16 columns: T vectors of x, then each of the R rows of w against all of them.
template <int R, int T>
LATHE_AVX512 inline void Step(const float* w, const float* x, int64_t cols, int64_t c, __mmask16 m, __m512 (&acc)[R][T]) {
  __m512 xv[T];
#pragma GCC unroll 6
  for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * cols + c);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const __m512 wv = _mm512_maskz_loadu_ps(m, w + r * cols + c);
#pragma GCC unroll 6
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
  }
}

// The sums of four accumulators, in order, in one 128-bit vector: halves, then quarters, then
// pairs added across them (10 instructions where four separate reductions take ~28).
LATHE_AVX512 inline __m128 Sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
  __m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4e));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xb1));
  return _mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, s));
}

// y[t * ldy + r] = w[r] . x[t] (+ bias[r]) for R rows of w and T tokens of x, both cols long.
template <int R, int T>
LATHE_AVX512 void Tile(const float* w, const float* x, int64_t cols, const float* bias, float* y, int64_t ldy) {
  __m512 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) Step<R, T>(w, x, cols, c, static_cast<__mmask16>(0xffff), acc);
  if (c < cols) Step<R, T>(w, x, cols, c, static_cast<__mmask16>((1u << (cols - c)) - 1), acc);
  if constexpr (R == 4) {
    const __m128 b = bias ? _mm_loadu_ps(bias) : _mm_setzero_ps();
#pragma GCC unroll 6
    for (int t = 0; t < T; ++t)
      _mm_storeu_ps(y + t * ldy, _mm_add_ps(Sum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), b));
  } else {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
      for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]) + (bias ? bias[r] : 0.0f);
  }
}

using TileFn = void (*)(const float*, const float*, int64_t, const float*, float*, int64_t);

template <int R, int... T>
constexpr std::array<TileFn, sizeof...(T)> RowOfTiles(std::integer_sequence<int, T...>) {
  return {&Tile<R, T + 1>...};
}

// kTiles[R - 1][T - 1]: the kernel for R rows and T tokens (the tails of a matrix and a prompt).
const std::array<std::array<TileFn, kTileTokens>, kTileRows> kTiles = {
    RowOfTiles<1>(std::make_integer_sequence<int, kTileTokens>{}),
    RowOfTiles<2>(std::make_integer_sequence<int, kTileTokens>{}),
    RowOfTiles<3>(std::make_integer_sequence<int, kTileTokens>{}),
    RowOfTiles<4>(std::make_integer_sequence<int, kTileTokens>{})};

#pragma GCC diagnostic pop

// Rows [r0, r0 + count) of m as f32: the matrix's own memory for f32, else expanded into buf with
// the values Expand() gives (compact_matrix.h).
const float* RowsAsF32(const MatrixView& m, int64_t r0, int64_t count, std::vector<float>* buf) {
  if (m.format == WeightPrecision::kF32) return static_cast<const float*>(m.data) + r0 * m.cols;
  buf->resize(static_cast<size_t>(count * m.cols));
  ExpandRows(m, r0, count, buf->data());
  return buf->data();
}

void Rows(const MatrixView& m, const float* x, int64_t n, const float* bias, float* y, int64_t r0, int64_t r1) {
  thread_local std::vector<float> buf;
  // One token: a row at a time, a single stream the prefetcher follows (gemv_kernels.cc).
  const int64_t tile_rows = n == 1 ? 1 : kTileRows;
  const int64_t row_bytes = RowBytes(m);
  for (int64_t r = r0; r < r1; r += tile_rows) {
    const int64_t rows = std::min<int64_t>(tile_rows, r1 - r);
    const float* w = RowsAsF32(m, r, rows, &buf);
    // While this tile is multiplied (from cache), the next one is fetched from memory, a share
    // per block of tokens: a tile that waited for its first loads would idle the multipliers.
    const char* next = static_cast<const char*>(m.data) + std::min(r + tile_rows, r1 - 1) * row_bytes;
    const int64_t next_bytes = std::min<int64_t>(tile_rows, r1 - std::min(r + tile_rows, r1 - 1)) * row_bytes;
    const int64_t share = (next_bytes / ((n + kTileTokens - 1) / kTileTokens) + 63) / 64 * 64;
    for (int64_t t = 0, fetched = 0; t < n; t += kTileTokens) {
      for (const int64_t end = std::min(next_bytes, fetched + share); fetched < end; fetched += 64)
        __builtin_prefetch(next + fetched, 0, 3);
      const int64_t tokens = std::min<int64_t>(kTileTokens, n - t);
      kTiles[rows - 1][tokens - 1](w, x + t * m.cols, m.cols, bias ? bias + r : nullptr, y + t * m.rows + r, m.rows);
    }
  }
}

}  // namespace

bool PrefillMatMul(const MatrixView& m, const float* x, int64_t n, const float* bias, float* y,
                   const RowSplitter& split) {
  if (!GemvVectorKernels()) return false;
  if (PrefillQ8_0(m, x, n, bias, y, split)) return true;  // q8_0 in int8 where AVX512_VNNI runs
  if (split) {
    split(m.rows, [&](int64_t r0, int64_t r1) { Rows(m, x, n, bias, y, r0, r1); });
  } else {
    Rows(m, x, n, bias, y, 0, m.rows);
  }
  return true;
}

}  // namespace lathe::engine
