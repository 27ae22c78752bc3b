#include "engine/text_stream.h"

#include <algorithm>

namespace lathe::engine {

TextStream::TextStream(std::vector<std::string> stop_sequences) {
  for (auto& s : stop_sequences)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string TextStream::Update(const std::string& full, bool is_last) {
  if (stopped()) return {};
  const size_t done = text_.size();
  // Earliest stop sequence that ends in the new part of the text.
  size_t cut = std::string::npos;
  for (const auto& s : stops_) {
    size_t from = done >= s.size() ? done - s.size() + 1 : 0;
    size_t at = full.find(s, from);
    if (at != std::string::npos && at < cut) {
      cut = at;
      matched_ = s;
    }
  }
  size_t end = full.size();
  if (cut != std::string::npos) {
    end = std::max(cut, done);
  } else if (!is_last) {
    // Hold back the longest tail that is the start of a stop sequence...
    for (const auto& s : stops_)
      for (size_t n = std::min(s.size() - 1, full.size()); n > 0; --n)
        if (full.compare(full.size() - n, n, s, 0, n) == 0) {
          end = std::min(end, full.size() - n);
          break;
        }
    // ...and a trailing U+FFFD, which a byte-fallback decoder emits for a partial character.
    static const std::string kReplacement = "\xEF\xBF\xBD";
    while (end >= 3 && full.compare(end - 3, 3, kReplacement) == 0) end -= 3;
  }
  if (end <= done) return {};
  std::string piece = full.substr(done, end - done);
  text_ += piece;
  return piece;
}

}  // namespace lathe::engine
