#include "engine/generation_batch.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <exception>
#include <list>

namespace lathe::engine {
namespace {

class LlamaGenerationBatch final : public GenerationBatch {
 public:
  LlamaGenerationBatch(const LlamaModel& model, const SequenceModel& sequence_model, int max_sequences,
                       std::shared_ptr<const void> hold)
      : hold_(std::move(hold)), model_(model), sequence_model_(sequence_model),
        capacity_(static_cast<size_t>(std::max(max_sequences, 1))) {}

  Result<uint64_t> Add(const std::vector<int>& prompt, const GenerationOptions& options, TextCallback on_text) override {
    if (running_.size() >= capacity_)
      return Status::Throttled("the batch runs " + std::to_string(capacity_) + " sequences already");
    if (options.seeds.size() > 1)
      return Status::InvalidArgument("seeds has " + std::to_string(options.seeds.size()) + " entries for 1 prompt");
    LATHE_RETURN_IF_ERROR(CheckPromptIds(model_.config(), prompt));
    auto room = MaxNewTokens(model_.config(), static_cast<int64_t>(prompt.size()), options.max_tokens);
    if (!room.ok()) return room.status();
    const int64_t P = static_cast<int64_t>(prompt.size());
    const uint64_t seed = options.seeds.empty() ? options.seed : options.seeds[0];
    Sequence seq{next_id_, SequenceState(sequence_model_, prompt, options, seed, *room, 0), {}, {}, std::move(on_text)};
    if (*room > 0) {
      try {
        c10::InferenceMode guard;
        // The cache GenerateTokens would give this prompt alone: the prompt and its new tokens.
        seq.cache = model_.NewCache(1, P + *room);
        at::Tensor tokens = at::empty({1, P}, at::kLong);
        for (int64_t t = 0; t < P; ++t) tokens[0][t] = prompt[static_cast<size_t>(t)];
        at::Tensor logits = model_.Forward(tokens, at::arange(P, at::kLong).view({1, P}), {}, &seq.cache, true)
                                .contiguous();
        seq.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
      } catch (const std::exception& e) {  // torch reports failures (out of memory) by throwing
        return Status::Internal(std::string("prefill failed: ") + e.what());
      }
    }
    running_.push_back(std::move(seq));
    return next_id_++;
  }

  Result<std::vector<FinishedSequence>> Step() override {
    std::vector<FinishedSequence> finished;
    std::vector<Sequence*> going_on;
    const size_t V = static_cast<size_t>(model_.config().vocab_size);
    for (Sequence& s : running_) {
      if (!s.state.done()) s.state.Advance(s.logits.data(), V, s.on_text);
      if (!s.state.done()) going_on.push_back(&s);
    }
    if (!going_on.empty()) {
      std::vector<int64_t> tokens, positions;
      std::vector<KVCache*> caches;
      for (Sequence* s : going_on) {
        tokens.push_back(s->state.generated().back());
        positions.push_back(s->state.last_position());
        caches.push_back(&s->cache);
      }
      try {
        c10::InferenceMode guard;
        at::Tensor logits = model_.DecodeSequences(tokens, positions, caches);
        const float* rows = logits.data_ptr<float>();
        for (size_t b = 0; b < going_on.size(); ++b) going_on[b]->logits.assign(rows + b * V, rows + (b + 1) * V);
      } catch (const std::exception& e) {
        running_.clear();
        return Status::Internal(std::string("decode step failed: ") + e.what());
      }
    }
    for (auto it = running_.begin(); it != running_.end();) {
      if (!it->state.done()) {
        ++it;
        continue;
      }
      finished.push_back({it->id, it->state.Finish(it->on_text)});
      it = running_.erase(it);
    }
    return finished;
  }

  void Cancel(uint64_t id) override {
    for (Sequence& s : running_)
      if (s.id == id) s.state.Cancel();
  }
  size_t size() const override { return running_.size(); }
  size_t capacity() const override { return capacity_; }

 private:
  struct Sequence {
    uint64_t id;
    SequenceState state;
    KVCache cache;
    std::vector<float> logits;  // of the last position: what the next token is sampled from
    TextCallback on_text;
  };

  std::shared_ptr<const void> hold_;
  const LlamaModel& model_;
  const SequenceModel sequence_model_;
  const size_t capacity_;
  std::list<Sequence> running_;  // in the order they joined
  uint64_t next_id_ = 1;
};

}  // namespace

std::unique_ptr<GenerationBatch> NewLlamaGenerationBatch(const LlamaModel& model, const SequenceModel& sequence_model,
                                                         int max_sequences, std::shared_ptr<const void> hold) {
  return std::make_unique<LlamaGenerationBatch>(model, sequence_model, max_sequences, std::move(hold));
}

}  // namespace lathe::engine
