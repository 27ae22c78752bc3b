#include "engine/default_model.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "core/env.h"
#include "core/random.h"
#include "data/default_corpus.h"
#include "engine/default_model_status.h"
#include "engine/model_config.h"
#include "engine/safetensors.h"
#include "engine/trainer.h"
#include "text/tokenizer.h"

namespace lathe::engine {
namespace {

namespace fs = std::filesystem;

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

// A recipe: the architecture, the corpus and how long and how it trains.
struct Recipe {
  ModelConfig config;
  uint64_t records = 0;  // pretraining records (the corpus's mixture, data/default_corpus.h)
  bool questions = true;
  std::map<std::string, std::string> hyperparameters;
};

ModelConfig SmallLlama(int64_t hidden, int64_t layers, int64_t heads, int64_t kv_heads, int64_t intermediate) {
  ModelConfig c;
  c.vocab_size = 2048;
  c.hidden_size = hidden;
  c.intermediate_size = intermediate;
  c.num_layers = layers;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.max_position_embeddings = 256;
  c.rope_theta = 10000;
  c.tie_word_embeddings = true;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

Result<Recipe> RecipeNamed(const std::string& name) {
  Recipe r;
  if (name == "v1") {
    r.config = SmallLlama(128, 4, 4, 2, 352);
    r.records = 48000;
    r.questions = false;
    r.hyperparameters = {{"method", "full"}, {"epochCount", "1"}, {"batchSize", "16"},
                         {"maxSequenceLength", "128"}, {"learningRate", "0.003"},
                         {"learningRateWarmupSteps", "30"}, {"weightDecay", "0.01"},
                         {"checkpointSteps", "50"}, {"seed", "1"}};
    return r;
  }
  if (name != "v2") return Status::InvalidArgument("no default-model recipe \"" + name + "\" (v1 or v2)");
  // The same architecture as v1 (1.0M parameters, 0.26M of them the 2048-token embedding) on
  // about 2.7M tokens: on this 2-core machine's ~12k tokens/s, about four of the five minutes the
  // build may take. Chinchilla's 20 tokens per parameter would ask for a smaller model, but a
  // width-96 one ran at about the same tokens/s here (per-step overheads dominate at this size),
  // so it would see no more text. The corpus adds questions with answers (data/default_corpus.h)
  // to v1's glosses and fortunes; docs/default-model.md has the figures.
  r.config = SmallLlama(128, 4, 4, 2, 352);
  r.records = 70000;
  r.hyperparameters = {{"method", "full"}, {"epochCount", "1"}, {"batchSize", "16"},
                       {"maxSequenceLength", "128"}, {"learningRate", "0.003"},
                       {"learningRateWarmupSteps", "30"}, {"weightDecay", "0.01"},
                       {"checkpointSteps", "50"}, {"seed", "1"}};
  return r;
}

}  // namespace

ModelConfig DefaultModelConfig() { return RecipeNamed(kDefaultRecipe)->config; }

std::string DefaultDataDir() {
  if (const char* home = std::getenv("LATHE_HOME")) return home;
  if (const char* xdg = std::getenv("XDG_DATA_HOME")) return std::string(xdg) + "/lathe";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/lathe";
}

std::string DefaultModelDir(const std::string& data_dir) {
  return (data_dir.empty() ? DefaultDataDir() : data_dir) + "/models/lathe-default";
}

// The recipe a built model's card names ("" when there is no card; cards from before recipes
// had names are "v1").
std::string CardRecipe(const std::string& dir) {
  std::string text;
  if (!ReadFileToString(Env::Default(), dir + "/lathe_model_card.json", &text).ok()) return "";
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return "";
  const auto it = j.find("recipe");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "v1";
}

std::string BuiltDefaultModelDir(const std::string& data_dir) {
  const std::string dir = DefaultModelDir(data_dir);
  // The card is written last: a folder holding it is a complete model. A model of an older
  // recipe is not the default model any more: the next build replaces it.
  return CardRecipe(dir) == kDefaultRecipe ? dir : "";
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
  const std::string lock_path = DefaultModelLockPath(root);
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Status::IOError("cannot open " + lock_path + ": " + std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock_fd};
  // While another process builds, its progress (from its progress file) is passed on each second.
  // A few quick retries first: `lathe models status` holds the lock for an instant when it looks.
  int quick_retries = 5;
  while (::flock(lock_fd, LOCK_EX | (o.progress ? LOCK_NB : 0)) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return Status::IOError("cannot lock " + lock_path + ": " + std::strerror(errno));
    if (quick_retries-- > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    DefaultModelProgress theirs;
    int64_t started_ms = 0;
    if (ReadDefaultModelProgress(root, &theirs, &started_ms)) {
      theirs.detail = "another process builds it: " + theirs.detail;
      o.progress(theirs);
    }
    if (o.stop && o.stop->load()) return Status::Unsupported("the default model's build was interrupted");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (CardRecipe(info.dir) == o.recipe) {
    std::string text;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, card, &text));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) info.heldout_perplexity = j.value("heldoutPerplexity", 0.0);
    return info;
  }
  auto recipe = RecipeNamed(o.recipe);
  if (!recipe.ok()) return recipe.status();
  auto stopped = [&o] { return o.stop && o.stop->load(); };
  const Status interrupted = Status::Unsupported("the default model's build was interrupted; the next build resumes it");
  if (stopped()) return interrupted;
  const ModelConfig& config = recipe->config;
  const auto started = std::chrono::steady_clock::now();
  const int64_t started_ms = NowMillis();
  auto last_written = started - std::chrono::hours(1);
  auto report = [&](const std::string& stage, double f, const std::string& detail, double eta = -1) {
    const DefaultModelProgress p{stage, f, detail, eta};
    if (o.progress) o.progress(p);
    const auto now = std::chrono::steady_clock::now();  // the file: at most once a second
    if (now - last_written < std::chrono::seconds(1) && f > 0 && f < 1) return;
    last_written = now;
    WriteDefaultModelProgress(root, p, started_ms);
  };
  const std::string work = root + "/build-default";
  // An interrupted build resumes only if it is the same build (recipe and size).
  const std::string identity = o.recipe + " " + std::to_string(o.max_train_records) + "\n";
  std::string previous;
  if (!ReadFileToString(env, work + "/build.txt", &previous).ok() || previous != identity) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  LATHE_RETURN_IF_ERROR(env->CreateDirs(work + "/init"));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/build.txt", identity));

  // 1. Corpus: a fixed mixture in a seeded order; the held-out text chosen by hash.
  report("corpus", 0, "WordNet, fortunes and questions made from them");
  data::DefaultCorpusOptions corpus_options;
  corpus_options.questions = recipe->questions;
  corpus_options.max_records = o.max_train_records > 0 ? o.max_train_records : recipe->records;
  auto corpus = data::BuildDefaultCorpus({}, corpus_options);
  if (!corpus.ok()) return corpus.status();
  std::string train_jsonl, val_jsonl, questions_jsonl, spm_text;
  for (const std::string& t : corpus->train) {
    train_jsonl += nlohmann::json{{"input", t}}.dump() + "\n";
    spm_text += t + "\n";
    info.corpus_bytes += t.size();
  }
  for (const std::string& t : corpus->heldout_text) val_jsonl += nlohmann::json{{"input", t}}.dump() + "\n";
  for (const auto& [q, a] : corpus->heldout_questions)
    questions_jsonl += nlohmann::json{{"prompt", q}, {"completion", a}}.dump() + "\n";
  info.corpus_records = corpus->train.size();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/train.jsonl", train_jsonl));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/validation.jsonl", val_jsonl));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/questions.jsonl", questions_jsonl));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/corpus.txt", spm_text));
  report("corpus", 1, std::to_string(info.corpus_records) + " records, " + std::to_string(info.corpus_bytes / 1024) + " KB");
  if (stopped()) return interrupted;

  // 2. Tokenizer: SentencePiece BPE with byte fallback, trained on the training records only,
  // single-threaded and unshuffled so that it is the same every time.
  if (!env->FileExists(work + "/init/tokenizer.model")) {
    report("tokenizer", 0, "SentencePiece BPE, " + std::to_string(config.vocab_size) + " tokens");
    LATHE_RETURN_IF_ERROR(text::TrainSentencePiece(
        {"--input=" + work + "/corpus.txt", "--model_prefix=" + work + "/init/tokenizer",
         "--vocab_size=" + std::to_string(config.vocab_size), "--model_type=bpe", "--byte_fallback=true",
         "--character_coverage=1.0", "--shuffle_input_sentence=false", "--num_threads=1",
         "--max_sentence_length=4096", "--pad_id=-1", "--unk_id=0", "--bos_id=1", "--eos_id=2"}));
  }
  report("tokenizer", 1, "");
  if (stopped()) return interrupted;
  const double corpus_and_tokenizer_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LATHE_RETURN_IF_ERROR(WriteInitialModel(work + "/init", config));

  // 3. Pretraining through the trainer's continued pre-training path (resumable).
  TrainRequest req;
  req.model_dir = work + "/init";
  req.train_file = work + "/train.jsonl";
  req.validation_file = work + "/validation.jsonl";
  req.out_dir = work + "/run";
  req.hyperparameters = recipe->hyperparameters;
  auto trained = Train(req, [&](const TrainProgress& p) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "step %lld/%lld, loss %.3f, %.0f tok/s, ETA %.0fs",
                  static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss, p.tokens_per_second,
                  p.eta_seconds);
    report("pretraining", static_cast<double>(p.step) / static_cast<double>(std::max<int64_t>(p.total_steps, 1)), detail,
           p.eta_seconds);
  }, o.stop);
  if (!trained.ok()) return trained.status();
  if (trained->interrupted || stopped()) return interrupted;
  info.heldout_perplexity = std::exp(trained->best_validation_loss);
  LATHE_RETURN_IF_ERROR(env->RenameFile(work + "/validation.jsonl", work + "/run/model/lathe_heldout.jsonl"));
  LATHE_RETURN_IF_ERROR(env->RenameFile(work + "/questions.jsonl", work + "/run/model/lathe_heldout_questions.jsonl"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  nlohmann::json model_card = {
      {"name", "lathe-default"},
      {"architecture", "LlamaForCausalLM"},
      {"parameters", config.ParameterCount()},
      {"recipe", o.recipe},
      {"corpus", {{"sources", {"WordNet 3.0 (Debian package wordnet-base; WordNet license, permissive)",
                               "the fortunes collection (Debian packages fortunes, fortunes-min; see "
                               "/usr/share/doc/fortunes/copyright)",
                               "questions and answers lathe generates from WordNet (data/default_corpus.h)"}},
                  {"records", info.corpus_records},
                  {"bytes", info.corpus_bytes},
                  {"generatedQuestions", corpus->generated_questions},
                  {"heldoutRecords", corpus->heldout_text.size()}}},
      {"tokenizer", "SentencePiece BPE, " + std::to_string(config.vocab_size) + " tokens, byte fallback"},
      {"hyperparameters", recipe->hyperparameters},
      {"trainedTokens", trained->trained_tokens},
      {"trainingSeconds", trained->seconds},
      {"corpusAndTokenizerSeconds", corpus_and_tokenizer_seconds},
      {"seconds", seconds},
      {"heldoutLoss", trained->best_validation_loss},
      {"heldoutPerplexity", info.heldout_perplexity}};
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, work + "/run/model/lathe_model_card.json", model_card.dump(2) + "\n"));
  LATHE_RETURN_IF_ERROR(env->CreateDirs(root + "/models"));
  std::error_code ec;
  fs::remove_all(info.dir, ec);
  LATHE_RETURN_IF_ERROR(env->RenameFile(work + "/run/model", info.dir));
  fs::remove_all(work, ec);
  fs::remove(DefaultModelProgressPath(root), ec);
  info.built_now = true;
  return info;
}

}  // namespace lathe::engine
