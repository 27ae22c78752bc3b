#include "engine/compact_matrix.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/float_formats.h"
#include "engine/gemv_kernels.h"
#include "engine/gguf.h"

namespace lathe::engine {
namespace {

// Below this many weights a matrix-vector product takes a few microseconds: waking a second
// thread costs as much as it saves (stories260K's matrices are all below it).
constexpr int64_t kThreadedWeights = int64_t{1} << 16;

// The vectors a product multiplies: n rows of cols floats, and for Q8_0 weights the same rows
// quantized once (gemv_kernels.h), before the rows are split among threads.
struct Vectors {
  const float* x;
  std::vector<int8_t> q;
  std::vector<float> d;

  Vectors(const MatrixView& m, const float* xs, int64_t n) : x(xs) {
    if (m.format != WeightPrecision::kQ8_0) return;
    q.resize(static_cast<size_t>(n * m.cols));
    d.resize(static_cast<size_t>(n * m.cols / 32));
    for (int64_t b = 0; b < n; ++b) QuantizeQ8Activations(xs + b * m.cols, m.cols, &q[b * m.cols], &d[b * m.cols / 32]);
  }
};

// Rows [r0, r1) of y = m x[b].
void Rows(const MatrixView& m, const Vectors& v, int64_t b, int64_t r0, int64_t r1, float* y) {
  const float* x = v.x + b * m.cols;
  switch (m.format) {
    case WeightPrecision::kF32: return GemvF32(static_cast<const float*>(m.data), x, m.cols, r0, r1, y);
    case WeightPrecision::kBf16: return GemvBf16(static_cast<const uint16_t*>(m.data), x, m.cols, r0, r1, y);
    case WeightPrecision::kQ8_0:
      return GemvQ8_0(static_cast<const char*>(m.data), v.q.data() + b * m.cols, v.d.data() + b * m.cols / 32,
                      m.cols, r0, r1, y);
  }
}

// Rows [r0, r1) for n vectors, a tile at a time: a tile (~16 KiB, within L1 on this machine's
// cores) is read from memory once and then from cache for every vector. The kernels compute each
// row on its own, so tiling changes no result.
void TiledRows(const MatrixView& m, const Vectors& v, int64_t n, int64_t r0, int64_t r1, float* y) {
  const int64_t tile = std::max<int64_t>(4, (int64_t{16} << 10) / std::max<int64_t>(RowBytes(m), 1) / 4 * 4);
  for (int64_t t0 = r0; t0 < r1; t0 += tile) {
    const int64_t t1 = std::min(r1, t0 + tile);
    for (int64_t b = 0; b < n; ++b) Rows(m, v, b, t0, t1, y + b * m.rows);
  }
}

}  // namespace

int64_t RowBytes(const MatrixView& m) {
  switch (m.format) {
    case WeightPrecision::kF32: return m.cols * 4;
    case WeightPrecision::kBf16: return m.cols * 2;
    case WeightPrecision::kQ8_0: return m.cols / 32 * 34;
  }
  return m.cols * 4;
}

CompactMatrix Compact(const float* w, int64_t rows, int64_t cols, WeightPrecision precision) {
  CompactMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.format = precision == WeightPrecision::kQ8_0 && cols % 32 != 0 ? WeightPrecision::kBf16 : precision;
  const int64_t n = rows * cols;
  switch (m.format) {
    case WeightPrecision::kF32:
      m.bytes.assign(reinterpret_cast<const char*>(w), static_cast<size_t>(n) * 4);
      break;
    case WeightPrecision::kBf16: {
      m.bytes.resize(static_cast<size_t>(n) * 2);
      char* out = m.bytes.data();
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t b = FloatToBf16(w[i]);
        std::memcpy(out + 2 * i, &b, 2);
      }
      break;
    }
    case WeightPrecision::kQ8_0:
      m.bytes = QuantizeGgufQ8_0(w, static_cast<uint64_t>(n));
      break;
  }
  return m;
}

void ExpandRows(const MatrixView& m, int64_t r0, int64_t count, float* out) {
  const int64_t n = count * m.cols;
  const char* rows = static_cast<const char*>(m.data) + r0 * RowBytes(m);
  switch (m.format) {
    case WeightPrecision::kF32:
      std::memcpy(out, rows, static_cast<size_t>(n) * 4);
      break;
    case WeightPrecision::kBf16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, rows + 2 * i, 2);
        out[i] = Bf16ToFloat(b);
      }
      break;
    case WeightPrecision::kQ8_0:
      // Whole rows of whole 32-weight blocks (Compact's q8_0 holds no other): this cannot fail.
      (void)DequantizeGguf(GgmlType::kQ8_0, std::string_view(rows, static_cast<size_t>(count * RowBytes(m))),
                           static_cast<uint64_t>(n), out);
      break;
  }
}

void Expand(const CompactMatrix& m, float* out) { ExpandRows(m.view(), 0, m.rows, out); }

void MatVec(const MatrixView& m, const float* x, float* y, const RowSplitter& split) {
  MatMul(m, x, 1, y, split);
}

void MatMul(const MatrixView& m, const float* x, int64_t n, float* y, const RowSplitter& split) {
  const Vectors v(m, x, n);
  if (n == 1) {
    if (split && m.rows * m.cols >= kThreadedWeights) {
      split(m.rows, [&](int64_t r0, int64_t r1) { Rows(m, v, 0, r0, r1, y); });
    } else {
      Rows(m, v, 0, 0, m.rows, y);
    }
  } else if (split && m.rows * m.cols * n >= kThreadedWeights) {
    split(m.rows, [&](int64_t r0, int64_t r1) { TiledRows(m, v, n, r0, r1, y); });
  } else {
    TiledRows(m, v, n, 0, m.rows, y);
  }
}

}  // namespace lathe::engine
