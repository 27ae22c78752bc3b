// The BPE model shared by the Hugging Face tokenizer.json and GPT-2 encoder.json/vocab.bpe loaders:
// merges applied lowest rank first (leftmost on ties) with a priority queue over one pre-token,
// plus a bounded cache of pre-token -> ids, since natural text repeats the same words constantly.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace lathe::text {

// GPT-2's reversible byte <-> printable code point map ("Ġ" is the space byte 0x20).
// ByteToCodePoint()[b] is the code point standing for byte b.
const std::vector<uint32_t>& ByteToCodePoint();
// Byte-level token text (UTF-8 of mapped code points) back to raw bytes. Code points outside the
// map are kept as their UTF-8, as Hugging Face's ByteLevel decoder does with added tokens.
std::string ByteLevelToBytes(std::string_view token);

struct BpeOptions {
  bool byte_level = false;     // pre-tokens are raw bytes, each byte one initial symbol
  bool ignore_merges = false;  // a pre-token that is itself a token is emitted whole (Llama 3)
  bool byte_fallback = false;  // a character outside the vocab becomes <0xXX> byte tokens
  bool fuse_unk = false;       // consecutive unknown characters become one unk token
  std::string unk_token;       // empty: none
};

// A string -> id map that can be probed with a string_view without allocating.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // vocab: token text exactly as the file spells it (byte-level models in mapped form);
  // merges: pairs of token texts, rank = index. `where` prefixes error messages.
  Status Init(const TokenMap& vocab, const std::vector<std::pair<std::string, std::string>>& merges,
              BpeOptions options, const std::string& where);

  // Appends the ids of one pre-token. Byte-level models take the raw bytes.
  Status EncodeWord(std::string_view word, std::vector<int>* ids) const;

  const BpeOptions& options() const { return options_; }

 private:
  Status EncodeUncached(std::string_view word, std::vector<int>* ids) const;
  static uint64_t PairKey(int a, int b) {
    return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
  }
  struct Merge {
    int rank;
    int new_id;
  };

  BpeOptions options_;
  TokenMap lookup_;                 // raw bytes (byte-level) or token text -> id
  int byte_ids_[256];               // byte-level: id of each single byte
  int fallback_ids_[256];           // byte_fallback: id of <0xXX>, -1 when absent
  bool have_all_fallback_ = false;
  int unk_id_ = -1;
  // Open-addressing table of (left id, right id) -> merge: the innermost lookup of every merge.
  const Merge* FindMerge(int a, int b) const {
    uint64_t key = PairKey(a, b);
    for (size_t i = (key * 0x9E3779B97F4A7C15ULL) >> merge_shift_;; i = (i + 1) & merge_mask_) {
      if (merge_keys_[i] == key) return &merge_vals_[i];
      if (merge_keys_[i] == kEmptyKey) return nullptr;
    }
  }
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  std::vector<uint64_t> merge_keys_;
  std::vector<Merge> merge_vals_;
  size_t merge_mask_ = 0;
  int merge_shift_ = 64;

  static constexpr size_t kMaxCachedWord = 256;
  static constexpr size_t kMaxCacheEntries = 1 << 18;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>> cache_;
};

}  // namespace lathe::text
