// The prefill kernel (engine/prefill_kernel.h) on the layer matrices of a stories110M-shaped
// model for a 64-token prompt (the output layer, which prefill applies to the last token only, is
// left out), next to torch's f32 linear (OpenBLAS sgemm, which packs the weights on every call)
// on the same matrices in the same run, and to this machine's f32 multiply-add peak measured
// here (registers only): GFLOP/s and the fraction of the peak each reaches. Every layer's
// matrices are distinct copies, so the weights stream from memory as in a model.
//
//   build/bench/bench_prefill [THREADS] [TOKENS]     (defaults 2 and 64)
#include <immintrin.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_shapes.h"
#include "engine/compact_matrix.h"
#include "engine/gemv_kernels.h"
#include "engine/prefill_kernel.h"
#include "engine/row_split.h"

using namespace lathe;

namespace {

// 16 independent chains of 16-lane multiply-adds, every operand in registers. (GCC 12's reduction
// intrinsic trips -Wuninitialized on its own _mm512_undefined_ps.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) float FmaChains(int64_t iterations) {
  __m512 a[16];
  for (auto& v : a) v = _mm512_set1_ps(1.0f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i)
#pragma GCC unroll 16
    for (auto& v : a) v = _mm512_fmadd_ps(v, m, c);
  __m512 s = a[0];
  for (int k = 1; k < 16; ++k) s = _mm512_add_ps(s, a[k]);
  return _mm512_reduce_add_ps(s);
}
#pragma GCC diagnostic pop

// f32 multiply-adds per second on `threads` threads: the most the cores can do.
double PeakGflops(int threads) {
  const int64_t iterations = 50'000'000;
  std::vector<float> sums(static_cast<size_t>(threads));
  const double seconds = bench::BestSeconds(3, [&] {
    bench::Split(threads, threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) sums[static_cast<size_t>(t)] = FmaChains(iterations);
    });
  });
  return 2.0 * 16 * 16 * iterations * threads / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  bench::WaitAsLathe(argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t tokens = argc > 2 ? std::atoll(argv[2]) : 64;
  at::set_num_threads(threads);
  if (!engine::GemvVectorKernels()) return std::fprintf(stderr, "bench_prefill: this CPU has no AVX-512\n"), 1;
  const double peak = PeakGflops(threads);
  struct Copy {
    at::Tensor f32;
    engine::CompactMatrix bf16, q8;
  };
  std::vector<std::pair<bench::Matrix, std::vector<Copy>>> layers;
  double flops = 0;
  for (const bench::Matrix& m : bench::kToken110M) {
    if (m.count == 1) continue;  // the output layer
    layers.emplace_back(m, std::vector<Copy>());
    for (int64_t k = 0; k < m.count; ++k) {
      at::Tensor t = at::randn({m.rows, m.cols}) * 0.05;
      layers.back().second.push_back({t, engine::Compact(t.data_ptr<float>(), m.rows, m.cols, engine::WeightPrecision::kBf16),
                                      engine::Compact(t.data_ptr<float>(), m.rows, m.cols, engine::WeightPrecision::kQ8_0)});
      flops += 2.0 * tokens * m.rows * m.cols;
    }
  }
  const at::Tensor x = at::randn({tokens, 4096});
  std::vector<float> y(static_cast<size_t>(tokens * 4096));
  // The model's own prefill split (torch's OpenMP threads, chunks on demand), not a thread
  // started per matrix: starting threads cost lathe a quarter of its two-thread speed here.
  const engine::RowSplitter split = engine::SplitRowsOnTorchThreads;
  auto lathe = [&](engine::WeightPrecision p) {
    return bench::BestSeconds(5, [&] {
      for (auto& [m, copies] : layers)
        for (const Copy& c : copies) {
          const engine::MatrixView v = p == engine::WeightPrecision::kF32
                                           ? engine::MatrixView{p, c.f32.data_ptr<float>(), m.rows, m.cols}
                                           : (p == engine::WeightPrecision::kBf16 ? c.bf16 : c.q8).view();
          (void)engine::PrefillMatMul(v, x.narrow(1, 0, m.cols).contiguous().data_ptr<float>(), tokens, nullptr,
                                      y.data(), split);
        }
    });
  };
  struct Row {
    const char* name;
    double seconds;
  };
  const std::vector<Row> rows = {
      {"torch f32 linear (peer)", bench::BestSeconds(5, [&] {
         for (auto& [m, copies] : layers)
           for (const Copy& c : copies) (void)at::linear(x.narrow(1, 0, m.cols), c.f32);
       })},
      {"lathe f32", lathe(engine::WeightPrecision::kF32)},
      {"lathe bf16 weights", lathe(engine::WeightPrecision::kBf16)},
      {"lathe q8_0 weights", lathe(engine::WeightPrecision::kQ8_0)},
  };
  std::printf("threads %d, %lld-token prompt, f32 peak %.0f GFLOP/s (measured); the layer matrices of a 110M-shaped "
              "model = %.1f GFLOP\n\n", threads, static_cast<long long>(tokens), peak, flops / 1e9);
  std::printf("%-26s %10s %12s %10s %8s\n", "kernel", "ms", "prompt tok/s", "GFLOP/s", "% peak");
  for (const Row& r : rows)
    std::printf("%-26s %10.2f %12.0f %10.1f %7.0f%%\n", r.name, r.seconds * 1e3, tokens / r.seconds,
                flops / r.seconds / 1e9, 100 * flops / r.seconds / 1e9 / peak);
  std::printf("\nlathe f32 / torch f32: %.2fx (GFLOP/s)\n", rows[0].seconds / rows[1].seconds);
  return 0;
}
