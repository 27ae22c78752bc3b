// One sequence of a generation between its steps: its sampler stream, the tokens so far, the text
// released to the caller, and whether and why it stopped. A batch that starts together
// (LanguageModel::GenerateTokens) and sequences that join and leave between steps
// (GenerationBatch) both drive it, so a request gets the same answer through either. Torch-free.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/language_model.h"
#include "engine/sampler.h"
#include "engine/text_stream.h"

namespace lathe::engine {

// What every sequence of one model shares.
struct SequenceModel {
  const text::Tokenizer* tokenizer;
  int64_t bos_token_id;
  const std::set<int>* eos;
};

// A prompt the model can run: not empty, every id in the vocabulary (InvalidArgument otherwise).
Status CheckPromptIds(const ModelConfig& config, const std::vector<int>& ids);
// How many tokens may follow a prompt of `prompt_tokens`: max_tokens, cut to the context.
// InvalidArgument when max_tokens is negative, or the prompt fills the context and tokens are asked.
Result<int64_t> MaxNewTokens(const ModelConfig& config, int64_t prompt_tokens, int max_tokens);

class SequenceState {
 public:
  // `prompt`: its token ids; `seed`: its own sampler stream; at most `max_new` tokens (0: done at
  // once); `index`: what on_text is called with.
  SequenceState(const SequenceModel& model, std::vector<int> prompt, const GenerationOptions& options, uint64_t seed,
                int64_t max_new, size_t index);

  // Samples the next token from `logits` (vocab floats), hands on_text the text that became
  // final, and decides whether the sequence is done (end token, stop sequence, on_text refused,
  // max tokens). Returns the token. Call only while !done().
  int Advance(const float* logits, size_t vocab, const TextCallback& on_text);
  // Stops it now as cancelled (the caller went away).
  void Cancel();
  // The result, once done: hands on_text the text still held back (unless stopped or cancelled).
  GenerationResult Finish(const TextCallback& on_text);

  bool done() const { return done_; }
  const std::vector<int>& prompt() const { return prompt_; }
  const std::vector<int>& generated() const { return generated_; }
  // The position of the last token sampled: where it goes through the model next.
  int64_t last_position() const { return static_cast<int64_t>(prompt_.size() + generated_.size()) - 1; }

 private:
  // Text of `generated` as it reads after the prompt (decoding alone would drop a leading space).
  std::string GeneratedText(const std::vector<int>& generated) const;

  SequenceModel model_;
  std::vector<int> prompt_;
  std::vector<int> generated_;
  TextStream stream_;
  Rng rng_;
  SamplingParams sampling_;
  bool track_text_;
  int64_t max_new_;
  size_t index_;
  bool done_;
  StopReason reason_ = StopReason::kLength;
};

}  // namespace lathe::engine
