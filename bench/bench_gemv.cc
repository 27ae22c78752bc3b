// The decode kernels (engine/gemv_kernels.h) on the matrices of one token of a stories110M-shaped
// model (width 768, 12 layers, MLP 2048, vocabulary 32000: 110M weights a token reads), next to
// torch's f32 linear (OpenBLAS sgemv) on the same matrices in the same run, and to the memory
// bandwidth measured here: tokens/s each encoding allows and the fraction of its limit reached.
//
//   build/bench/bench_gemv [THREADS]     (default 2)
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_memory.h"
#include "bench_shapes.h"
#include "engine/float_formats.h"
#include "engine/gemv_kernels.h"
#include "engine/gguf.h"
#include "engine/row_split.h"

using namespace lathe;

namespace {

using bench::BestSeconds;
using bench::Matrix;
const auto& kToken = bench::kToken110M;

}  // namespace

int main(int argc, char** argv) {
  bench::WaitAsLathe(argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  at::set_num_threads(threads);
  const double bandwidth = bench::ReadBandwidth(threads);
  struct Encoded {
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    std::string q8;
    at::Tensor tensor;
  };
  std::vector<std::vector<Encoded>> all;  // every copy a token reads, so no matrix stays in cache
  for (const Matrix& m : kToken) {
    all.emplace_back();
    for (int64_t k = 0; k < m.count; ++k) {
      Encoded e;
      at::Tensor t = at::randn({m.rows, m.cols}) * 0.05;
      e.f32.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      e.bf16.resize(e.f32.size());
      for (size_t i = 0; i < e.f32.size(); ++i) e.bf16[i] = engine::FloatToBf16(e.f32[i]);
      e.q8 = engine::QuantizeGgufQ8_0(e.f32.data(), e.f32.size());
      e.tensor = t;
      all.back().push_back(std::move(e));
    }
  }
  std::vector<float> x(4096, 0.5f), y(32000), xd(4096 / 32);
  std::vector<int8_t> xq(4096);
  at::Tensor xt = at::ones({1, 4096}) * 0.5;
  double values = 0;
  for (const Matrix& m : kToken) values += static_cast<double>(m.rows * m.cols * m.count);
  auto token = [&](const std::function<void(const Matrix&, const Encoded&)>& one) {
    for (size_t i = 0; i < std::size(kToken); ++i)
      for (const Encoded& e : all[i]) one(kToken[i], e);
  };
  struct Row {
    const char* name;
    double bytes_per_value, seconds;
  };
  // lathe's kernels split their rows as decode does (engine/row_split.h: the engine's own threads,
  // which wait spinning between products); until 2026-12-04 this bench started threads per matrix.
  std::vector<Row> rows = {
      {"torch f32 linear (peer)", 4, BestSeconds(5, [&] {
         token([&](const Matrix& m, const Encoded& e) {
           (void)at::linear(xt.narrow(1, 0, m.cols), e.tensor);
         });
       })},
      {"lathe f32", 4, BestSeconds(5, [&] {
         token([&](const Matrix& m, const Encoded& e) {
           engine::SplitRows(m.rows, [&](int64_t r0, int64_t r1) { engine::GemvF32(e.f32.data(), x.data(), m.cols, r0, r1, y.data()); });
         });
       })},
      {"lathe bf16", 2, BestSeconds(5, [&] {
         token([&](const Matrix& m, const Encoded& e) {
           engine::SplitRows(m.rows, [&](int64_t r0, int64_t r1) { engine::GemvBf16(e.bf16.data(), x.data(), m.cols, r0, r1, y.data()); });
         });
       })},
      {"lathe q8_0", 34.0 / 32, BestSeconds(5, [&] {
         token([&](const Matrix& m, const Encoded& e) {
           // x is quantized once per matrix, as the model does (compact_matrix.cc), in the timing.
           engine::QuantizeQ8Activations(x.data(), m.cols, xq.data(), xd.data());
           engine::SplitRows(m.rows, [&](int64_t r0, int64_t r1) {
             engine::GemvQ8_0(e.q8.data(), xq.data(), xd.data(), m.cols, r0, r1, y.data());
           });
         });
       })},
  };
  std::printf("threads %d, AVX-512 kernels %s, read bandwidth %.1f GB/s; one token of a 110M-shaped model = %.0fM weights\n\n",
              threads, engine::GemvVectorKernels() ? "on" : "off", bandwidth, values / 1e6);
  std::printf("%-26s %10s %10s %10s %12s %10s\n", "kernel", "ms/token", "tokens/s", "GB/s", "limit tok/s", "% limit");
  for (const Row& r : rows) {
    const double bytes = values * r.bytes_per_value, limit = bandwidth * 1e9 / bytes;
    std::printf("%-26s %10.2f %10.1f %10.1f %12.1f %9.0f%%\n", r.name, r.seconds * 1e3, 1 / r.seconds,
                bytes / r.seconds / 1e9, limit, 100 / r.seconds / limit);
  }
  std::printf("\nlathe f32 / torch f32: %.2fx; bf16 / f32: %.2fx; q8_0 / f32: %.2fx (tokens/s)\n",
              rows[0].seconds / rows[1].seconds, rows[1].seconds / rows[2].seconds, rows[1].seconds / rows[3].seconds);
  return 0;
}
