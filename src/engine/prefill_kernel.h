// The matrix products of prefill: Y = X Wᵀ for a prompt's n tokens at once, W held in any of
// compact_matrix.h's formats. BLAS's sgemm packs (copies) W on every call, and with a prompt's few
// dozen tokens that copy costs as much as the arithmetic (a quarter of a 110M-shaped model's
// prefill went to OpenBLAS's packing). This kernel reads W where it lies, a tile of 4 rows at a
// time, and multiplies it by 6 tokens at once held in 24 AVX-512 accumulators, so each weight
// loaded serves 6 multiply-adds. bf16 tiles (and q8_0 ones on CPUs without AVX512_VNNI) are
// expanded to f32 in a small buffer first: the values are exactly Expand()'s, so prefill needs no
// f32 copy of a compact matrix. Where VNNI runs, q8_0 multiplies in int8 (prefill_q8_kernel.h).
// Torch-free; tests/engine/prefill_kernel_test.cc checks it against a double reference.
#pragma once

#include <cstdint>

#include "engine/compact_matrix.h"

namespace lathe::engine {

// y [n, m.rows] = x [n, m.cols] m^T (+ bias [m.rows] when not null), rows split among threads by
// `split`. False, with y untouched, where the CPU has no AVX-512 (callers use their own product).
bool PrefillMatMul(const MatrixView& m, const float* x, int64_t n, const float* bias, float* y,
                   const RowSplitter& split);

}  // namespace lathe::engine
