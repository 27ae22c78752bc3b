// Matrix-vector products for batch-1 decode, where every weight is read once per token and the
// speed is the memory's: weights kept in fewer bytes make the token cheaper. Three encodings:
//   F32   4 bytes a weight (the reference);
//   BF16  2 bytes (the upper half of an f32: exact conversion back, ~3 significant digits);
//   Q8_0  1.0625 bytes (GGUF's blocks of 32: an f16 scale and 32 int8s; gguf.h quantizes).
// Each computes rows [row_begin, row_end) of y = W x in float32 arithmetic, so callers split the
// rows across threads. AVX-512 where the CPU has it (checked at run time), portable loops
// otherwise; tests/engine/gemv_kernels_test.cc checks both against a double reference.
// Torch-free.
#pragma once

#include <cstdint>

namespace lathe::engine {

void GemvF32(const float* w, const float* x, int64_t cols, int64_t row_begin, int64_t row_end, float* y);
// w: rows x cols bf16 values as uint16_t.
void GemvBf16(const uint16_t* w, const float* x, int64_t cols, int64_t row_begin, int64_t row_end, float* y);
// w: rows x (cols / 32) blocks of 34 bytes; cols must be a multiple of 32.
void GemvQ8_0(const char* w, const float* x, int64_t cols, int64_t row_begin, int64_t row_end, float* y);

// Turns the vector kernels off (tests compare the two paths; LATHE_NO_AVX512=1 does it for a run).
void SetGemvVectorKernels(bool enabled);
bool GemvVectorKernels();  // whether the AVX-512 paths run

}  // namespace lathe::engine
