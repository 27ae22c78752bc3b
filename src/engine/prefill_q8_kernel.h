// Prefill's product for Q8_0 weights in 8-bit integer arithmetic (AVX512_VNNI): Y = X Wᵀ with X
// quantized per block of 32 as decode quantizes it (QuantizeQ8Activations), so a prompt and the
// tokens generated after it see the same arithmetic. Expanding q8_0 tiles to f32 (prefill_kernel.h)
// multiplies at f32's rate; this multiplies 4 int8 pairs per lane and instruction.
//
// How: 16 rows at a time are repacked (gathered) so that one vector holds 4 consecutive weights of
// each of the 16 rows; a token's 4 activation bytes, broadcast, then meet all 16 rows in one
// dpbusd, and a block of 32 columns is 8 of them with no horizontal sums. dpbusd multiplies
// unsigned by signed bytes, so the activations go in as x + 128 and each row's block sum times 128
// (computed in the repack) comes off again. Each block's integer dot product is then scaled by the
// row's and the token's block scales and summed in float, as the decode kernel does.
// Torch-free; tests/engine/prefill_kernel_test.cc checks it against a double reference on the
// quantized values and against the decode kernel token by token.
#pragma once

#include <cstdint>

#include "engine/compact_matrix.h"

namespace lathe::engine {

// y [n, m.rows] = x [n, m.cols] m^T (+ bias) for m in Q8_0, rows split by `split`. False, with y
// untouched, where it does not apply: another format, or AVX512_VNNI not running (GemvVnni()).
bool PrefillQ8_0(const MatrixView& m, const float* x, int64_t n, const float* bias, float* y, const RowSplitter& split);

}  // namespace lathe::engine
