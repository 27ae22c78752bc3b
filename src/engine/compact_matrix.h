// A weight matrix held for batch-1 decode in fewer bytes than f32 (docs/performance.md): each
// token reads every weight once, so the bytes a weight takes decide the decode speed. The
// formats are gemv_kernels.h's; this is what a model keeps of one matrix, and the threaded
// matrix-vector product over it. Torch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/language_model.h"

namespace lathe::engine {

// A matrix the kernels can read: its bytes in `format`, not owned (f32 tensors' data, or a
// CompactMatrix's).
struct MatrixView {
  WeightPrecision format = WeightPrecision::kF32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
};

// Bytes of one row as held: what sizes the kernels' tiles of rows.
int64_t RowBytes(const MatrixView& m);

struct CompactMatrix {
  // What the bytes hold. Q8_0 needs cols to be a multiple of its 32-weight blocks; a matrix whose
  // rows are not (stories260K's 172-wide MLP) is held as bf16 instead, so asking for q8_0 never fails.
  WeightPrecision format = WeightPrecision::kF32;
  int64_t rows = 0, cols = 0;
  std::string bytes;
  MatrixView view() const { return {format, bytes.data(), rows, cols}; }
};

// Rounds the row-major rows x cols f32 matrix `w` to `precision` (nearest even for bf16; GGUF's
// Q8_0 blocks: an f16 scale max|x|/127 and 32 int8s).
CompactMatrix Compact(const float* w, int64_t rows, int64_t cols, WeightPrecision precision);
// The matrix's values back as f32 (rows * cols floats): what prefill multiplies by, so that the
// prompt and the generated tokens see the same weights.
void Expand(const CompactMatrix& m, float* out);
// Rows [r0, r0 + count) of a matrix's values as f32 (count * cols floats): what Expand gives for them.
void ExpandRows(const MatrixView& m, int64_t r0, int64_t count, float* out);

// Runs work(row_begin, row_end) over [0, rows) split among threads (the engine's torch pool);
// the caller decides. Keeps this file torch-free.
using RowSplitter = std::function<void(int64_t rows, const std::function<void(int64_t, int64_t)>& work)>;

// y = m x (rows floats), split by `split` when the matrix is big enough that threads pay for
// their wake-up; small matrices (the models that are dispatch-bound) run on the calling thread.
void MatVec(const MatrixView& m, const float* x, float* y, const RowSplitter& split);

// Y = X m^T for `n` vectors at once (continuous batching's decode step): x is [n, cols], y is
// [n, rows]. The matrix is read from memory once for all n vectors (a tile of rows at a time,
// small enough to stay in cache while every vector passes over it), and each y[b] is computed
// exactly as MatVec(m, x[b]) computes it, bit for bit: batching never changes a sequence's tokens.
void MatMul(const MatrixView& m, const float* x, int64_t n, float* y, const RowSplitter& split);

}  // namespace lathe::engine
