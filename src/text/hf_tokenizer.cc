// Hugging Face tokenizer.json BPE pipelines (GPT-2, Llama 3, Qwen 2/3 byte-level; Llama 2
// SentencePiece-style) and OpenAI's GPT-2 files. Each stage implements only the component types
// these families use; anything else is refused at load time with the field that names it.
#include "text/hf_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "text/bpe_model.h"

namespace lathe::text {
namespace {

using nlohmann::json;

// Far above any real vocabulary (Qwen: 151,669); a larger id is a corrupt file, and honouring it
// would allocate an id -> token table of that size.
constexpr int64_t kMaxTokenId = (1 << 24) - 1;

constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// A compiled PCRE2 pattern (UTF + Unicode properties, JIT when available); shareable across threads.
class Regex {
 public:
  ~Regex() {
    if (code_) pcre2_code_free(code_);
  }
  Status Compile(const std::string& pattern, const std::string& field) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                          PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!code_) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return Status::InvalidArgument(field + ": cannot compile regex at offset " +
                                     std::to_string(offset) + ": " +
                                     reinterpret_cast<const char*>(msg));
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
    return Status::Ok();
  }
  // Hugging Face's Split(behavior=Isolated): every match and every gap between matches is a piece.
  Status Split(std::string_view s, std::vector<std::string_view>* out) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    if (!md) return Status::Internal("out of memory for regex match data");
    auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    size_t pos = 0, last = 0;
    Status status;
    while (pos < s.size()) {
      int rc = jit_ ? pcre2_jit_match(code_, subject, s.size(), pos, 0, md, nullptr)
                    : PCRE2_ERROR_JIT_BADOPTION;
      if (rc == PCRE2_ERROR_JIT_BADOPTION || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(code_, subject, s.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                         nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        status = Status::Internal("regex match failed with PCRE2 error " + std::to_string(rc));
        break;
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      size_t ms = ov[0], me = ov[1];
      if (me == ms) {  // an empty match: step over one character
        pos = ms + 1;
        while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
        continue;
      }
      if (ms > last) out->push_back(s.substr(last, ms - last));
      out->push_back(s.substr(ms, me - ms));
      last = pos = me;
    }
    pcre2_match_data_free(md);
    if (last < s.size()) out->push_back(s.substr(last));
    return status;
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

std::string QuoteRegex(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80)
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string ReplaceAll(std::string_view s, const std::string& from, const std::string& to) {
  if (from.empty()) return std::string(s);
  std::string out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(s.substr(i, j - i)).append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

struct NormalizerStep {
  enum Kind { kUnicode, kPrepend, kReplace } kind;
  const icu::Normalizer2* unicode = nullptr;  // NFC, NFD, NFKC or NFKD
  std::string a, b;
};

struct PreTokenizerStep {
  std::unique_ptr<Regex> regex;   // split with it (Isolated), or none
  bool add_prefix_space = false;  // ByteLevel: " " before each piece that lacks one
};

struct DecoderStep {
  enum Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip } kind;
  std::string a, b;
  int start = 0, stop = 0;
};

struct AddedToken {
  int id;
  std::string content;
  bool lstrip = false, rstrip = false, single_word = false;
};

// ---- JSON field access with errors that name the field --------------------------------------

class Fields {
 public:
  explicit Fields(std::string where) : where_(std::move(where)) {}
  Status Error(const std::string& field, const std::string& what) const {
    return Status::InvalidArgument(where_ + field + ": " + what);
  }
  Status Unsupported(const std::string& field, const std::string& what) const {
    return Status::Unsupported(where_ + field + ": " + what);
  }
  const std::string& where() const { return where_; }

  // Optional members: a missing or null member leaves *out unchanged.
  Status String(const json& obj, const std::string& field, const char* key, std::string* out,
                bool required = false) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return required ? Error(field + "." + key, "missing") : Status::Ok();
    if (!it->is_string()) return Error(field + "." + key, "expected a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const json& obj, const std::string& field, const char* key, bool* out) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Status::Ok();
    if (!it->is_boolean()) return Error(field + "." + key, "expected true or false");
    *out = it->get<bool>();
    return Status::Ok();
  }
  Status Int(const json& obj, const std::string& field, const char* key, int* out,
             bool required = false) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return required ? Error(field + "." + key, "missing") : Status::Ok();
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
      return Error(field + "." + key, "expected a non-negative integer");
    if (std::string_view(key) == "id" && it->get<int64_t>() > kMaxTokenId)
      return Error(field + "." + key, "token id above " + std::to_string(kMaxTokenId));
    *out = static_cast<int>(it->get<int64_t>());
    return Status::Ok();
  }
  Status Type(const json& obj, const std::string& field, std::string* type) const {
    if (!obj.is_object()) return Error(field, "expected an object");
    return String(obj, field, "type", type, /*required=*/true);
  }
  // {"String": "x"} or {"Regex": "x"}
  Status Pattern(const json& obj, const std::string& field, std::string* text, bool* is_regex) const {
    auto it = obj.find("pattern");
    if (it == obj.end() || !it->is_object()) return Error(field + ".pattern", "expected an object");
    if (it->contains("String") && (*it)["String"].is_string()) {
      *text = (*it)["String"].get<std::string>();
      *is_regex = false;
    } else if (it->contains("Regex") && (*it)["Regex"].is_string()) {
      *text = (*it)["Regex"].get<std::string>();
      *is_regex = true;
    } else {
      return Error(field + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}");
    }
    return Status::Ok();
  }

 private:
  std::string where_;
};

// ---- the tokenizer ---------------------------------------------------------------------------

class HfTokenizer final : public Tokenizer {
 public:
  Status Encode(std::string_view text, std::vector<int>* ids) const override;
  Status Decode(const std::vector<int>& ids, std::string* text) const override;
  int vocab_size() const override { return int(id_to_token_.size()); }
  int bos_id() const override { return bos_id_; }
  int eos_id() const override { return eos_id_; }

  Status LoadJson(const json& root, const Fields& f);
  Status LoadSpecialIds(const json* config, const json& root, const Fields& f, const Fields& cf);
  Status Build(const TokenMap& vocab, const std::vector<std::pair<std::string, std::string>>& merges,
               BpeOptions options, const Fields& f);
  void AddSpecial(AddedToken t) { added_.push_back(std::move(t)); }
  void SetByteLevelPipeline(const std::string& regex, const Fields& f, Status* st);
  void SetSpecialIds(int bos, int eos) { bos_id_ = bos; eos_id_ = eos; }
  int FindToken(const std::string& text) const;

 private:
  Status ParseNormalizer(const json& n, const std::string& field, const Fields& f);
  Status ParsePreTokenizer(const json& p, const std::string& field, const Fields& f);
  Status ParseDecoder(const json& d, const std::string& field, const Fields& f);
  Status EncodeSegment(std::string_view seg, std::vector<int>* ids) const;
  // Longest added token starting at s[i]: its index in added_ and length, or -1.
  int MatchAdded(std::string_view s, size_t i, size_t* len) const;

  std::vector<NormalizerStep> normalizers_;
  std::vector<PreTokenizerStep> pre_tokenizers_;
  std::vector<DecoderStep> decoders_;
  bool byte_level_ = false;
  BpeModel model_;
  std::vector<AddedToken> added_;
  bool added_first_byte_[256] = {};
  std::vector<std::string> id_to_token_;
  std::vector<bool> assigned_;
  TokenMap token_to_id_;  // vocab plus added tokens, for special-token names
  int bos_id_ = -1, eos_id_ = -1;
};

Status HfTokenizer::ParseNormalizer(const json& n, const std::string& field, const Fields& f) {
  if (n.is_null()) return Status::Ok();
  std::string type;
  LATHE_RETURN_IF_ERROR(f.Type(n, field, &type));
  if (type == "Sequence") {
    auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) return f.Error(field + ".normalizers", "expected an array");
    for (size_t i = 0; i < it->size(); ++i)
      LATHE_RETURN_IF_ERROR(ParseNormalizer((*it)[i], field + ".normalizers[" + std::to_string(i) + "]", f));
    return Status::Ok();
  }
  NormalizerStep step{};
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    UErrorCode err = U_ZERO_ERROR;
    step.kind = NormalizerStep::kUnicode;
    step.unicode = type == "NFC"  ? icu::Normalizer2::getNFCInstance(err)
                   : type == "NFD" ? icu::Normalizer2::getNFDInstance(err)
                   : type == "NFKC" ? icu::Normalizer2::getNFKCInstance(err)
                                    : icu::Normalizer2::getNFKDInstance(err);
    if (U_FAILURE(err) || !step.unicode)
      return Status::Internal(f.where() + field + ": ICU has no " + type + " normalizer: " +
                              u_errorName(err));
  } else if (type == "Prepend") {
    step.kind = NormalizerStep::kPrepend;
    LATHE_RETURN_IF_ERROR(f.String(n, field, "prepend", &step.a, true));
  } else if (type == "Replace") {
    step.kind = NormalizerStep::kReplace;
    bool is_regex = false;
    LATHE_RETURN_IF_ERROR(f.Pattern(n, field, &step.a, &is_regex));
    if (is_regex) return f.Unsupported(field + ".pattern", "Replace with a Regex pattern is not supported");
    LATHE_RETURN_IF_ERROR(f.String(n, field, "content", &step.b, true));
  } else {
    return f.Unsupported(field + ".type", "normalizer \"" + type + "\" is not supported");
  }
  normalizers_.push_back(std::move(step));
  return Status::Ok();
}

Status HfTokenizer::ParsePreTokenizer(const json& p, const std::string& field, const Fields& f) {
  if (p.is_null()) return Status::Ok();
  std::string type;
  LATHE_RETURN_IF_ERROR(f.Type(p, field, &type));
  if (type == "Sequence") {
    auto it = p.find("pretokenizers");
    if (it == p.end() || !it->is_array()) return f.Error(field + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < it->size(); ++i)
      LATHE_RETURN_IF_ERROR(ParsePreTokenizer((*it)[i], field + ".pretokenizers[" + std::to_string(i) + "]", f));
    return Status::Ok();
  }
  PreTokenizerStep step;
  if (type == "Split") {
    std::string pattern, behavior;
    bool is_regex = false, invert = false;
    LATHE_RETURN_IF_ERROR(f.Pattern(p, field, &pattern, &is_regex));
    LATHE_RETURN_IF_ERROR(f.String(p, field, "behavior", &behavior, true));
    LATHE_RETURN_IF_ERROR(f.Bool(p, field, "invert", &invert));
    if (behavior != "Isolated")
      return f.Unsupported(field + ".behavior", "only \"Isolated\" is supported, not \"" + behavior + "\"");
    if (invert) return f.Unsupported(field + ".invert", "inverted splits are not supported");
    step.regex = std::make_unique<Regex>();
    LATHE_RETURN_IF_ERROR(step.regex->Compile(is_regex ? pattern : QuoteRegex(pattern),
                                              f.where() + field + ".pattern"));
  } else if (type == "ByteLevel") {
    bool use_regex = true;
    LATHE_RETURN_IF_ERROR(f.Bool(p, field, "add_prefix_space", &step.add_prefix_space));
    LATHE_RETURN_IF_ERROR(f.Bool(p, field, "use_regex", &use_regex));
    if (use_regex) {
      step.regex = std::make_unique<Regex>();
      LATHE_RETURN_IF_ERROR(step.regex->Compile(kGpt2Regex, f.where() + field));
    }
    byte_level_ = true;
  } else {
    return f.Unsupported(field + ".type", "pre-tokenizer \"" + type + "\" is not supported");
  }
  if (step.regex || step.add_prefix_space) pre_tokenizers_.push_back(std::move(step));
  return Status::Ok();
}

Status HfTokenizer::ParseDecoder(const json& d, const std::string& field, const Fields& f) {
  if (d.is_null()) return Status::Ok();
  std::string type;
  LATHE_RETURN_IF_ERROR(f.Type(d, field, &type));
  if (type == "Sequence") {
    auto it = d.find("decoders");
    if (it == d.end() || !it->is_array()) return f.Error(field + ".decoders", "expected an array");
    for (size_t i = 0; i < it->size(); ++i)
      LATHE_RETURN_IF_ERROR(ParseDecoder((*it)[i], field + ".decoders[" + std::to_string(i) + "]", f));
    return Status::Ok();
  }
  DecoderStep step{};
  if (type == "ByteLevel") {
    step.kind = DecoderStep::kByteLevel;
  } else if (type == "Replace") {
    step.kind = DecoderStep::kReplace;
    bool is_regex = false;
    LATHE_RETURN_IF_ERROR(f.Pattern(d, field, &step.a, &is_regex));
    if (is_regex) return f.Unsupported(field + ".pattern", "Replace with a Regex pattern is not supported");
    LATHE_RETURN_IF_ERROR(f.String(d, field, "content", &step.b, true));
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::kFuse;
  } else if (type == "Strip") {
    step.kind = DecoderStep::kStrip;
    LATHE_RETURN_IF_ERROR(f.String(d, field, "content", &step.a, true));
    LATHE_RETURN_IF_ERROR(f.Int(d, field, "start", &step.start));
    LATHE_RETURN_IF_ERROR(f.Int(d, field, "stop", &step.stop));
  } else {
    return f.Unsupported(field + ".type", "decoder \"" + type + "\" is not supported");
  }
  decoders_.push_back(std::move(step));
  return Status::Ok();
}

Status HfTokenizer::Build(const TokenMap& vocab,
                          const std::vector<std::pair<std::string, std::string>>& merges,
                          BpeOptions options, const Fields& f) {
  options.byte_level = byte_level_;
  LATHE_RETURN_IF_ERROR(model_.Init(vocab, merges, options, f.where()));
  int size = 0;
  for (const auto& [text, id] : vocab) size = std::max(size, id + 1);
  for (const auto& t : added_) size = std::max(size, t.id + 1);
  id_to_token_.assign(size, "");
  assigned_.assign(size, false);
  token_to_id_ = vocab;
  for (const auto& [text, id] : vocab) {
    id_to_token_[id] = text;
    assigned_[id] = true;
  }
  for (const auto& t : added_) {
    id_to_token_[t.id] = t.content;
    assigned_[t.id] = true;
    token_to_id_[t.content] = t.id;
    if (!t.content.empty()) added_first_byte_[static_cast<unsigned char>(t.content[0])] = true;
  }
  // Longest first, so the first match found at a position is the longest.
  std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  return Status::Ok();
}

void HfTokenizer::SetByteLevelPipeline(const std::string& regex, const Fields& f, Status* st) {
  PreTokenizerStep step;
  step.regex = std::make_unique<Regex>();
  *st = step.regex->Compile(regex, f.where() + "pre-tokenizer");
  pre_tokenizers_.push_back(std::move(step));
  byte_level_ = true;
  decoders_.push_back(DecoderStep{DecoderStep::kByteLevel, "", "", 0, 0});
}

int HfTokenizer::FindToken(const std::string& text) const {
  auto it = token_to_id_.find(text);
  return it == token_to_id_.end() ? -1 : it->second;
}

int HfTokenizer::MatchAdded(std::string_view s, size_t i, size_t* len) const {
  for (size_t k = 0; k < added_.size(); ++k) {
    const auto& c = added_[k].content;
    if (!c.empty() && s.compare(i, c.size(), c) == 0) {
      *len = c.size();
      return int(k);
    }
  }
  return -1;
}

Status HfTokenizer::Encode(std::string_view text, std::vector<int>* ids) const {
  ids->clear();
  size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos)
    return Status::InvalidArgument("text is not valid UTF-8 at byte " + std::to_string(bad));
  if (added_.empty()) return EncodeSegment(text, ids);
  // Added tokens are cut out of the raw text first (leftmost, then longest); the rest is encoded.
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                     static_cast<unsigned char>(c) >= 0x80; };
  size_t seg_start = 0, i = 0;
  while (i < text.size()) {
    size_t len = 0;
    int k = added_first_byte_[static_cast<unsigned char>(text[i])] ? MatchAdded(text, i, &len) : -1;
    if (k >= 0) {
      const AddedToken& t = added_[k];
      size_t start = i, end = i + len;
      if (t.single_word && ((start > 0 && is_word(text[start - 1])) ||
                            (end < text.size() && is_word(text[end])))) {
        ++i;
        continue;
      }
      if (t.lstrip) while (start > seg_start && is_space(text[start - 1])) --start;
      if (t.rstrip) while (end < text.size() && is_space(text[end])) ++end;
      LATHE_RETURN_IF_ERROR(EncodeSegment(text.substr(seg_start, start - seg_start), ids));
      ids->push_back(t.id);
      seg_start = i = end;
    } else {
      ++i;
    }
  }
  return EncodeSegment(text.substr(seg_start), ids);
}

Status HfTokenizer::EncodeSegment(std::string_view seg, std::vector<int>* ids) const {
  if (seg.empty()) return Status::Ok();
  std::string normalized;
  std::string_view text = seg;
  if (!normalizers_.empty()) {
    normalized.assign(seg);
    for (const auto& n : normalizers_) {
      switch (n.kind) {
        case NormalizerStep::kUnicode: {
          UErrorCode err = U_ZERO_ERROR;
          icu::StringPiece piece(normalized.data(), int32_t(normalized.size()));
          if (n.unicode->isNormalizedUTF8(piece, err) && U_SUCCESS(err)) break;
          err = U_ZERO_ERROR;
          std::string out;
          icu::StringByteSink<std::string> sink(&out);
          n.unicode->normalizeUTF8(0, piece, sink, nullptr, err);
          if (U_FAILURE(err))
            return Status::Internal(std::string("Unicode normalization failed: ") + u_errorName(err));
          normalized.swap(out);
          break;
        }
        case NormalizerStep::kPrepend:
          if (!normalized.empty()) normalized.insert(0, n.a);
          break;
        case NormalizerStep::kReplace:
          if (normalized.find(n.a) != std::string::npos) normalized = ReplaceAll(normalized, n.a, n.b);
          break;
      }
    }
    text = normalized;
  }
  if (text.empty()) return Status::Ok();
  std::vector<std::string_view> pieces{text}, next;
  std::deque<std::string> storage;  // pieces that gained a prefix space
  for (const auto& step : pre_tokenizers_) {
    next.clear();
    for (std::string_view p : pieces) {
      if (step.add_prefix_space && (p.empty() || p[0] != ' ')) {
        storage.push_back(" " + std::string(p));
        p = storage.back();
      }
      if (step.regex) LATHE_RETURN_IF_ERROR(step.regex->Split(p, &next));
      else next.push_back(p);
    }
    pieces.swap(next);
  }
  for (std::string_view p : pieces) LATHE_RETURN_IF_ERROR(model_.EncodeWord(p, ids));
  return Status::Ok();
}

// Hugging Face's ByteFallback decoder: runs of <0xXX> become their bytes when those form valid
// UTF-8, else one U+FFFD per byte.
void ByteFallbackDecode(std::vector<std::string>* tokens) {
  std::vector<std::string> out;
  std::string bytes;
  size_t byte_tokens = 0;
  auto flush = [&] {
    if (byte_tokens == 0) return;
    if (FindInvalidUtf8(bytes) == std::string_view::npos) {
      out.push_back(bytes);
    } else {
      for (size_t i = 0; i < byte_tokens; ++i) out.push_back("\xEF\xBF\xBD");
    }
    bytes.clear();
    byte_tokens = 0;
  };
  for (auto& t : *tokens) {
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
        std::isxdigit(static_cast<unsigned char>(t[3])) &&
        std::isxdigit(static_cast<unsigned char>(t[4]))) {
      bytes.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
      ++byte_tokens;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  tokens->swap(out);
}

Status HfTokenizer::Decode(const std::vector<int>& ids, std::string* text) const {
  text->clear();
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (id < 0 || id >= vocab_size() || !assigned_[id])
      return Status::InvalidArgument("token id " + std::to_string(id) + " is not in the " +
                                     std::to_string(vocab_size()) + "-token vocabulary");
    tokens.push_back(id_to_token_[id]);
  }
  for (const auto& d : decoders_) {
    switch (d.kind) {
      case DecoderStep::kByteLevel: {
        std::string bytes;
        for (const auto& t : tokens) bytes += ByteLevelToBytes(t);
        tokens.assign(1, SanitizeUtf8(bytes));
        break;
      }
      case DecoderStep::kReplace:
        for (auto& t : tokens) t = ReplaceAll(t, d.a, d.b);
        break;
      case DecoderStep::kByteFallback:
        ByteFallbackDecode(&tokens);
        break;
      case DecoderStep::kFuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, all);
        break;
      }
      case DecoderStep::kStrip:
        for (auto& t : tokens) {
          if (d.a.empty()) break;
          for (int k = 0; k < d.start && t.compare(0, d.a.size(), d.a) == 0; ++k) t.erase(0, d.a.size());
          for (int k = 0; k < d.stop && t.size() >= d.a.size() &&
                          t.compare(t.size() - d.a.size(), d.a.size(), d.a) == 0; ++k)
            t.resize(t.size() - d.a.size());
        }
        break;
    }
  }
  for (const auto& t : tokens) *text += t;
  return Status::Ok();
}

Status HfTokenizer::LoadJson(const json& root, const Fields& f) {
  if (!root.is_object()) return f.Error("(top level)", "expected a JSON object");
  auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object()) return f.Error("model", "missing or not an object");
  const json& model = *model_it;
  std::string type = "BPE";
  LATHE_RETURN_IF_ERROR(f.String(model, "model", "type", &type));
  if (type != "BPE")
    return f.Unsupported("model.type", "\"" + type + "\" models are not supported (only BPE)");

  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object())
    return f.Error("model.vocab", "missing or not an object of token -> id");
  TokenMap vocab;
  vocab.reserve(vocab_it->size());
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > kMaxTokenId)
      return f.Error("model.vocab[\"" + it.key() + "\"]", "expected an integer id from 0 to " + std::to_string(kMaxTokenId));
    vocab.emplace(it.key(), int(it.value().get<int64_t>()));
  }

  auto merges_it = model.find("merges");
  std::vector<std::pair<std::string, std::string>> merges;
  if (merges_it != model.end() && !merges_it->is_null()) {
    if (!merges_it->is_array()) return f.Error("model.merges", "expected an array");
    merges.reserve(merges_it->size());
    for (size_t i = 0; i < merges_it->size(); ++i) {
      const json& m = (*merges_it)[i];
      std::string field = "model.merges[" + std::to_string(i) + "]";
      if (m.is_string()) {  // "a b"
        const std::string& s = m.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          return f.Error(field, "expected two tokens separated by one space, got \"" + s + "\"");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return f.Error(field, "expected \"a b\" or [\"a\", \"b\"]");
      }
    }
  }

  BpeOptions options;
  LATHE_RETURN_IF_ERROR(f.String(model, "model", "unk_token", &options.unk_token));
  LATHE_RETURN_IF_ERROR(f.Bool(model, "model", "fuse_unk", &options.fuse_unk));
  LATHE_RETURN_IF_ERROR(f.Bool(model, "model", "byte_fallback", &options.byte_fallback));
  LATHE_RETURN_IF_ERROR(f.Bool(model, "model", "ignore_merges", &options.ignore_merges));
  std::string prefix, suffix;
  LATHE_RETURN_IF_ERROR(f.String(model, "model", "continuing_subword_prefix", &prefix));
  LATHE_RETURN_IF_ERROR(f.String(model, "model", "end_of_word_suffix", &suffix));
  if (!prefix.empty()) return f.Unsupported("model.continuing_subword_prefix", "not supported");
  if (!suffix.empty()) return f.Unsupported("model.end_of_word_suffix", "not supported");
  if (auto it = model.find("dropout"); it != model.end() && !it->is_null()) {
    if (!it->is_number()) return f.Error("model.dropout", "expected a number or null");
    if (it->get<double>() > 0) return f.Unsupported("model.dropout", "BPE dropout is not supported");
  }

  if (auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return f.Error("added_tokens", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& t = (*it)[i];
      std::string field = "added_tokens[" + std::to_string(i) + "]";
      if (!t.is_object()) return f.Error(field, "expected an object");
      AddedToken a{-1, ""};
      LATHE_RETURN_IF_ERROR(f.Int(t, field, "id", &a.id, true));
      LATHE_RETURN_IF_ERROR(f.String(t, field, "content", &a.content, true));
      if (a.content.empty()) return f.Error(field + ".content", "empty");
      LATHE_RETURN_IF_ERROR(f.Bool(t, field, "lstrip", &a.lstrip));
      LATHE_RETURN_IF_ERROR(f.Bool(t, field, "rstrip", &a.rstrip));
      LATHE_RETURN_IF_ERROR(f.Bool(t, field, "single_word", &a.single_word));
      added_.push_back(std::move(a));
    }
  }
  if (auto it = root.find("normalizer"); it != root.end())
    LATHE_RETURN_IF_ERROR(ParseNormalizer(*it, "normalizer", f));
  if (auto it = root.find("pre_tokenizer"); it != root.end())
    LATHE_RETURN_IF_ERROR(ParsePreTokenizer(*it, "pre_tokenizer", f));
  if (auto it = root.find("decoder"); it != root.end())
    LATHE_RETURN_IF_ERROR(ParseDecoder(*it, "decoder", f));
  return Build(vocab, merges, options, f);
}

// bos/eos: tokenizer_config.json's bos_token/eos_token ("<s>", {"content": "<s>"} or null) when it
// names them, else the special tokens a TemplateProcessing post-processor puts around a sequence.
Status HfTokenizer::LoadSpecialIds(const json* config, const json& root, const Fields& f,
                                   const Fields& cf) {
  auto from_config = [&](const char* key, int* id) -> Status {
    auto it = config->find(key);
    if (it == config->end()) return Status::Ok();
    std::string name;
    if (it->is_null()) return Status::Ok();
    if (it->is_string()) name = it->get<std::string>();
    else if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
      name = (*it)["content"].get<std::string>();
    else return cf.Error(key, "expected a string, {\"content\": ...} or null");
    *id = FindToken(name);
    if (*id < 0) return cf.Error(key, "\"" + name + "\" is not a token of the vocabulary");
    return Status::Ok();
  };
  auto pp = root.find("post_processor");
  if (pp != root.end() && pp->is_object() && pp->value("type", "") == "TemplateProcessing") {
    auto single = pp->find("single");
    auto specials = pp->find("special_tokens");
    auto special_id = [&](const json& piece) -> int {
      if (!piece.is_object() || !piece.contains("SpecialToken")) return -1;
      const json& st = piece["SpecialToken"];
      if (!st.is_object() || !st.contains("id") || !st["id"].is_string()) return -1;
      std::string name = st["id"].get<std::string>();
      if (specials != pp->end() && specials->is_object() && specials->contains(name)) {
        const json& s = (*specials)[name];
        if (s.is_object() && s.contains("ids") && s["ids"].is_array() && s["ids"].size() == 1 &&
            s["ids"][0].is_number_integer())
          return s["ids"][0].get<int>();
      }
      return FindToken(name);
    };
    if (single != pp->end() && single->is_array() && !single->empty()) {
      bos_id_ = special_id(single->front());
      if (single->size() > 1) eos_id_ = special_id(single->back());
    }
  }
  if (config) {
    if (!config->is_object()) return cf.Error("(top level)", "expected a JSON object");
    LATHE_RETURN_IF_ERROR(from_config("bos_token", &bos_id_));
    LATHE_RETURN_IF_ERROR(from_config("eos_token", &eos_id_));
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ss.str();
}

Result<json> ParseJsonFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  try {
    return json::parse(text.value());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(path + ": not valid JSON at byte " + std::to_string(e.byte) +
                                   ": " + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(const std::string& path) {
  namespace fs = std::filesystem;
  auto root = ParseJsonFile(path);
  if (!root.ok()) return root.status();
  Fields f(path + ": ");
  auto tok = std::make_unique<HfTokenizer>();
  try {
    LATHE_RETURN_IF_ERROR(tok->LoadJson(root.value(), f));
    std::string config_path = (fs::path(path).parent_path() / "tokenizer_config.json").string();
    std::error_code ec;
    Fields cf(config_path + ": ");
    if (fs::exists(config_path, ec)) {
      auto config = ParseJsonFile(config_path);
      if (!config.ok()) return config.status();
      LATHE_RETURN_IF_ERROR(tok->LoadSpecialIds(&config.value(), root.value(), f, cf));
    } else {
      LATHE_RETURN_IF_ERROR(tok->LoadSpecialIds(nullptr, root.value(), f, cf));
    }
  } catch (const json::exception& e) {  // a type mismatch the field checks above did not foresee
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

Result<std::unique_ptr<Tokenizer>> LoadGpt2Tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  std::string encoder_path = (fs::path(dir) / "encoder.json").string();
  std::string merges_path = (fs::path(dir) / "vocab.bpe").string();
  auto encoder = ParseJsonFile(encoder_path);
  if (!encoder.ok()) return encoder.status();
  Fields f(encoder_path + ": ");
  if (!encoder->is_object()) return f.Error("(top level)", "expected an object of token -> id");
  TokenMap vocab;
  for (auto it = encoder->begin(); it != encoder->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > kMaxTokenId)
      return f.Error("[\"" + it.key() + "\"]", "expected an integer id from 0 to " + std::to_string(kMaxTokenId));
    vocab.emplace(it.key(), int(it.value().get<int64_t>()));
  }
  auto text = ReadWholeFile(merges_path);
  if (!text.ok()) return text.status();
  // Line 1 is the "#version: 0.2" header; later lines starting with '#' are real merges ("# #").
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines(text.value());
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((n == 1 && line.rfind("#version", 0) == 0) || line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
      return Status::InvalidArgument(merges_path + ":" + std::to_string(n) +
                                     ": expected two tokens separated by one space");
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  auto tok = std::make_unique<HfTokenizer>();
  Status st;
  tok->SetByteLevelPipeline(kGpt2Regex, f, &st);
  LATHE_RETURN_IF_ERROR(st);
  int eot = -1;
  if (auto it = vocab.find(std::string_view("<|endoftext|>")); it != vocab.end()) {
    eot = it->second;
    tok->AddSpecial(AddedToken{eot, "<|endoftext|>"});
  }
  LATHE_RETURN_IF_ERROR(tok->Build(vocab, merges, BpeOptions{}, Fields(merges_path + ": ")));
  tok->SetSpecialIds(eot, eot);  // GPT-2 uses <|endoftext|> for both
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace lathe::text
