// GGUF's "gpt2" vocabularies — byte-level BPE, what Llama 3, Qwen 2 and GPT-2 style models carry —
// to and from Hugging Face's tokenizer.json, the form lathe's tokenizer reads (text/hf_tokenizer.h).
// A GGUF file stores the tokens, their types and the merges, and names its pre-tokenizer in
// `tokenizer.ggml.pre` without the regex itself; both directions therefore go through one table
// of the pre-tokenizers lathe knows (gguf_bpe_vocab.cc): "llama-bpe" (Llama 3), "qwen2" and
// "gpt-2". Any other name, or a tokenizer.json that matches none of them, is refused naming it.
// Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/gguf.h"

namespace lathe::engine {

// GGUF's token types (llama.cpp's llama_token_type).
enum class GgufTokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct GgufBpeVocab {
  std::vector<std::string> tokens;  // by id
  std::vector<int32_t> types;       // a GgufTokenType per token
  std::vector<std::string> merges;  // "left right", by rank
  std::string pre;                  // tokenizer.ggml.pre
};

// Limits (docs/serve.md's Limits table): a tokenizer.json exported to GGUF is at most
// model_folder.h's kMaxTokenizerJsonBytes and nested at most this deep.
inline constexpr int kMaxTokenizerJsonNesting = 64;

// From a tokenizer.json's text. `vocab_size` is the model's embedding rows: ids the tokenizer
// does not use are padded as "[PAD<id>]" unused tokens, as llama.cpp's converter does (a vocabulary
// larger than the embedding is refused). `file` names the file in every message.
Result<GgufBpeVocab> BpeVocabFromTokenizerJson(const std::string& json_text, int64_t vocab_size,
                                               const std::string& file);

// From a GGUF file whose tokenizer.ggml.model is "gpt2".
Result<GgufBpeVocab> BpeVocabFromGguf(const GgufFile& g, const std::string& file);

// The vocabulary's GGUF keys (tokenizer.ggml.{model,pre,tokens,token_type,merges}).
void AddBpeVocabToGguf(const GgufBpeVocab& v, std::map<std::string, GgufValue>* metadata);

// tokenizer.json's text, and tokenizer_config.json's naming bos/eos (ids, -1 for none).
struct HfTokenizerFiles {
  std::string tokenizer_json, tokenizer_config_json;
};
Result<HfTokenizerFiles> HfTokenizerFromBpeVocab(const GgufBpeVocab& v, int64_t bos_id, int64_t eos_id,
                                                 const std::string& file);

}  // namespace lathe::engine
