#include "engine/prefill_q8_kernel.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/gemv_kernels.h"

namespace lathe::engine {
namespace {

constexpr int kGroupRows = 16;   // one per lane
constexpr int kTileTokens = 12;  // 12 accumulators + 8 weight vectors + scales: under 32 registers

// GCC 12's AVX-512 headers build some intrinsics from _mm512_undefined_*: -W(maybe-)uninitialized
// false positives, silenced for this kernel only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define LATHE_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")))

// A group of up to 16 rows as the tile reads it, for every block b: packed[b][j] (8 vectors of 16
// int32 lanes) holds weights 4j..4j+3 of row `lane`; scale[b] the rows' f16 scales as floats;
// offset[b] 128 x the sum of each row's 32 weights. Lanes past `rows` are zeros.
struct Group {
  std::vector<int32_t> packed, offset;
  std::vector<float> scale;
};

// The lanes of a group that hold rows (up to 16).
__mmask16 LiveLanes(int64_t rows) {
  return rows >= kGroupRows ? __mmask16{0xffff} : static_cast<__mmask16>((1u << rows) - 1);
}

LATHE_VNNI void Repack(const char* first_row, int64_t row_bytes, __mmask16 live, int64_t blocks, Group* g) {
  g->packed.resize(static_cast<size_t>(blocks * 8 * kGroupRows));
  g->offset.resize(static_cast<size_t>(blocks * kGroupRows));
  g->scale.resize(static_cast<size_t>(blocks * kGroupRows));
  const __m512i row_at = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(static_cast<int32_t>(row_bytes)));
  const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    const char* block = first_row + b * 34;
    __m512i sum = zero;
    for (int j = 0; j < 8; ++j) {
      const __m512i w = _mm512_mask_i32gather_epi32(zero, live, row_at, block + 2 + 4 * j, 1);
      _mm512_storeu_si512(g->packed.data() + (b * 8 + j) * kGroupRows, w);
      sum = _mm512_dpbusd_epi32(sum, ones, w);  // 1 x each signed weight byte
    }
    _mm512_storeu_si512(g->offset.data() + b * kGroupRows, _mm512_slli_epi32(sum, 7));
    // The block's first 4 bytes: its f16 scale, then two weights (dropped).
    const __m512i head = _mm512_mask_i32gather_epi32(zero, live, row_at, block, 1);
    _mm512_storeu_ps(g->scale.data() + b * kGroupRows, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(head)));
  }
}

// T tokens (xu: x + 128 as bytes, xd: their block scales) against a repacked group: out[t][lane].
template <int T>
LATHE_VNNI void Tile(const Group& g, int64_t blocks, const uint8_t* xu, const float* xd, int64_t cols,
                     float* out) {
  __m512 acc[T];
#pragma GCC unroll 12
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i w[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) w[j] = _mm512_loadu_si512(g.packed.data() + (b * 8 + j) * kGroupRows);
    const __m512i offset = _mm512_loadu_si512(g.offset.data() + b * kGroupRows);
    const __m512 scale = _mm512_loadu_ps(g.scale.data() + b * kGroupRows);
#pragma GCC unroll 12
    for (int t = 0; t < T; ++t) {
      const uint8_t* xb = xu + t * cols + b * 32;
      __m512i dot = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        int32_t four;
        std::memcpy(&four, xb + 4 * j, 4);
        dot = _mm512_dpbusd_epi32(dot, _mm512_set1_epi32(four), w[j]);
      }
      const __m512 exact = _mm512_cvtepi32_ps(_mm512_sub_epi32(dot, offset));
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(exact, _mm512_set1_ps(xd[t * (cols / 32) + b])), scale, acc[t]);
    }
  }
#pragma GCC unroll 12
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + t * kGroupRows, acc[t]);
}

using TileFn = void (*)(const Group&, int64_t, const uint8_t*, const float*, int64_t, float*);

template <int... T>
constexpr std::array<TileFn, sizeof...(T)> Tiles(std::integer_sequence<int, T...>) {
  return {&Tile<T + 1>...};
}
const std::array<TileFn, kTileTokens> kTiles = Tiles(std::make_integer_sequence<int, kTileTokens>{});

LATHE_VNNI void Rows(const MatrixView& m, const uint8_t* xu, const float* xd, int64_t n, const float* bias, float* y,
                     int64_t r0, int64_t r1) {
  thread_local Group g;
  const int64_t blocks = m.cols / 32, row_bytes = blocks * 34;
  const char* data = static_cast<const char*>(m.data);
  for (int64_t r = r0; r < r1; r += kGroupRows) {
    const __mmask16 live = LiveLanes(r1 - r);
    Repack(data + r * row_bytes, row_bytes, live, blocks, &g);
    // While this group is multiplied, the next one's bytes (contiguous rows) come from memory.
    const char* next = data + std::min(r + kGroupRows, r1) * row_bytes;
    const int64_t next_bytes = std::min<int64_t>(kGroupRows, r1 - std::min(r + kGroupRows, r1)) * row_bytes;
    const int64_t share = (next_bytes / ((n + kTileTokens - 1) / kTileTokens) + 63) / 64 * 64;
    const __m512 b = bias ? _mm512_maskz_loadu_ps(live, bias + r) : _mm512_setzero_ps();
    alignas(64) float out[kTileTokens * kGroupRows];
    for (int64_t t = 0, fetched = 0; t < n; t += kTileTokens) {
      for (const int64_t end = std::min(next_bytes, fetched + share); fetched < end; fetched += 64)
        __builtin_prefetch(next + fetched, 0, 3);
      const int64_t tokens = std::min<int64_t>(kTileTokens, n - t);
      kTiles[static_cast<size_t>(tokens - 1)](g, blocks, xu + t * m.cols, xd + t * blocks, m.cols, out);
      for (int64_t k = 0; k < tokens; ++k)
        _mm512_mask_storeu_ps(y + (t + k) * m.rows + r, live, _mm512_add_ps(_mm512_load_ps(out + k * kGroupRows), b));
    }
  }
}

#pragma GCC diagnostic pop

}  // namespace

bool PrefillQ8_0(const MatrixView& m, const float* x, int64_t n, const float* bias, float* y, const RowSplitter& split) {
  // The repack gathers 16 rows by 32-bit offsets: rows longer than 2^31 / 16 bytes go the f32 way.
  if (m.format != WeightPrecision::kQ8_0 || m.cols % 32 != 0 || m.cols / 32 * 34 > (int64_t{1} << 27) || !GemvVnni())
    return false;
  // The activations as decode quantizes them, then shifted to unsigned bytes for dpbusd: q + 128
  // of a two's-complement byte is the byte with its top bit flipped.
  const int64_t blocks = m.cols / 32;
  std::vector<uint8_t> xu(static_cast<size_t>(n * m.cols));
  std::vector<float> xd(static_cast<size_t>(n * blocks));
  for (int64_t t = 0; t < n; ++t)
    QuantizeQ8Activations(x + t * m.cols, m.cols, reinterpret_cast<int8_t*>(&xu[t * m.cols]), &xd[t * blocks]);
  for (uint8_t& byte : xu) byte ^= 0x80;
  if (split) {
    split(m.rows, [&](int64_t r0, int64_t r1) { Rows(m, xu.data(), xd.data(), n, bias, y, r0, r1); });
  } else {
    Rows(m, xu.data(), xd.data(), n, bias, y, 0, m.rows);
  }
  return true;
}

}  // namespace lathe::engine
