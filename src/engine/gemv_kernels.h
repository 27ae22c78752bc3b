// Matrix-vector products for batch-1 decode, where every weight is read once per token and the
// speed is the memory's: weights kept in fewer bytes make the token cheaper. Three encodings:
//   F32   4 bytes a weight (the reference);
//   BF16  2 bytes (the upper half of an f32: exact conversion back, ~3 significant digits);
//   Q8_0  1.0625 bytes (GGUF's blocks of 32: an f16 scale and 32 int8s; gguf.h quantizes).
// Each computes rows [row_begin, row_end) of y = W x, so callers split the rows across threads.
// F32 and BF16 multiply in float32 arithmetic. Q8_0 multiplies by x quantized the same way
// (blocks of 32 int8s and a scale, as llama.cpp does for its q8_0 weights): a block's dot product
// is exact integer arithmetic, one int8 multiply-add instruction per 4 weights (AVX512_VNNI), which
// is what lets an 8-bit token run at the memory's speed rather than at the float converter's.
// AVX-512 where the CPU has it (checked at run time), portable loops otherwise;
// tests/engine/gemv_kernels_test.cc checks both against a double reference.
// Torch-free.
#pragma once

#include <cstdint>

namespace lathe::engine {

void GemvF32(const float* w, const float* x, int64_t cols, int64_t row_begin, int64_t row_end, float* y);
// w: rows x cols bf16 values as uint16_t.
void GemvBf16(const uint16_t* w, const float* x, int64_t cols, int64_t row_begin, int64_t row_end, float* y);

// x (cols floats, cols a multiple of 32) as Q8_0 activations: q gets cols int8s, d cols / 32 scales
// (max|x| / 127 of each block; 0 for a block of zeros), q = round(x / d); a block whose max is
// under 127 / FLT_MAX (~4e-37) gets q = 0, one with a NaN or infinity d = NaN.
void QuantizeQ8Activations(const float* x, int64_t cols, int8_t* q, float* d);
// w: rows x (cols / 32) blocks of 34 bytes; x as QuantizeQ8Activations gives it; cols a multiple of 32.
void GemvQ8_0(const char* w, const int8_t* xq, const float* xd, int64_t cols, int64_t row_begin, int64_t row_end,
              float* y);

// Turns the vector kernels off (tests compare the two paths; LATHE_NO_AVX512=1 does it for a run).
void SetGemvVectorKernels(bool enabled);
bool GemvVectorKernels();  // whether the AVX-512 paths run
// Makes the Q8_0 kernel use its AVX512BW path (maddubs + madd) even where the CPU has AVX512_VNNI,
// so that tests run on a VNNI machine cover what a CPU without it runs. On by default where the CPU
// has VNNI; turning it on elsewhere does nothing.
void SetGemvVnni(bool enabled);
bool GemvVnni();  // whether the AVX512_VNNI paths run (vector kernels on, VNNI present and not turned off)

}  // namespace lathe::engine
