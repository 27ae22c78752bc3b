// Training speed of lathe's trainer step (TrainingLoss + AdamW, as engine/trainer.cc runs it) next
// to a plain PyTorch-eager loop (bench/pytorch_train.py) on the same configuration, measured in
// the same run: tokens/s, MFU against the fp32 matmul peak measured here, and peak
// RSS, for LoRA (q_proj, v_proj, rank 8) and full fine-tuning of a ~4M and a ~135M Llama.
//
//   build/bench/bench_train [THREADS]       (each measurement runs in its own process)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/cpu_features.h"
#include "core/heap_reuse.h"
#include "engine/lora.h"

using namespace lathe;
using namespace lathe::engine;

namespace {

struct Shape {
  const char* name;
  int64_t hidden, layers, heads, kv_heads, ffn, vocab;
};
const Shape kShapes[] = {{"4M", 256, 4, 8, 8, 688, 4096}, {"135M", 576, 30, 9, 3, 1536, 49152}};
constexpr int64_t kBatch = 4, kSeq = 128;

ModelConfig Config(const Shape& s) {
  ModelConfig c;
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.ffn;
  c.num_layers = s.layers;
  c.num_heads = s.heads;
  c.num_kv_heads = s.kv_heads;
  c.head_dim = s.hidden / s.heads;
  c.max_position_embeddings = 512;
  c.tie_word_embeddings = true;
  return c;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One measurement, in this process: prints {"tokens_per_s", "peak_rss_mb"}.
int RunOne(const Shape& s, const std::string& method, int steps) {
  if (const char* t = std::getenv("LATHE_THREADS")) at::set_num_threads(std::atoi(t));
  KeepFreedMemoryInHeap();  // as `lathe train` does
  const bool bf16 = std::getenv("LATHE_BENCH_BF16") != nullptr;
  if (bf16) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  at::manual_seed(0);
  ModelConfig c = Config(s);
  std::map<std::string, at::Tensor> named;
  for (const auto& [name, shape] : ExpectedTensors(c))
    named[name] = name.ends_with("norm.weight") ? at::ones(shape) : at::randn(shape) * 0.02;
  LlamaWeights w = std::move(WeightsFromNamed(c, named)).value();
  std::vector<at::Tensor> params;
  std::optional<LoraAdapters> lora;
  if (method == "lora") {
    lora = std::move(NewLoraAdapters(c, 8, 16, 0.0, {"q_proj", "v_proj"}, 1)).value();
    params = lora->Parameters();
    named.clear();  // w holds the only references, as in the trainer
    if (bf16) KeepFrozenMatricesInBf16(&w);  // as the trainer does for LoRA in bf16
  } else {
    for (auto& [name, t] : named) params.push_back(t.set_requires_grad(true));
  }
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-4));
  at::Tensor tokens = at::randint(0, c.vocab_size, {kBatch, kSeq}, at::kLong);
  at::Tensor targets = at::ones({kBatch, kSeq}, at::kBool);
  auto step = [&] {
    int64_t n = 0;
    at::Tensor loss = TrainingLoss(c, w, lora ? &*lora : nullptr, tokens, targets, true, bf16, &n);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    opt.step();
    for (auto& p : params) p.mutable_grad() = at::Tensor();  // as the trainer does after a step
  };
  step();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double secs = Seconds(t0);
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("%s\n", nlohmann::json{{"tokens_per_s", steps * kBatch * kSeq / secs}, {"peak_rss_mb", ru.ru_maxrss / 1024.0}}
                          .dump()
                          .c_str());
  return 0;
}

nlohmann::json RunJson(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (p) pclose(p);
  auto j = nlohmann::json::parse(out.substr(out.find('{') == std::string::npos ? 0 : out.find('{')), nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::string(argv[1]) == "--one") {
    for (const auto& s : kShapes)
      if (s.name == std::string(argv[2])) return RunOne(s, argv[3], std::atoi(argv[4]));
    return 2;
  }
  // Both trainers' processes wait as build/lathe's threads do (core/cpu_features.h), unless the
  // caller chose: the same OpenMP setting for both.
  SetOpenMpWaitDefault();
  const int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(threads);
  // lathe trains with bf16 autocast where the CPU has AVX512_BF16 (precision=auto); the peer is
  // eager PyTorch at the same precision.
  bool bf16 = false;
  {
    FILE* f = std::fopen("/proc/cpuinfo", "r");
    char line[4096];
    while (f && std::fgets(line, sizeof line, f))
      if (std::string(line).rfind("flags", 0) == 0) {
        bf16 = std::string(line).find(" avx512_bf16") != std::string::npos;
        break;
      }
    if (f) std::fclose(f);
  }
  // Matmul peaks, measured here: fp32 (OpenBLAS) and bf16 (oneDNN, AMX where present). MFU is
  // against the peak of the precision that trains.
  auto matmul_peak = [](at::ScalarType type) {
    at::Tensor a = at::randn({1024, 1024}).to(type), b = at::randn({1024, 1024}).to(type);
    at::mm(a, b);
    double best = 0;
    for (int round = 0; round < 3; ++round) {
      auto t0 = std::chrono::steady_clock::now();
      const int reps = 20;
      for (int i = 0; i < reps; ++i) at::mm(a, b);
      best = std::max(best, reps * 2.0 * 1024 * 1024 * 1024 / Seconds(t0) / 1e9);
    }
    return best;
  };
  const double fp32_peak = matmul_peak(at::kFloat);
  const double bf16_peak = bf16 ? matmul_peak(at::kBFloat16) : 0;
  const double peak = bf16 ? bf16_peak : fp32_peak;
  std::printf("threads %d; matmul peaks measured now: fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s; batch %lld x %lld tokens, "
              "AdamW\n", threads, fp32_peak, bf16_peak, static_cast<long long>(kBatch), static_cast<long long>(kSeq));
  std::printf("lathe precision: %s (its default here); PyTorch eager: the same\n\n", bf16 ? "bf16 autocast" : "fp32");
  std::printf("%-6s %-5s | %10s %10s %6s | %7s %7s | %9s %9s %6s\n", "model", "mode", "lathe t/s", "torch t/s", "ratio",
              "lathe", "torch", "lathe MB", "torch MB", "ratio");
  const std::string env = std::string(bf16 ? "LATHE_BENCH_BF16=1 " : "") + "LATHE_THREADS=" +
                          std::to_string(threads) + " ";
  for (const auto& s : kShapes) {
    const ModelConfig c = Config(s);
    const double n = static_cast<double>(c.ParameterCount());
    for (const char* method : {"lora", "full"}) {
      const int steps = s.hidden > 300 ? 2 : 6;
      auto mine = RunJson(env + "OMP_NUM_THREADS=" + std::to_string(threads) + " " + argv[0] + " --one " + s.name + " " +
                          method + " " + std::to_string(steps));
      auto theirs = RunJson(env + "/usr/bin/python3 " + std::string(LATHE_SOURCE_DIR) + "/bench/pytorch_train.py --hidden " +
                            std::to_string(s.hidden) + " --layers " + std::to_string(s.layers) + " --heads " +
                            std::to_string(s.heads) + " --kv-heads " + std::to_string(s.kv_heads) + " --ffn " +
                            std::to_string(s.ffn) + " --vocab " + std::to_string(s.vocab) + " --method " + method +
                            " --batch " + std::to_string(kBatch) + " --seq " + std::to_string(kSeq) + " --steps " +
                            std::to_string(steps) + " --threads " + std::to_string(threads) + (bf16 ? " --bf16" : ""));
      const double lt = mine.value("tokens_per_s", 0.0), tt = theirs.value("tokens_per_s", 0.0);
      const double lm = mine.value("peak_rss_mb", 0.0), tm = theirs.value("peak_rss_mb", 0.0);
      // FLOPs per token: full = 6N (forward, input and weight gradients); LoRA = 4N (no weight gradients).
      const double flops = (std::string(method) == "full" ? 6 : 4) * n;
      std::printf("%-6s %-5s | %10.0f %10.0f %5.2fx | %6.1f%% %6.1f%% | %9.0f %9.0f %5.2fx\n", s.name, method, lt, tt,
                  tt > 0 ? lt / tt : 0, 100 * lt * flops / (peak * 1e9), 100 * tt * flops / (peak * 1e9), lm, tm,
                  tm > 0 ? lm / tm : 0);
      std::fflush(stdout);
    }
  }
  std::printf("\nt/s = training tokens per second; the middle columns are MFU against the %s matmul peak; targets: "
              "135M LoRA >= 1.5x tokens/s of PyTorch and >= 50%% MFU, <= 0.75x its peak RSS\n", bf16 ? "bf16" : "fp32");
  return 0;
}
