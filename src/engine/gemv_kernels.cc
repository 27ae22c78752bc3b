#include "engine/gemv_kernels.h"

#include "engine/float_formats.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace lathe::engine {
namespace {

std::atomic<int> vector_kernels{-1};  // -1: not decided yet

bool CpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

bool CpuHasVnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") != 0;
}
std::atomic<bool> vnni_kernel{CpuHasVnni()};

bool UseVector() {
  int v = vector_kernels.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* off = std::getenv("LATHE_NO_AVX512");
    v = CpuHasAvx512() && !(off && *off && std::strcmp(off, "0") != 0) ? 1 : 0;
    vector_kernels.store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

// Portable loops: the reference the vector paths are tested against, and what runs without AVX-512.
void GemvF32Plain(const float* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = w + r * cols;
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += row[c] * x[c];
    y[r] = s;
  }
}
void GemvBf16Plain(const uint16_t* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* row = w + r * cols;
    float s = 0;
    for (int64_t c = 0; c < cols; ++c) s += Bf16ToFloat(row[c]) * x[c];
    y[r] = s;
  }
}
void GemvQ8_0Plain(const char* w, const int8_t* xq, const float* xd, int64_t cols, int64_t r0, int64_t r1,
                   float* y) {
  const int64_t blocks = cols / 32;
  for (int64_t r = r0; r < r1; ++r) {
    const char* row = w + r * blocks * 34;
    float s = 0;
    for (int64_t b = 0; b < blocks; ++b) {
      uint16_t d;
      std::memcpy(&d, row + b * 34, 2);
      int32_t block = 0;
      for (int j = 0; j < 32; ++j) block += int32_t{static_cast<int8_t>(row[b * 34 + 2 + j])} * xq[b * 32 + j];
      s += HalfToFloat(d) * xd[b] * static_cast<float>(block);
    }
    y[r] = s;
  }
}

// GCC 12's AVX-512 headers build reductions from _mm512_undefined_*: -Wmaybe-uninitialized
// false positives, silenced for these kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define LATHE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c")))

struct LoadF32 {
  LATHE_AVX512 __m512 operator()(const float* p, __mmask16 m) const { return _mm512_maskz_loadu_ps(m, p); }
};
struct LoadBf16 {  // bf16 -> f32 is a 16-bit shift
  LATHE_AVX512 __m512 operator()(const uint16_t* p, __mmask16 m) const {
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

LATHE_AVX512 inline __mmask16 TailMask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

// Rows of f32 or bf16 weights: `load` turns 16 (or the masked tail) into floats. One row at a
// time, four accumulators over 64 columns: a single sequential stream per thread is what the
// hardware prefetcher follows best (measured on the 110M shape: ~1.4x the bytes/s of four rows
// interleaved, which share each load of x but read four streams at once).
template <typename T, typename Load>
LATHE_AVX512 void GemvAvx512(const T* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y, Load load) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* a = w + r * cols;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t c = 0;
    for (; c + 64 <= cols; c += 64) {
      s0 = _mm512_fmadd_ps(load(a + c, 0xffff), _mm512_loadu_ps(x + c), s0);
      s1 = _mm512_fmadd_ps(load(a + c + 16, 0xffff), _mm512_loadu_ps(x + c + 16), s1);
      s2 = _mm512_fmadd_ps(load(a + c + 32, 0xffff), _mm512_loadu_ps(x + c + 32), s2);
      s3 = _mm512_fmadd_ps(load(a + c + 48, 0xffff), _mm512_loadu_ps(x + c + 48), s3);
    }
    for (; c < cols; c += 16) {
      const __mmask16 m = TailMask(cols - c);
      s0 = _mm512_fmadd_ps(load(a + c, m), _mm512_maskz_loadu_ps(m, x + c), s0);
    }
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  }
}

// Q8_0: two blocks (64 weights) per step. Their int8 dot products with x's int8 blocks land in
// 16 int32 lanes (8 per block, 4 products each): dpbusd multiplies unsigned by signed bytes, so
// it takes |w| and x with w's sign (the sign moves from one factor to the other, the product is
// the same). Lanes are then scaled by dw * dx of their block and summed in float. Without VNNI,
// maddubs + madd do the same in two instructions (|w| x <= 127 * 127 * 2 fits int16); that
// instantiation is compiled for the VNNI target too, but its intrinsics are AVX512BW ones only.
#define LATHE_Q8 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")))
template <bool kVnni>
LATHE_Q8 inline __m512i DotBytes(__m512i w, __m512i x) {
  const __m512i aw = _mm512_abs_epi8(w);
  const __m512i sx = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
  if constexpr (kVnni) return _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, sx);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(aw, sx), _mm512_set1_epi16(1));
}

LATHE_AVX512 inline float Scale(const char* block) {
  uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

// Blocks b and b + 1 of a row (at p) against x's: their dot products as float lanes, and the
// scale of each lane.
template <bool kVnni>
LATHE_Q8 inline void Q8Pair(const char* p, const int8_t* xq, const float* xd, int64_t b, __m512* dot_out,
                            __m512* scale_out) {
  const __m512i wq =
      _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2))),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 36)), 1);
  const __m512i dot = DotBytes<kVnni>(wq, _mm512_loadu_si512(xq + b * 32));
  const __m512 scale =
      _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(Scale(p) * xd[b]), _mm512_set1_ps(Scale(p + 34) * xd[b + 1]));
  *dot_out = _mm512_cvtepi32_ps(dot);
  *scale_out = scale;
}

template <bool kVnni>
LATHE_Q8 void GemvQ8_0Avx512(
    const char* w, const int8_t* xq, const float* xd, int64_t cols, int64_t r0, int64_t r1, float* y) {
  const int64_t blocks = cols / 32, stride = blocks * 34;
  for (int64_t r = r0; r < r1; ++r) {
    const char* row = w + r * stride;
    __m512 s = _mm512_setzero_ps(), t = s;
    int64_t b = 0;
    for (; b + 4 <= blocks; b += 4) {  // two chains of multiply-adds hide each other's latency
      __m512 d0, s0, d1, s1;
      Q8Pair<kVnni>(row + b * 34, xq, xd, b, &d0, &s0);
      Q8Pair<kVnni>(row + (b + 2) * 34, xq, xd, b + 2, &d1, &s1);
      s = _mm512_fmadd_ps(d0, s0, s);
      t = _mm512_fmadd_ps(d1, s1, t);
    }
    for (; b + 2 <= blocks; b += 2) {
      __m512 d0, s0;
      Q8Pair<kVnni>(row + b * 34, xq, xd, b, &d0, &s0);
      s = _mm512_fmadd_ps(d0, s0, s);
    }
    s = _mm512_add_ps(s, t);
    if (b < blocks) {  // an odd last block: the upper half is zeros
      const char* p = row + b * 34;
      const __m512i wq = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2)));
      const __m512i xb = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * 32)));
      s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(DotBytes<kVnni>(wq, xb)), _mm512_set1_ps(Scale(p) * xd[b]), s);
    }
    y[r] = _mm512_reduce_add_ps(s);
  }
}

// Below this a block's 127 / max is not a finite float.
constexpr float kSmallestQ8Max = 127.0f / FLT_MAX;

void QuantizeQ8ActivationsPlain(const float* x, int64_t cols, int8_t* q, float* d) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    float amax = 0;
    bool finite = true;
    for (int j = 0; j < 32; ++j) {
      finite = finite && std::isfinite(x[b * 32 + j]);
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
    }
    // A NaN or infinity makes the block's scale NaN, so the products come out NaN as in f32. A
    // block so small that 127 / max overflows (|x| < 4e-37) is held as zeros.
    const float scale = finite ? amax / 127.0f : std::nanf(""),
                inverse = finite && amax > kSmallestQ8Max ? 127.0f / amax : 0.0f;
    d[b] = scale;
    for (int j = 0; j < 32; ++j)
      q[b * 32 + j] = static_cast<int8_t>(std::clamp(std::nearbyint(x[b * 32 + j] * inverse), -127.0f, 127.0f));
  }
}

// The same arithmetic as QuantizeQ8ActivationsPlain, 16 values an instruction: the same maximum,
// the same product by 127 / max, rounding to nearest even as nearbyint does, so the bytes and
// scales are identical. A block holding a NaN or an infinity takes the plain loop.
LATHE_AVX512 void QuantizeQ8Avx512(const float* x, int64_t cols, int8_t* q, float* d) {
  const __m512 largest = _mm512_set1_ps(FLT_MAX);
  const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
  for (int64_t b = 0; b < cols / 32; ++b) {
    const __m512 a = _mm512_loadu_ps(x + b * 32), c = _mm512_loadu_ps(x + b * 32 + 16);
    const __m512 aa = _mm512_abs_ps(a), ca = _mm512_abs_ps(c);
    if ((_mm512_cmp_ps_mask(aa, largest, _CMP_LE_OQ) & _mm512_cmp_ps_mask(ca, largest, _CMP_LE_OQ)) != 0xffff) {
      QuantizeQ8ActivationsPlain(x + b * 32, 32, q + b * 32, d + b);
      continue;
    }
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(aa, ca));
    const __m512 inverse = _mm512_set1_ps(amax > kSmallestQ8Max ? 127.0f / amax : 0.0f);
    d[b] = amax / 127.0f;
    for (int half = 0; half < 2; ++half) {
      const __m512 r =
          _mm512_roundscale_ps(_mm512_mul_ps(half ? c : a, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b * 32 + half * 16),
                       _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, lo), hi))));
    }
  }
}

#pragma GCC diagnostic pop

}  // namespace

void GemvF32(const float* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  UseVector() ? GemvAvx512(w, x, cols, r0, r1, y, LoadF32{}) : GemvF32Plain(w, x, cols, r0, r1, y);
}
void GemvBf16(const uint16_t* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  UseVector() ? GemvAvx512(w, x, cols, r0, r1, y, LoadBf16{}) : GemvBf16Plain(w, x, cols, r0, r1, y);
}
void QuantizeQ8Activations(const float* x, int64_t cols, int8_t* q, float* d) {
  UseVector() ? QuantizeQ8Avx512(x, cols, q, d) : QuantizeQ8ActivationsPlain(x, cols, q, d);
}

void GemvQ8_0(const char* w, const int8_t* xq, const float* xd, int64_t cols, int64_t r0, int64_t r1, float* y) {
  if (!UseVector()) return GemvQ8_0Plain(w, xq, xd, cols, r0, r1, y);
  vnni_kernel.load(std::memory_order_relaxed) ? GemvQ8_0Avx512<true>(w, xq, xd, cols, r0, r1, y)
                                              : GemvQ8_0Avx512<false>(w, xq, xd, cols, r0, r1, y);
}

void SetGemvVnni(bool enabled) { vnni_kernel.store(enabled && CpuHasVnni()); }
bool GemvVnni() { return UseVector() && vnni_kernel.load(std::memory_order_relaxed); }

void SetGemvVectorKernels(bool enabled) { vector_kernels.store(enabled && CpuHasAvx512() ? 1 : 0); }
bool GemvVectorKernels() { return UseVector(); }


}  // namespace lathe::engine
