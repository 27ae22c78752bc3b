// Tokenizer: text <-> token ids. This library never includes torch, so the data layer can
// count tokens exactly without loading a model.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of text, without BOS/EOS.
  virtual Status Encode(std::string_view text, std::vector<int>* ids) const = 0;
  virtual Status Decode(const std::vector<int>& ids, std::string* text) const = 0;
  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;  // -1 when the vocabulary has none
  virtual int eos_id() const = 0;
  // Number of tokens Encode would produce; 0 if the text cannot be encoded.
  virtual size_t CountTokens(std::string_view text) const;
};

// Loads a tokenizer from a file or a model directory.
//   *.model            SentencePiece model (libsentencepiece)
//   *.json             Hugging Face tokenizer.json (BPE; see docs/tokenizers.md)
//   encoder.json       GPT-2's encoder.json with vocab.bpe beside it
//   DIR                DIR/tokenizer.model, else DIR/tokenizer.json, else DIR/encoder.json+vocab.bpe
Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path);

// Trains a SentencePiece model with libsentencepiece's trainer, run as Debian's spm_train in its
// own process (in-process it would share lathe's symbol scope; see spm_shim/spm_shim.h).
// flags as spm_train takes them: {"--input=corpus.txt", "--model_prefix=out/tokenizer", ...}.
Status TrainSentencePiece(const std::vector<std::string>& flags);

}  // namespace lathe::text
