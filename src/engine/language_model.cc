// LanguageModel over LlamaModel: loading and saving model directories, batched generation.
#include "engine/language_model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/llama_model.h"
#include "engine/model_loader.h"
#include "engine/safetensors.h"
#include "engine/generation_batch.h"
#include "engine/sequence_state.h"

namespace lathe::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Everything generation only reads, loaded once and shared by every instance: the model (whose
// Forward is const and thread-safe), the tokenizer (const Encode/Decode) and the loading policy.
struct SharedModel {
  SharedModel(std::string dir, ModelConfig config, LlamaWeights weights,
              std::shared_ptr<const text::Tokenizer> tokenizer, std::set<int> eos, bool add_bos,
              text::ChatTemplate chat, WeightPrecision precision = WeightPrecision::kF32)
      : dir(std::move(dir)), model(std::move(config), std::move(weights)), tokenizer(std::move(tokenizer)),
        eos(std::move(eos)), adds_bos(add_bos), chat(chat) {
    model.HoldWeightsIn(precision);
    held_bytes = model.HeldBytes();
  }
  // The same files and tokenizer, the matrices held in `precision` (the weight tensors are shared,
  // the prepared matrices are this model's own).
  std::shared_ptr<const SharedModel> In(WeightPrecision precision) const {
    return std::make_shared<const SharedModel>(dir, model.config(), model.weights(), tokenizer, eos, adds_bos, chat,
                                               precision);
  }
  const std::string dir;
  LlamaModel model;  // built once here; const through the shared_ptr<const SharedModel> that holds it
  const std::shared_ptr<const text::Tokenizer> tokenizer;
  const std::set<int> eos;
  const bool adds_bos;
  const text::ChatTemplate chat;
  int64_t held_bytes = 0;
};

// One instance: a handle on the shared model. Per-call state (KV cache, sampler) lives in the
// calls themselves, so an instance holds nothing else.
class TorchLanguageModel final : public LanguageModel {
 public:
  explicit TorchLanguageModel(std::shared_ptr<const SharedModel> shared)
      : shared_(std::move(shared)), model_(shared_->model), tokenizer_(shared_->tokenizer.get()),
        eos_(shared_->eos), model_adds_bos_(shared_->adds_bos) {}

  const ModelConfig& config() const override { return model_.config(); }
  const text::Tokenizer& tokenizer() const override { return *tokenizer_; }
  text::ChatTemplate chat_template() const override { return shared_->chat; }

  std::unique_ptr<LanguageModel> NewInstance() const override {
    return std::make_unique<TorchLanguageModel>(shared_);
  }
  int64_t WeightBytes() const override { return shared_->held_bytes; }
  long WeightUsers() const override { return shared_.use_count(); }
  Result<std::unique_ptr<LanguageModel>> WithWeightPrecision(WeightPrecision precision) const override {
    return std::unique_ptr<LanguageModel>(std::make_unique<TorchLanguageModel>(shared_->In(precision)));
  }
  WeightPrecision weight_precision() const override { return model_.weight_precision(); }

  Result<std::vector<int>> EncodePrompt(const std::string& prompt, const GenerationOptions& options) const override {
    std::vector<int> ids;
    const int bos = static_cast<int>(config().bos_token_id);
    if (options.add_bos && model_adds_bos_ && bos >= 0) ids.push_back(bos);
    std::vector<int> enc;
    LATHE_RETURN_IF_ERROR(tokenizer_->Encode(prompt, &enc));
    ids.insert(ids.end(), enc.begin(), enc.end());
    return ids;
  }

  Result<std::vector<GenerationResult>> Generate(const std::vector<std::string>& prompts,
                                                 const GenerationOptions& options,
                                                 const TextCallback& on_text) override {
    std::vector<std::vector<int>> ids;
    for (const std::string& prompt : prompts) {
      auto encoded = EncodePrompt(prompt, options);
      if (!encoded.ok()) return encoded.status();
      ids.push_back(std::move(*encoded));
    }
    return GenerateTokens(ids, options, on_text);
  }

  Result<std::vector<GenerationResult>> GenerateTokens(const std::vector<std::vector<int>>& prompts,
                                                       const GenerationOptions& options,
                                                       const TextCallback& on_text) override;

  Result<std::unique_ptr<GenerationBatch>> NewGenerationBatch(int max_sequences) const override {
    return NewLlamaGenerationBatch(model_, sequence_model(), max_sequences, shared_);
  }

  Result<std::vector<float>> Logits(const std::vector<int>& ids) override {
    return OverSequence(ids, [this](const at::Tensor& tokens, const at::Tensor& positions, KVCache* cache) {
      return model_.Forward(tokens, positions, {}, cache, false);
    });
  }

  Result<std::vector<float>> Embed(const std::vector<int>& ids) override {
    return OverSequence(ids, [this](const at::Tensor& tokens, const at::Tensor& positions, KVCache* cache) {
      return model_.LastHidden(tokens, positions, cache).mean(1);
    });
  }

  Status Save(const std::string& dir) const override;

 private:
  // `run` over one whole sequence (its tokens and positions [1, T], a cache of T slots), its
  // result flattened: what Logits and Embed share.
  template <typename Run>
  Result<std::vector<float>> OverSequence(const std::vector<int>& ids, const Run& run) {
    if (ids.empty()) return Status::InvalidArgument("no tokens");
    LATHE_RETURN_IF_ERROR(CheckPromptIds(config(), ids));
    c10::InferenceMode guard;
    const int64_t T = static_cast<int64_t>(ids.size());
    at::Tensor tokens = at::empty({1, T}, at::kLong);
    for (int64_t t = 0; t < T; ++t) tokens[0][t] = ids[static_cast<size_t>(t)];
    KVCache cache = model_.NewCache(1, T);
    at::Tensor out = run(tokens, at::arange(T, at::kLong).view({1, T}), &cache).contiguous();
    const float* p = out.data_ptr<float>();
    return std::vector<float>(p, p + out.numel());
  }
  SequenceModel sequence_model() const { return {tokenizer_, config().bos_token_id, &eos_}; }

  std::shared_ptr<const SharedModel> shared_;
  const LlamaModel& model_;
  const text::Tokenizer* tokenizer_;
  const std::set<int>& eos_;
  const bool model_adds_bos_;
};

Result<std::vector<GenerationResult>> TorchLanguageModel::GenerateTokens(
    const std::vector<std::vector<int>>& prompts, const GenerationOptions& options,
    const TextCallback& on_text) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  if (B == 0) return std::vector<GenerationResult>{};
  if (options.max_tokens < 0) return Status::InvalidArgument("max_tokens must not be negative");
  if (!options.seeds.empty() && options.seeds.size() != prompts.size())
    return Status::InvalidArgument("seeds has " + std::to_string(options.seeds.size()) + " entries for " +
                                   std::to_string(prompts.size()) + " prompts");
  size_t P = 0;
  for (const auto& p : prompts) {
    LATHE_RETURN_IF_ERROR(CheckPromptIds(config(), p));
    P = std::max(P, p.size());
  }
  auto room = MaxNewTokens(config(), static_cast<int64_t>(P), options.max_tokens);
  if (!room.ok()) return room.status();
  const int64_t max_new = *room;

  c10::InferenceMode guard;
  const int64_t S = static_cast<int64_t>(P) + max_new;
  // Left padding: every prompt ends at slot P-1, so one decode step serves the whole batch.
  at::Tensor tokens = at::zeros({B, static_cast<int64_t>(P)}, at::kLong);
  at::Tensor positions = at::zeros({B, static_cast<int64_t>(P)}, at::kLong);
  at::Tensor key_valid = at::ones({B, S}, at::kBool);
  bool padded = false;
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    const int64_t pad = static_cast<int64_t>(P - p.size());
    padded = padded || pad > 0;
    if (pad > 0) key_valid[b].narrow(0, 0, pad).fill_(false);
    for (size_t t = 0; t < p.size(); ++t) {
      tokens[b][pad + static_cast<int64_t>(t)] = p[t];
      positions[b][pad + static_cast<int64_t>(t)] = static_cast<int64_t>(t);
    }
  }
  KVCache cache = model_.NewCache(B, std::max<int64_t>(S, 1));
  at::Tensor logits = model_.Forward(tokens, positions, padded ? key_valid.narrow(1, 0, static_cast<int64_t>(P)) : at::Tensor(),
                                     &cache, /*last_only=*/true);

  std::vector<SequenceState> seqs;
  for (int64_t b = 0; b < B; ++b)
    seqs.emplace_back(sequence_model(), prompts[static_cast<size_t>(b)], options,
                      options.seeds.empty() ? options.seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(b)
                                            : options.seeds[static_cast<size_t>(b)],
                      max_new, static_cast<size_t>(b));
  const int64_t V = config().vocab_size;

  for (int64_t step = 0; step < max_new; ++step) {
    at::Tensor cpu = logits.contiguous();
    const float* rows = cpu.data_ptr<float>();
    at::Tensor next = at::zeros({B, 1}, at::kLong);
    at::Tensor next_pos = at::zeros({B, 1}, at::kLong);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      SequenceState& s = seqs[static_cast<size_t>(b)];
      next_pos[b][0] = static_cast<int64_t>(prompts[static_cast<size_t>(b)].size()) + step;
      if (s.done()) continue;
      next[b][0] = s.Advance(rows + b * V, static_cast<size_t>(V), on_text);
      all_done = all_done && s.done();
    }
    if (all_done) break;
    logits = model_.Forward(next, next_pos,
                            padded ? key_valid.narrow(1, 0, static_cast<int64_t>(P) + step + 1) : at::Tensor(),
                            &cache, true);
  }

  std::vector<GenerationResult> results;
  for (SequenceState& s : seqs) results.push_back(s.Finish(on_text));
  return results;
}

Status TorchLanguageModel::Save(const std::string& dir) const {
  return SaveModelDirectory(dir, config(), model_.weights(), shared_->dir);
}

}  // namespace

void ConfigureThreads() {
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (const char* env = std::getenv("LATHE_THREADS")) n = std::max(1, std::atoi(env));
  at::set_num_threads(n);
}

Result<std::unique_ptr<LanguageModel>> LanguageModel::Load(const std::string& dir) {
  auto m = LoadModelDirectory(dir);
  if (!m.ok()) return m.status();
  ConfigureThreads();
  LoadedModel& l = m.value();
  auto shared = std::make_shared<const SharedModel>(dir, l.config, std::move(l.weights), std::move(l.tokenizer),
                                                     l.eos, l.add_bos, l.chat_template);
  return std::unique_ptr<LanguageModel>(std::make_unique<TorchLanguageModel>(std::move(shared)));
}

}  // namespace lathe::engine
