// The part of SentencePiece's model file (tokenizer.model, a serialized sentencepiece.ModelProto)
// that moves between formats: the pieces with their scores and types, the algorithm, the special
// ids and the normalizer's switches. Read and written by hand (protobuf's wire format is small)
// because GGUF carries a vocabulary, not a tokenizer.model, and libsentencepiece exposes no writer.
// Unknown fields are skipped on reading and not written back: a written model holds what lathe
// and llama.cpp use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::text {

struct SpmPiece {
  enum Type { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  std::string piece;
  float score = 0;
  int type = kNormal;
};

struct SpmModelProto {
  std::vector<SpmPiece> pieces;
  int model_type = 1;  // TrainerSpec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  std::string normalizer_name = "identity";
  std::string precompiled_charsmap;  // empty for "identity"
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Limits: a model file of at most kMaxSpmModelBytes and kMaxSpmPieces pieces; messages name `file`.
inline constexpr size_t kMaxSpmModelBytes = 64u << 20;
inline constexpr size_t kMaxSpmPieces = 1u << 22;

Status ParseSpmModelProto(std::string_view bytes, const std::string& file, SpmModelProto* out);
std::string SerializeSpmModelProto(const SpmModelProto& m);

}  // namespace lathe::text
