// Generation speed of lathe's engine next to a plain PyTorch-eager loop (bench/pytorch_generate.py,
// Debian's python3-torch) and, when given its binaries, llama.cpp's llama-bench, on the same
// weights and settings, measured in the same run: prompt (prefill) and decode tokens/s at batch 1
// and 8, on stories260K (imported from ../shared) and on models of stories15M's and stories110M's
// shapes (random weights). llama.cpp reads the same weights exported by `lathe models export-gguf`
// as f32 and q8_0, each compared with lathe holding its weights in the same precision; batch 1
// only (llama-bench runs one sequence). lathe's bf16 weights are measured too.
// Decode at batch 1 reads every weight once per token: the memory-limit column divides the
// measured read bandwidth of this machine by the weights' bytes.
//
//   build/bench/bench_generate [--threads N] [--llama-cpp DIR] [--models stories260K,model15M,model110M]
//     --llama-cpp DIR   a folder with llama.cpp's llama-bench (bench/build_llama_cpp.sh SRC builds one)
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_memory.h"
#include "bench_shapes.h"
#include "core/env.h"
#include "core/random.h"
#include "engine/gguf_convert.h"
#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "engine/safetensors.h"

using namespace lathe;
namespace fs = std::filesystem;

namespace {

const std::string kShared = LATHE_SHARED_DIR;
const std::string kSource = LATHE_SOURCE_DIR;

double Seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Shape {
  const char* name;
  int64_t width, hidden, layers, heads;
};
// stories15M's and stories110M's shapes with the Llama-2 vocabulary (32000).
constexpr Shape kShapes[] = {{"model15M", 288, 768, 6, 6}, {"model110M", 768, 2048, 12, 12}};

// A model folder of the shape, random weights: 1M uniform values tiled (speed does not depend on
// the values, and drawing 110M of them would dominate the bench's set-up).
bool WriteShaped(const Shape& shape, const std::string& dir) {
  engine::ModelConfig c;
  c.vocab_size = 32000;
  c.hidden_size = shape.width;
  c.intermediate_size = shape.hidden;
  c.num_layers = shape.layers;
  c.num_heads = shape.heads;
  c.num_kv_heads = shape.heads;
  c.head_dim = shape.width / shape.heads;
  c.max_position_embeddings = 512;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  Rng rng(15);
  std::vector<float> pattern(1 << 20);
  for (float& x : pattern) x = static_cast<float>(0.1 * rng.Uniform() - 0.05);
  std::vector<std::vector<float>> store;
  std::vector<engine::TensorToWrite> tensors;
  auto names = engine::ExpectedTensors(c);
  store.reserve(names.size());
  for (auto& [n, s] : names) {
    int64_t count = 1;
    for (auto d : s) count *= d;
    store.emplace_back(static_cast<size_t>(count));
    const bool norm = n.ends_with("norm.weight");
    for (size_t i = 0; i < store.back().size(); ++i) store.back()[i] = norm ? 1.0f : pattern[i % pattern.size()];
    tensors.push_back({n, engine::DType::kF32, s,
                       std::string_view(reinterpret_cast<const char*>(store.back().data()), store.back().size() * 4)});
  }
  auto bytes = engine::SerializeSafetensors(tensors, {});
  store.clear();
  fs::create_directories(dir);
  Env* env = Env::Default();
  return bytes.ok() && WriteFileAtomically(env, dir + "/model.safetensors", *bytes).ok() &&
         WriteFileAtomically(env, dir + "/config.json", engine::ModelConfigToJson(c).dump(2)).ok() &&
         fs::copy_file(kShared + "/tokenizers/llama2/tokenizer.model", dir + "/tokenizer.model",
                       fs::copy_options::overwrite_existing);
}


struct Speed {
  double prompt = 0, decode = 0;
  std::vector<int> first;
};

Speed Lathe(engine::LanguageModel& m, int batch, int prompt_len, int new_tokens) {
  const int64_t vocab = m.config().vocab_size;
  std::vector<std::vector<int>> prompts(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < prompt_len; ++t)  // the same ids as pytorch_generate.py
      prompts[static_cast<size_t>(b)].push_back(static_cast<int>(((b * prompt_len + t) * 7919LL + 3) % (vocab - 3) + 3));
  engine::GenerationOptions one, all;
  one.max_tokens = 1;
  all.max_tokens = new_tokens;
  Speed s;
  double best_prefill = 1e9, best_total = 1e9;
  (void)m.GenerateTokens(prompts, one);  // warm-up
  for (int r = 0; r < 3; ++r) {
    best_prefill = std::min(best_prefill, Seconds([&] { (void)m.GenerateTokens(prompts, one); }));
    best_total = std::min(best_total, Seconds([&] {
      auto res = m.GenerateTokens(prompts, all);
      s.first.assign(res->at(0).tokens.begin(), res->at(0).tokens.begin() + 8);
    }));
  }
  s.prompt = batch * prompt_len / best_prefill;
  s.decode = batch * (new_tokens - 1) / std::max(1e-9, best_total - best_prefill);
  return s;
}

Speed PyTorch(const std::string& dir, int batch, int prompt_len, int new_tokens, int threads) {
  std::string cmd = "/usr/bin/python3 " + kSource + "/bench/pytorch_generate.py --model " +
                    dir + " --batch " + std::to_string(batch) + " --prompt-tokens " + std::to_string(prompt_len) +
                    " --new-tokens " + std::to_string(new_tokens) + " --threads " + std::to_string(threads);
  Speed s;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (!p || pclose(p) != 0) return s;
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) return s;
  s.prompt = j["prompt_tokens_per_s"];
  s.decode = j["decode_tokens_per_s"];
  s.first = j["first_tokens"].get<std::vector<int>>();
  return s;
}

// llama.cpp's llama-bench on a GGUF file: prompt 64 and decode 64 tokens/s, batch 1. It runs
// with its own defaults: its OpenMP threads spin between operations, and the OMP_WAIT_POLICY=PASSIVE
// lathe runs under would slow it 1.5-3x (measured: decode 36 vs 64 tok/s on the 110M shape).
Speed LlamaCpp(const std::string& bin_dir, const std::string& gguf, int threads) {
  Speed s;
  std::string cmd = "env -u OMP_WAIT_POLICY " + bin_dir + "/llama-bench -m " + gguf + " -p 64 -n 64 -r 3 -o json -t " +
                    std::to_string(threads) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (!p || pclose(p) != 0) return s;
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array()) return s;
  for (const auto& run : j) {
    if (run.value("n_prompt", 0) > 0) s.prompt = run.value("avg_ts", 0.0);
    if (run.value("n_gen", 0) > 0) s.decode = run.value("avg_ts", 0.0);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  bench::WaitAsLathe(argv);
  if (!fs::exists(kShared + "/models/stories260K/stories260K.bin")) {
    std::printf("bench_generate: ../shared is absent; it needs models/stories260K and tokenizers/llama2\n");
    return 0;
  }
  std::string llama_cpp, models = "stories260K,model15M,model110M";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") setenv("LATHE_THREADS", argv[i + 1], 1);
    else if (flag == "--llama-cpp") llama_cpp = argv[i + 1];
    else if (flag == "--models") models = "," + std::string(argv[i + 1]) + ",";
  }
  if (!models.starts_with(",")) models = "," + models + ",";
  if (!llama_cpp.empty() && !fs::exists(llama_cpp + "/llama-bench")) {
    std::fprintf(stderr, "bench_generate: no llama-bench in %s (bench/build_llama_cpp.sh SRC builds it)\n",
                 llama_cpp.c_str());
    return 1;
  }
  const int threads = std::getenv("LATHE_THREADS") ? std::atoi(std::getenv("LATHE_THREADS"))
                                                   : static_cast<int>(std::thread::hardware_concurrency());
  const std::string tmp = (fs::temp_directory_path() / "lathe_bench_generate").string();
  fs::create_directories(tmp);
  std::vector<std::string> names;
  if (models.find(",stories260K,") != std::string::npos) {
    auto imported = engine::ImportLlama2c(kShared + "/models/stories260K/stories260K.bin",
                                          kShared + "/models/stories260K/tok512.model", tmp + "/stories260K");
    if (!imported.ok()) return std::fprintf(stderr, "%s\n", imported.status().ToString().c_str()), 1;
    names.push_back("stories260K");
  }
  for (const Shape& shape : kShapes) {
    if (models.find("," + std::string(shape.name) + ",") == std::string::npos) continue;
    if (!WriteShaped(shape, tmp + "/" + shape.name)) return std::fprintf(stderr, "cannot write %s\n", shape.name), 1;
    names.push_back(shape.name);
  }
  const double bandwidth = bench::ReadBandwidth(threads);
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("threads: %d (every engine alike); prompt 64 tokens, 64 new tokens, greedy, fp32 unless marked; "
              "read bandwidth %.1f GB/s\nOpenMP wait for lathe and PyTorch: GOMP_SPINCOUNT=%s OMP_WAIT_POLICY=%s "
              "(llama.cpp: its own defaults)\n\n", threads, bandwidth, spin ? spin : "unset", policy ? policy : "unset");
  std::printf("%-12s %5s | %10s %10s %6s | %10s %10s %6s | %5s | %10s |\n", "model", "batch", "lathe pp/s",
              "torch pp/s", "ratio", "lathe tg/s", "torch tg/s", "ratio", "same", "limit tg/s");
  for (const std::string& name : names) {
    auto m = engine::LanguageModel::Load(tmp + "/" + name);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      return 1;
    }
    // A token reads every weight but the embedding table (one row of it), unless the table is
    // also the output layer.
    const auto& c = (*m)->config();
    const double embedding_values = c.tie_word_embeddings ? 0 : static_cast<double>(c.vocab_size * c.hidden_size);
    const double weight_bytes = 4 * (static_cast<double>(c.ParameterCount()) - embedding_values);
    Speed lathe_batch1;
    for (int batch : {1, 8}) {
      Speed l = Lathe(**m, batch, 64, 64);
      if (batch == 1) lathe_batch1 = l;
      Speed t = PyTorch(tmp + "/" + name, batch, 64, 64, threads);
      const double limit = bandwidth * 1e9 / weight_bytes * batch;
      std::printf("%-12s %5d | %10.0f %10.0f %5.2fx | %10.1f %10.1f %5.2fx | %5s | %10.1f |", name.c_str(), batch,
                  l.prompt, t.prompt, t.prompt > 0 ? l.prompt / t.prompt : 0, l.decode, t.decode,
                  t.decode > 0 ? l.decode / t.decode : 0, l.first == t.first ? "yes" : "NO", limit);
      std::printf(" lathe tg at %3.0f%% of it\n", 100 * l.decode / limit);
    }
    // The same model with its weights held in bf16 and q8_0 (docs/performance.md, "Weight
    // precision"): batch 1, each against the limit for the bytes it reads.
    Speed lathe_q8;
    for (auto [p, bytes_per_value] : {std::pair{engine::WeightPrecision::kBf16, 2.0},
                                      std::pair{engine::WeightPrecision::kQ8_0, 34.0 / 32}}) {
      auto held = (*m)->WithWeightPrecision(p);
      if (!held.ok()) return std::fprintf(stderr, "%s\n", held.status().ToString().c_str()), 1;
      Speed l = Lathe(**held, 1, 64, 64);
      if (p == engine::WeightPrecision::kQ8_0) lathe_q8 = l;
      const double limit = bandwidth * 1e9 / (weight_bytes / 4 * bytes_per_value);
      std::printf("%-12s %5d | lathe weights %-5s pp %8.0f/s  tg %8.1f/s, limit %8.1f/s, lathe tg at %3.0f%% of it\n",
                  name.c_str(), 1, engine::WeightPrecisionName(p), l.prompt, l.decode, limit, 100 * l.decode / limit);
    }
    if (llama_cpp.empty()) continue;
    for (auto [type, label] : {std::pair{engine::GgmlType::kF32, "f32"}, std::pair{engine::GgmlType::kQ8_0, "q8_0"}}) {
      const std::string gguf = tmp + "/" + name + "." + label + ".gguf";
      auto exported = engine::ExportGguf(tmp + "/" + name, gguf, type);
      if (!exported.ok()) {
        std::printf("%-12s llama.cpp %s: %s\n", name.c_str(), label, exported.status().ToString().c_str());
        continue;
      }
      Speed lc = LlamaCpp(llama_cpp, gguf, threads);
      // Equal weight precision: lathe f32 against llama.cpp f32, lathe q8_0 against llama.cpp q8_0.
      const Speed& l = type == engine::GgmlType::kF32 ? lathe_batch1 : lathe_q8;
      const double bytes_per_value = type == engine::GgmlType::kF32 ? 4 : 34.0 / 32;
      const double limit = bandwidth * 1e9 / (static_cast<double>(exported->bytes) - bytes_per_value * embedding_values);
      std::printf("%-12s %5s | llama.cpp %s: pp %8.0f/s (lathe %s / it %5.2fx)  tg %8.1f/s (lathe %s / it %5.2fx), "
                  "limit at %s %8.1f/s, llama.cpp at %3.0f%%\n",
                  name.c_str(), "1", label, lc.prompt, label, lc.prompt > 0 ? l.prompt / lc.prompt : 0, lc.decode,
                  label, lc.decode > 0 ? l.decode / lc.decode : 0, label, limit, 100 * lc.decode / limit);
    }
  }
  std::printf("\npp = prompt (prefill) tokens/s, tg = generated tokens/s; ratios are lathe / peer; the limit is\n"
              "the read bandwidth over the bytes a token reads (meaningless for weights that fit in the caches)\n");
  if (!std::getenv("LATHE_BENCH_KEEP")) fs::remove_all(tmp);
  return 0;
}
