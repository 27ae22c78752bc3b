#include "engine/default_model.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/random.h"
#include "engine/model_config.h"
#include "engine/safetensors.h"
#include "engine/trainer.h"
#include "text/tokenizer.h"

namespace lathe::engine {
namespace {

namespace fs = std::filesystem;

constexpr const char* kWordNetDir = "/usr/share/wordnet";
constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

// WordNet data.* lines: "offset lexfile pos count word lexid ... | gloss". Lines starting with
// a space are the license header.
void WordNetGlosses(std::vector<std::string>* out) {
  for (const char* part : {"data.noun", "data.verb", "data.adj", "data.adv"}) {
    std::ifstream in(std::string(kWordNetDir) + "/" + part);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == ' ') continue;
      size_t bar = line.find(" | ");
      if (bar == std::string::npos) continue;
      std::istringstream fields(line.substr(0, bar));
      std::string offset, lexfile, pos, count, word;
      fields >> offset >> lexfile >> pos >> count >> word;
      std::replace(word.begin(), word.end(), '_', ' ');
      std::string gloss = line.substr(bar + 3);
      while (!gloss.empty() && gloss.back() == ' ') gloss.pop_back();
      out->push_back(word + ": " + gloss);
    }
  }
}

// Fortune files: entries separated by lines holding "%". Art files are not prose.
void Fortunes(std::vector<std::string>* out) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kFortunesDir, ec))
    if (e.is_regular_file() && !e.path().has_extension() && e.path().filename() != "art" &&
        e.path().filename() != "ascii-art")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string entry;
    auto flush = [&] {
      std::string t;
      bool space = false;
      for (char c : entry) {
        if (c == '\n' || c == '\t' || c == ' ') {
          space = !t.empty();
          continue;
        }
        if (space) t.push_back(' ');
        space = false;
        t.push_back(c);
      }
      if (t.size() >= 20 && t.size() <= 1000) out->push_back(t);
      entry.clear();
    };
    for (std::string line; std::getline(in, line);) {
      if (line == "%") flush();
      else entry += line + "\n";
    }
    flush();
  }
}

// Normal(0, std) weights from lathe's generator (Box-Muller), so every build starts alike.
std::vector<float> NormalWeights(Rng* rng, int64_t n, double std) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); i += 2) {
    const double u1 = std::max(rng->Uniform(), 1e-300), u2 = rng->Uniform();
    const double r = std::sqrt(-2 * std::log(u1)) * std, a = 2 * M_PI * u2;
    v[i] = static_cast<float>(r * std::cos(a));
    if (i + 1 < v.size()) v[i + 1] = static_cast<float>(r * std::sin(a));
  }
  return v;
}

Status WriteInitialModel(const std::string& dir, const ModelConfig& c) {
  Rng rng(20261124);
  std::vector<std::vector<float>> store;
  std::vector<TensorToWrite> tensors;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool norm) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    store.push_back(norm ? std::vector<float>(static_cast<size_t>(n), 1.0f) : NormalWeights(&rng, n, 0.02));
  };
  std::vector<std::pair<std::string, std::vector<int64_t>>> names = {{"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}},
                                                                     {"model.norm.weight", {c.hidden_size}}};
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
    names.push_back({p + "input_layernorm.weight", {c.hidden_size}});
    names.push_back({p + "self_attn.q_proj.weight", {q, c.hidden_size}});
    names.push_back({p + "self_attn.k_proj.weight", {kv, c.hidden_size}});
    names.push_back({p + "self_attn.v_proj.weight", {kv, c.hidden_size}});
    names.push_back({p + "self_attn.o_proj.weight", {c.hidden_size, q}});
    names.push_back({p + "post_attention_layernorm.weight", {c.hidden_size}});
    names.push_back({p + "mlp.gate_proj.weight", {c.intermediate_size, c.hidden_size}});
    names.push_back({p + "mlp.up_proj.weight", {c.intermediate_size, c.hidden_size}});
    names.push_back({p + "mlp.down_proj.weight", {c.hidden_size, c.intermediate_size}});
  }
  store.reserve(names.size());
  for (const auto& [name, shape] : names) {
    add(name, shape, name.ends_with("norm.weight"));
    tensors.push_back({name, DType::kF32, shape,
                       std::string_view(reinterpret_cast<const char*>(store.back().data()), store.back().size() * 4)});
  }
  auto bytes = SerializeSafetensors(tensors, {{"format", "pt"}});
  if (!bytes.ok()) return bytes.status();
  Env* env = Env::Default();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/model.safetensors", *bytes));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/config.json", ModelConfigToJson(c).dump(2) + "\n"));
  return WriteFileAtomically(env, dir + "/generation_config.json", "{\"bos_token_id\": 1, \"eos_token_id\": 2}\n");
}

}  // namespace

ModelConfig DefaultModelConfig() {
  ModelConfig c;
  c.vocab_size = 2048;
  c.hidden_size = 128;
  c.intermediate_size = 352;
  c.num_layers = 4;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 32;
  c.max_position_embeddings = 256;
  c.rope_theta = 10000;
  c.tie_word_embeddings = true;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

std::string DefaultDataDir() {
  if (const char* home = std::getenv("LATHE_HOME")) return home;
  if (const char* xdg = std::getenv("XDG_DATA_HOME")) return std::string(xdg) + "/lathe";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/lathe";
}

std::string DefaultModelDir(const std::string& data_dir) {
  return (data_dir.empty() ? DefaultDataDir() : data_dir) + "/models/lathe-default";
}

std::string BuiltDefaultModelDir(const std::string& data_dir) {
  const std::string dir = DefaultModelDir(data_dir);
  // The card is written last: a folder holding it is a complete model.
  return Env::Default()->FileExists(dir + "/lathe_model_card.json") ? dir : "";
}

Result<DefaultModelInfo> EnsureDefaultModel(const DefaultModelOptions& o) {
  Env* env = Env::Default();
  DefaultModelInfo info;
  const std::string root = o.data_dir.empty() ? DefaultDataDir() : o.data_dir;
  info.dir = DefaultModelDir(root);
  const std::string card = info.dir + "/lathe_model_card.json";
  // One builder at a time per data dir, across processes (the server's runtime builds in a
  // thread, a job's runner in a worker process): the second waits, then finds the model built.
  // The kernel drops the lock however the holder ends, so an interrupted build resumes.
  LATHE_RETURN_IF_ERROR(env->CreateDirs(root + "/models"));
  const std::string lock_path = root + "/models/lathe-default.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Status::IOError("cannot open " + lock_path + ": " + std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock_fd};
  while (::flock(lock_fd, LOCK_EX) != 0)
    if (errno != EINTR) return Status::IOError("cannot lock " + lock_path + ": " + std::strerror(errno));
  if (env->FileExists(card)) {
    std::string text;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, card, &text));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) info.heldout_perplexity = j.value("heldoutPerplexity", 0.0);
    return info;
  }
  auto report = [&](const std::string& stage, double f, const std::string& detail) {
    if (o.progress) o.progress(stage, f, detail);
  };
  const std::string work = root + "/build-default";
  LATHE_RETURN_IF_ERROR(env->CreateDirs(work + "/init"));

  // 1. Corpus: fixed order, shuffled with a fixed seed, 2% held out.
  report("corpus", 0, "WordNet glosses and fortunes");
  std::vector<std::string> texts;
  WordNetGlosses(&texts);
  Fortunes(&texts);
  if (texts.size() < 1000)
    return Status::NotFound("the default model's corpus is missing: install Debian's wordnet-base and fortunes "
                            "(scripts/setup.sh does)");
  Rng rng(7);
  rng.Shuffle(&texts);
  const size_t heldout = texts.size() / 50;
  if (texts.size() - heldout > o.max_train_records) texts.resize(heldout + o.max_train_records);
  std::string train_jsonl, val_jsonl, spm_text;
  for (size_t i = 0; i < texts.size(); ++i) {
    (i < heldout ? val_jsonl : train_jsonl) += nlohmann::json{{"input", texts[i]}}.dump() + "\n";
    spm_text += texts[i] + "\n";
    info.corpus_bytes += texts[i].size();
  }
  info.corpus_records = texts.size();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/train.jsonl", train_jsonl));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/validation.jsonl", val_jsonl));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/corpus.txt", spm_text));
  report("corpus", 1, std::to_string(texts.size()) + " records, " + std::to_string(info.corpus_bytes / 1024) + " KB");

  // 2. Tokenizer: SentencePiece BPE with byte fallback, single-threaded and unshuffled so that
  // it is the same every time.
  const ModelConfig config = DefaultModelConfig();
  if (!env->FileExists(work + "/init/tokenizer.model")) {
    report("tokenizer", 0, "SentencePiece BPE, 2048 tokens");
    LATHE_RETURN_IF_ERROR(text::TrainSentencePiece(
        {"--input=" + work + "/corpus.txt", "--model_prefix=" + work + "/init/tokenizer",
         "--vocab_size=" + std::to_string(config.vocab_size), "--model_type=bpe", "--byte_fallback=true",
         "--character_coverage=1.0", "--shuffle_input_sentence=false", "--num_threads=1",
         "--max_sentence_length=4096", "--pad_id=-1", "--unk_id=0", "--bos_id=1", "--eos_id=2"}));
  }
  report("tokenizer", 1, "");
  LATHE_RETURN_IF_ERROR(WriteInitialModel(work + "/init", config));

  // 3. Pretraining through the trainer's continued pre-training path (resumable).
  TrainRequest req;
  req.model_dir = work + "/init";
  req.train_file = work + "/train.jsonl";
  req.validation_file = work + "/validation.jsonl";
  req.out_dir = work + "/run";
  req.hyperparameters = {{"method", "full"}, {"epochCount", "1"}, {"batchSize", "16"},
                         {"maxSequenceLength", "128"}, {"learningRate", "0.003"},
                         {"learningRateWarmupSteps", "30"}, {"weightDecay", "0.01"},
                         {"checkpointSteps", "50"}, {"seed", "1"}};
  auto trained = Train(req, [&](const TrainProgress& p) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "step %lld/%lld, loss %.3f, %.0f tok/s, ETA %.0fs",
                  static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss, p.tokens_per_second,
                  p.eta_seconds);
    report("pretraining", static_cast<double>(p.step) / static_cast<double>(std::max<int64_t>(p.total_steps, 1)), detail);
  }, nullptr);
  if (!trained.ok()) return trained.status();
  info.heldout_perplexity = std::exp(trained->best_validation_loss);

  nlohmann::json model_card = {
      {"name", "lathe-default"},
      {"architecture", "LlamaForCausalLM"},
      {"parameters", config.ParameterCount()},
      {"corpus", {{"sources", {"WordNet 3.0 glosses (Debian package wordnet-base; WordNet license, permissive)",
                               "the fortunes collection (Debian package fortunes; see /usr/share/doc/fortunes/copyright)"}},
                  {"records", info.corpus_records},
                  {"bytes", info.corpus_bytes}}},
      {"tokenizer", "SentencePiece BPE, 2048 tokens, byte fallback"},
      {"trainedTokens", trained->trained_tokens},
      {"seconds", trained->seconds},
      {"heldoutLoss", trained->best_validation_loss},
      {"heldoutPerplexity", info.heldout_perplexity}};
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/run/model/lathe_model_card.json", model_card.dump(2) + "\n"));
  LATHE_RETURN_IF_ERROR(env->CreateDirs(root + "/models"));
  std::error_code ec;
  fs::remove_all(info.dir, ec);
  LATHE_RETURN_IF_ERROR(env->RenameFile(work + "/run/model", info.dir));
  fs::remove_all(work, ec);
  info.built_now = true;
  return info;
}

}  // namespace lathe::engine
