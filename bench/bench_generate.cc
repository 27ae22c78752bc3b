// Generation speed of lathe's engine next to a plain PyTorch-eager loop (bench/pytorch_generate.py,
// Debian's python3-torch) on the same weights and settings, measured in the same run:
// prompt (prefill) and decode tokens/s at batch 1 and 8, on stories260K (imported from ../shared)
// and on a ~15M-parameter model of the same architecture (stories15M's shape, random weights).
//
//   build/bench/bench_generate [THREADS]     (default: LATHE_THREADS or the core count)
#include <array>
#include <functional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/random.h"
#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "engine/safetensors.h"

using namespace lathe;
namespace fs = std::filesystem;

namespace {

const std::string kShared = LATHE_SHARED_DIR;
const std::string kSource = LATHE_SOURCE_DIR;

// stories15M's shape (dim 288, 6 layers, 6 heads, hidden 768) with the Llama-2 vocabulary.
bool Write15M(const std::string& dir) {
  engine::ModelConfig c;
  c.vocab_size = 32000;
  c.hidden_size = 288;
  c.intermediate_size = 768;
  c.num_layers = 6;
  c.num_heads = 6;
  c.num_kv_heads = 6;
  c.head_dim = 48;
  c.max_position_embeddings = 512;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  Rng rng(15);
  auto next = [&] { return static_cast<float>(2.0 * rng.Uniform() - 1.0); };
  std::vector<std::vector<float>> store;
  std::vector<engine::TensorToWrite> tensors;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool norm) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    store.emplace_back(static_cast<size_t>(n));
    for (float& x : store.back()) x = norm ? 1.0f : 0.05f * next();
  };
  std::vector<std::pair<std::string, std::vector<int64_t>>> names = {{"model.embed_tokens.weight", {32000, 288}},
                                                                     {"model.norm.weight", {288}},
                                                                     {"lm_head.weight", {32000, 288}}};
  for (int l = 0; l < 6; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    for (auto n : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                   "self_attn.o_proj.weight"})
      names.push_back({p + n, {288, 288}});
    names.push_back({p + "mlp.gate_proj.weight", {768, 288}});
    names.push_back({p + "mlp.up_proj.weight", {768, 288}});
    names.push_back({p + "mlp.down_proj.weight", {288, 768}});
    names.push_back({p + "input_layernorm.weight", {288}});
    names.push_back({p + "post_attention_layernorm.weight", {288}});
  }
  store.reserve(names.size());
  for (auto& [n, s] : names) {
    add(n, s, n.ends_with("norm.weight"));
    tensors.push_back({n, engine::DType::kF32, s,
                       std::string_view(reinterpret_cast<const char*>(store.back().data()), store.back().size() * 4)});
  }
  auto bytes = engine::SerializeSafetensors(tensors, {});
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

double Seconds(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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
  std::string cmd = "OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 " + kSource + "/bench/pytorch_generate.py --model " +
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

}  // namespace

int main(int argc, char** argv) {
  if (!fs::exists(kShared + "/models/stories260K/stories260K.bin")) {
    std::printf("bench_generate: ../shared is absent; it needs models/stories260K and tokenizers/llama2\n");
    return 0;
  }
  if (argc > 1) setenv("LATHE_THREADS", argv[1], 1);
  const int threads = std::getenv("LATHE_THREADS") ? std::atoi(std::getenv("LATHE_THREADS"))
                                                   : static_cast<int>(std::thread::hardware_concurrency());
  const std::string tmp = (fs::temp_directory_path() / "lathe_bench_generate").string();
  fs::create_directories(tmp);
  auto imported = engine::ImportLlama2c(kShared + "/models/stories260K/stories260K.bin",
                                        kShared + "/models/stories260K/tok512.model", tmp + "/stories260K");
  if (!imported.ok() || !Write15M(tmp + "/model15M")) {
    std::fprintf(stderr, "bench_generate: cannot prepare the models\n");
    return 1;
  }
  std::printf("threads: %d (lathe and PyTorch alike); prompt 64 tokens, 64 new tokens, greedy, fp32\n\n", threads);
  std::printf("%-12s %5s | %12s %12s %7s | %12s %12s %7s | %s\n", "model", "batch", "lathe pp/s", "torch pp/s",
              "ratio", "lathe tg/s", "torch tg/s", "ratio", "same tokens");
  for (const char* name : {"stories260K", "model15M"}) {
    auto m = engine::LanguageModel::Load(tmp + "/" + name);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      return 1;
    }
    for (int batch : {1, 8}) {
      Speed l = Lathe(**m, batch, 64, 64);
      Speed t = PyTorch(tmp + "/" + name, batch, 64, 64, threads);
      std::printf("%-12s %5d | %12.0f %12.0f %6.2fx | %12.0f %12.0f %6.2fx | %s\n", name, batch, l.prompt, t.prompt,
                  t.prompt > 0 ? l.prompt / t.prompt : 0, l.decode, t.decode, t.decode > 0 ? l.decode / t.decode : 0,
                  l.first == t.first ? "yes" : "NO");
    }
  }
  std::printf("\npp = prompt (prefill) tokens/s, tg = generated tokens/s; target: tg ratio >= 3x at batch 1\n");
  if (!std::getenv("LATHE_BENCH_KEEP")) fs::remove_all(tmp);
  return 0;
}
