#include "data/dedup.h"

#include <algorithm>
#include <cctype>

namespace lathe::data {

std::string NormalizeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (unsigned char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      pending_space = !out.empty();
      continue;
    }
    if (c < 0x80 && !std::isalnum(c)) continue;  // ASCII punctuation and symbols
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
  }
  return out;
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

// Fields are tagged and length-prefixed, so "a b" + "c" and "a" + "b c" never share a key, and
// the same conversation has the same key in every format.
template <typename Transform>
uint64_t FieldsKey(const Example& e, Transform transform) {
  std::string buf;
  auto field = [&](char tag, std::string_view text) {
    std::string t = transform(text);
    buf += tag + std::to_string(t.size()) + ":" + t;
  };
  if (e.format == Format::kPretraining) {
    field('I', e.input);
  } else {
    if (!e.system.empty()) field('S', e.system);
    for (const Turn& t : e.turns) field(t.role == Role::kUser ? 'U' : 'A', t.text);
  }
  return Fnv1a64(buf);
}

}  // namespace

uint64_t ExactKey(const Example& e) {
  return FieldsKey(e, [](std::string_view t) { return std::string(t); });
}
uint64_t NormalizedKey(const Example& e) { return FieldsKey(e, NormalizeText); }

std::string FirstWord(const Example& e) {
  std::string_view text = e.format == Format::kPretraining ? std::string_view(e.input) : e.Prompt();
  size_t cut = std::min<size_t>(text.size(), 200);
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  std::string norm = NormalizeText(text.substr(0, cut));
  return norm.substr(0, norm.find(' '));
}

}  // namespace lathe::data
