#include "text/bpe_model.h"

#include <cstdio>
#include <queue>

namespace lathe::text {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// Length of the UTF-8 sequence starting with lead byte c (input is validated before encoding).
size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  return 4;
}

// Decodes one code point at s[*i], advancing *i; malformed input yields U+FFFD.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto c = static_cast<unsigned char>(s[*i]);
  size_t len = Utf8Len(c);
  if (*i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += len;
  return cp;
}

}  // namespace

const std::vector<uint32_t>& ByteToCodePoint() {
  static const std::vector<uint32_t> table = [] {
    // Printable Latin-1 bytes stand for themselves; the rest are moved to U+0100 upwards.
    std::vector<uint32_t> t(256);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? uint32_t(b) : next++;
    }
    return t;
  }();
  return table;
}

std::string ByteLevelToBytes(std::string_view token) {
  static const std::unordered_map<uint32_t, unsigned char> inverse = [] {
    std::unordered_map<uint32_t, unsigned char> m;
    const auto& t = ByteToCodePoint();
    for (int b = 0; b < 256; ++b) m[t[b]] = static_cast<unsigned char>(b);
    return m;
  }();
  std::string out;
  size_t i = 0;
  while (i < token.size()) {
    size_t start = i;
    uint32_t cp = NextCodePoint(token, &i);
    auto it = inverse.find(cp);
    if (it != inverse.end()) out.push_back(static_cast<char>(it->second));
    else out.append(token.substr(start, i - start));
  }
  return out;
}

Status BpeModel::Init(const TokenMap& vocab,
                      const std::vector<std::pair<std::string, std::string>>& merges,
                      BpeOptions options, const std::string& where) {
  options_ = std::move(options);
  if (options_.byte_level) {
    for (const auto& [text, id] : vocab) lookup_.emplace(ByteLevelToBytes(text), id);
    const auto& t = ByteToCodePoint();
    for (int b = 0; b < 256; ++b) {
      std::string mapped;
      AppendUtf8(t[b], &mapped);
      auto it = vocab.find(mapped);
      byte_ids_[b] = it == vocab.end() ? -1 : it->second;
    }
  } else {
    lookup_ = vocab;
    std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  }
  have_all_fallback_ = true;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab.find(std::string_view(name));
    fallback_ids_[b] = it == vocab.end() ? -1 : it->second;
    if (fallback_ids_[b] < 0) have_all_fallback_ = false;
  }
  if (!options_.unk_token.empty()) {
    auto it = vocab.find(options_.unk_token);
    if (it == vocab.end())
      return Status::InvalidArgument(where + "model.unk_token \"" + options_.unk_token +
                                     "\" is not in model.vocab");
    unk_id_ = it->second;
  }
  size_t capacity = 16;
  int bits = 4;
  while (capacity < merges.size() * 2 + 1) capacity <<= 1, ++bits;
  merge_keys_.assign(capacity, kEmptyKey);
  merge_vals_.assign(capacity, Merge{0, 0});
  merge_mask_ = capacity - 1;
  merge_shift_ = 64 - bits;
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = vocab.find(a), ib = vocab.find(b);
    joined = a + b;
    auto ij = vocab.find(joined);
    if (ia == vocab.end() || ib == vocab.end() || ij == vocab.end())
      return Status::InvalidArgument(where + "model.merges[" + std::to_string(rank) + "] (\"" + a +
                                     "\", \"" + b + "\"): " +
                                     (ia == vocab.end() ? "\"" + a + "\"" :
                                      ib == vocab.end() ? "\"" + b + "\"" : "\"" + joined + "\"") +
                                     " is not in model.vocab");
    // A repeated pair takes its last rank, as Hugging Face's map construction does.
    uint64_t key = PairKey(ia->second, ib->second);
    size_t i = (key * 0x9E3779B97F4A7C15ULL) >> merge_shift_;
    while (merge_keys_[i] != kEmptyKey && merge_keys_[i] != key) i = (i + 1) & merge_mask_;
    merge_keys_[i] = key;
    merge_vals_[i] = Merge{int(rank), ij->second};
  }
  return Status::Ok();
}

Status BpeModel::EncodeWord(std::string_view word, std::vector<int>* ids) const {
  if (word.empty()) return Status::Ok();
  if (word.size() > kMaxCachedWord) return EncodeUncached(word, ids);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return Status::Ok();
    }
  }
  size_t first = ids->size();
  LATHE_RETURN_IF_ERROR(EncodeUncached(word, ids));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(std::string(word), std::vector<int>(ids->begin() + first, ids->end()));
  return Status::Ok();
}

Status BpeModel::EncodeUncached(std::string_view word, std::vector<int>* ids) const {
  if (options_.ignore_merges) {
    auto it = lookup_.find(word);
    if (it != lookup_.end()) {
      ids->push_back(it->second);
      return Status::Ok();
    }
  }
  // Initial symbols: bytes (byte-level) or characters, with byte fallback and unk handling.
  std::vector<int> sym;
  sym.reserve(word.size());
  if (options_.byte_level) {
    for (unsigned char b : word) {
      if (byte_ids_[b] < 0)
        return Status::InvalidArgument("byte " + std::to_string(b) +
                                       " has no byte-level token in the vocabulary");
      sym.push_back(byte_ids_[b]);
    }
  } else {
    bool last_unk = false;
    size_t i = 0;
    while (i < word.size()) {
      size_t start = i;
      i = std::min(word.size(), i + Utf8Len(static_cast<unsigned char>(word[i])));
      std::string_view ch = word.substr(start, i - start);
      auto it = lookup_.find(ch);
      if (it != lookup_.end()) {
        sym.push_back(it->second);
        last_unk = false;
      } else if (options_.byte_fallback && have_all_fallback_) {
        for (unsigned char b : ch) sym.push_back(fallback_ids_[b]);
        last_unk = false;
      } else if (unk_id_ >= 0) {
        if (!(options_.fuse_unk && last_unk)) sym.push_back(unk_id_);
        last_unk = true;
      } else {
        return Status::InvalidArgument("text piece \"" + std::string(ch) +
                                       "\" has no token and the model has no unk_token");
      }
    }
  }
  const int n = int(sym.size());
  if (n == 1) {
    ids->push_back(sym[0]);
    return Status::Ok();
  }
  // Doubly linked symbols; a min-heap of candidate merges keyed by (rank, position).
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Cand {
    int rank, pos, new_id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    if (const Merge* m = FindMerge(sym[pos], sym[next[pos]])) heap.push({m->rank, pos, m->new_id});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    int r = c.pos >= 0 ? next[c.pos] : -1;
    if (sym[c.pos] < 0 || r < 0) continue;  // left symbol merged away, or nothing on its right
    const Merge* m = FindMerge(sym[c.pos], sym[r]);
    if (m == nullptr || m->rank != c.rank) continue;  // stale candidate
    sym[c.pos] = c.new_id;
    sym[r] = -1;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  for (int i = 0; i >= 0; i = next[i]) ids->push_back(sym[i]);
  return Status::Ok();
}

}  // namespace lathe::text
