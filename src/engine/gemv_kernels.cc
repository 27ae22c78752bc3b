#include "engine/gemv_kernels.h"

#include "engine/float_formats.h"

#include <immintrin.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace lathe::engine {
namespace {

std::atomic<int> vector_kernels{-1};  // -1: not decided yet

bool CpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

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
void GemvQ8_0Plain(const char* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  const int64_t blocks = cols / 32;
  for (int64_t r = r0; r < r1; ++r) {
    const char* row = w + r * blocks * 34;
    float s = 0;
    for (int64_t b = 0; b < blocks; ++b) {
      uint16_t d;
      std::memcpy(&d, row + b * 34, 2);
      float block = 0;
      for (int j = 0; j < 32; ++j) block += static_cast<float>(static_cast<int8_t>(row[b * 34 + 2 + j])) * x[b * 32 + j];
      s += HalfToFloat(d) * block;
    }
    y[r] = s;
  }
}

// AVX-512: four rows at a time share each load of x; the tails (cols % 16, rows % 4) go through
// masked loads and single rows.
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

// Rows of f32 or bf16 weights: `load` turns 16 (or the masked tail) into floats.
template <typename T, typename Load>
LATHE_AVX512 void GemvAvx512(const T* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y, Load load) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const T* a = w + r * cols;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 m = TailMask(cols - c);
      const __m512 v = _mm512_maskz_loadu_ps(m, x + c);
      s0 = _mm512_fmadd_ps(load(a + c, m), v, s0);
      s1 = _mm512_fmadd_ps(load(a + cols + c, m), v, s1);
      s2 = _mm512_fmadd_ps(load(a + 2 * cols + c, m), v, s2);
      s3 = _mm512_fmadd_ps(load(a + 3 * cols + c, m), v, s3);
    }
    y[r] = _mm512_reduce_add_ps(s0);
    y[r + 1] = _mm512_reduce_add_ps(s1);
    y[r + 2] = _mm512_reduce_add_ps(s2);
    y[r + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; r < r1; ++r) {
    __m512 s = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
      const __mmask16 m = TailMask(cols - c);
      s = _mm512_fmadd_ps(load(w + r * cols + c, m), _mm512_maskz_loadu_ps(m, x + c), s);
    }
    y[r] = _mm512_reduce_add_ps(s);
  }
}

// One Q8_0 block of 32 against x: (q[0..16) . x[0..16) + q[16..32) . x[16..32)), unscaled.
LATHE_AVX512 inline __m512 Q8Block(const char* block, __m512 x0, __m512 x1) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 18));
  const __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo));
  const __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi));
  return _mm512_fmadd_ps(q0, x0, _mm512_mul_ps(q1, x1));
}

LATHE_AVX512 inline float Scale(const char* block) {
  uint16_t d;
  std::memcpy(&d, block, 2);
  return _cvtsh_ss(d);
}

LATHE_AVX512 void GemvQ8_0Avx512(const char* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  const int64_t blocks = cols / 32, stride = blocks * 34;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const char* a = w + r * stride;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t b = 0; b < blocks; ++b) {
      const __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
      const char* p = a + b * 34;
      s0 = _mm512_fmadd_ps(_mm512_set1_ps(Scale(p)), Q8Block(p, x0, x1), s0);
      s1 = _mm512_fmadd_ps(_mm512_set1_ps(Scale(p + stride)), Q8Block(p + stride, x0, x1), s1);
      s2 = _mm512_fmadd_ps(_mm512_set1_ps(Scale(p + 2 * stride)), Q8Block(p + 2 * stride, x0, x1), s2);
      s3 = _mm512_fmadd_ps(_mm512_set1_ps(Scale(p + 3 * stride)), Q8Block(p + 3 * stride, x0, x1), s3);
    }
    y[r] = _mm512_reduce_add_ps(s0);
    y[r + 1] = _mm512_reduce_add_ps(s1);
    y[r + 2] = _mm512_reduce_add_ps(s2);
    y[r + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; r < r1; ++r) {
    __m512 s = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      const char* p = w + r * stride + b * 34;
      s = _mm512_fmadd_ps(_mm512_set1_ps(Scale(p)),
                          Q8Block(p, _mm512_loadu_ps(x + b * 32), _mm512_loadu_ps(x + b * 32 + 16)), s);
    }
    y[r] = _mm512_reduce_add_ps(s);
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
void GemvQ8_0(const char* w, const float* x, int64_t cols, int64_t r0, int64_t r1, float* y) {
  UseVector() ? GemvQ8_0Avx512(w, x, cols, r0, r1, y) : GemvQ8_0Plain(w, x, cols, r0, r1, y);
}

void SetGemvVectorKernels(bool enabled) { vector_kernels.store(enabled && CpuHasAvx512() ? 1 : 0); }
bool GemvVectorKernels() { return UseVector(); }


}  // namespace lathe::engine
