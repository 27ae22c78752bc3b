// Turns the growing decoded text of one generation into final pieces: finds stop sequences on
// text (not tokens: a stop string can span tokens) and holds back what could still become one,
// or an incomplete UTF-8 character.
#pragma once

#include <string>
#include <vector>

namespace lathe::engine {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_sequences);
  // `full` is all text generated so far. Returns the text that became final since the last call.
  // When a stop sequence appears, the text is cut before it and stopped() turns true.
  std::string Update(const std::string& full, bool is_last);
  bool stopped() const { return !matched_.empty(); }
  const std::string& matched() const { return matched_; }
  const std::string& text() const { return text_; }  // all final text

 private:
  std::vector<std::string> stops_;
  std::string text_;
  std::string matched_;
};

}  // namespace lathe::engine
