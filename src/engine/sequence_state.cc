#include "engine/sequence_state.h"

#include <algorithm>

namespace lathe::engine {

Status CheckPromptIds(const ModelConfig& config, const std::vector<int>& ids) {
  if (ids.empty()) return Status::InvalidArgument("a prompt has no tokens");
  for (int id : ids)
    if (id < 0 || id >= config.vocab_size)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the model's " +
                                     std::to_string(config.vocab_size) + "-token vocabulary");
  return Status::Ok();
}

Result<int64_t> MaxNewTokens(const ModelConfig& config, int64_t prompt_tokens, int max_tokens) {
  if (max_tokens < 0) return Status::InvalidArgument("max_tokens must not be negative");
  const int64_t room = config.max_position_embeddings - prompt_tokens;
  if (room <= 0 && max_tokens > 0)
    return Status::InvalidArgument("the prompt has " + std::to_string(prompt_tokens) +
                                   " tokens; the model's context is " + std::to_string(config.max_position_embeddings));
  return std::min<int64_t>(max_tokens, std::max<int64_t>(room, 0));
}

SequenceState::SequenceState(const SequenceModel& model, std::vector<int> prompt, const GenerationOptions& options,
                             uint64_t seed, int64_t max_new, size_t index)
    : model_(model),
      prompt_(std::move(prompt)),
      stream_(options.stop_sequences),
      rng_(seed),
      sampling_{options.temperature, options.top_k, options.top_p},
      track_text_(!options.stop_sequences.empty()),
      max_new_(max_new),
      index_(index),
      done_(max_new <= 0) {}

int SequenceState::Advance(const float* logits, size_t vocab, const TextCallback& on_text) {
  const int tok = SampleToken(logits, vocab, sampling_, &rng_);
  generated_.push_back(tok);
  if (model_.eos->count(tok)) {
    done_ = true;
    reason_ = StopReason::kEndToken;
  } else if (track_text_ || on_text) {
    std::string piece = stream_.Update(GeneratedText(generated_), false);
    if (!piece.empty() && on_text && !on_text(index_, piece)) {
      done_ = true;
      reason_ = StopReason::kCancelled;
    }
    if (stream_.stopped()) {
      done_ = true;
      reason_ = StopReason::kStopSequence;
    }
  }
  if (!done_ && static_cast<int64_t>(generated_.size()) >= max_new_) done_ = true;
  return tok;
}

void SequenceState::Cancel() {
  if (done_) return;  // it ended for a reason of its own already
  done_ = true;
  reason_ = StopReason::kCancelled;
}

GenerationResult SequenceState::Finish(const TextCallback& on_text) {
  GenerationResult r;
  r.prompt_tokens = static_cast<int>(prompt_.size());
  r.tokens = generated_;
  r.reason = reason_;
  std::vector<int> text_ids = generated_;
  if (reason_ == StopReason::kEndToken) text_ids.pop_back();
  if (!stream_.stopped() && reason_ != StopReason::kCancelled) {
    std::string piece = stream_.Update(GeneratedText(text_ids), true);
    if (!piece.empty() && on_text) on_text(index_, piece);
  }
  r.text = stream_.text();
  r.stop_sequence = stream_.matched();
  return r;
}

std::string SequenceState::GeneratedText(const std::vector<int>& generated) const {
  std::vector<int> context;
  for (int id : prompt_)
    if (id != model_.bos_token_id) context.push_back(id);
  std::string before, all;
  std::vector<int> both = context;
  both.insert(both.end(), generated.begin(), generated.end());
  if (model_.tokenizer->Decode(context, &before).ok() && model_.tokenizer->Decode(both, &all).ok() &&
      all.compare(0, before.size(), before) == 0)
    return all.substr(before.size());
  std::string alone;
  (void)model_.tokenizer->Decode(generated, &alone);
  return alone;
}

}  // namespace lathe::engine
