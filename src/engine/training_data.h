// Training sequences from dataset records: token ids plus, for each token, whether predicting it
// counts in the loss. Fine-tuning learns only what the assistant writes (the completion, or the
// assistant turns rendered through the model's chat format); continued pre-training learns every
// token, packed into windows of maxSequenceLength. Torch-free.
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "data/example.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"

namespace lathe::engine {

struct TrainingSequence {
  std::vector<int> ids;
  std::vector<uint8_t> target;  // target[i] = 1: predicting ids[i] from ids[0..i) is trained
  uint64_t source_line = 0;     // first record the sequence came from (for messages)
};

struct SequenceOptions {
  int bos_id = -1;  // prepended when >= 0
  int eos_id = -1;  // appended after the last assistant piece (a target) when >= 0
  int64_t max_length = 512;
  text::ChatTemplate chat_template = text::ChatTemplate::kPlain;
};

struct SequenceStats {
  uint64_t records = 0, sequences = 0, truncated = 0, target_tokens = 0, tokens = 0;
};

// One record of a prompt/completion, chat or conversation file. Prompt/completion records are the
// prompt followed directly by the completion, as Bedrock trains them. Longer sequences are cut to
// max_length (counted in stats).
Result<TrainingSequence> BuildSequence(const data::Example& e, const text::Tokenizer& tok,
                                       const SequenceOptions& o, SequenceStats* stats);
// Continued pre-training: every record's tokens and EOS, concatenated and cut into windows.
Result<std::vector<TrainingSequence>> PackPretraining(const std::vector<data::Example>& records,
                                                      const text::Tokenizer& tok, const SequenceOptions& o,
                                                      SequenceStats* stats);

// Batches of sequence indices with little padding: sequences are shuffled, then sorted by length
// within windows of 50 batches, cut into batches, and the batches shuffled. Deterministic for rng.
std::vector<std::vector<size_t>> MakeLengthBucketedBatches(const std::vector<TrainingSequence>& seqs,
                                                            size_t batch_size, Rng* rng);

}  // namespace lathe::engine
