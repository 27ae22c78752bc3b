// A regular-expression matcher whose time is linear in the input, for checking request data
// against the patterns AWS service models declare. std::regex backtracks recursively (a 30,000
// character name overflows the stack, and nested quantifiers take exponential time); this one
// compiles the pattern to a Thompson NFA and runs all its states in step (Pike's simulation), so
// matching costs O(input length x pattern size) time and O(pattern size) memory, with no recursion
// on the input.
//
// The syntax is the subset of ECMAScript that the service models use: literals, `.`, escapes
// (\s \S \d \D \w \W and escaped punctuation), classes `[a-z0-9-]`, `[^:]`, groups `(...)` and
// `(?:...)`, alternation `|`, quantifiers `*` `+` `?` `{m}` `{m,}` `{m,n}`, and the anchors `^` `$`.
// Patterns are ASCII; the input is matched byte by byte, as std::regex does on a std::string.
// Matching is whole-input (std::regex_match), which is how lathe applies a model's pattern.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe {

class LinearPattern {
 public:
  // InvalidArgument names the pattern and the offending position for syntax outside the subset.
  static Result<LinearPattern> Compile(std::string_view pattern);
  // Whether the whole of `input` matches.
  bool FullMatch(std::string_view input) const;
  const std::string& pattern() const { return pattern_; }
  size_t program_size() const { return program_.size(); }

  // One instruction of the compiled program (public for the compiler in the .cc).
  struct Inst {
    enum Op : uint8_t { kByteSet, kSplit, kJump, kMatch, kAssertBegin, kAssertEnd } op;
    int x = 0, y = 0;  // kSplit: both targets; kJump: x; kByteSet: x = index into byte_sets_
  };
  struct ByteSet {
    uint64_t bits[4] = {0, 0, 0, 0};
    bool Has(unsigned char c) const { return (bits[c >> 6] >> (c & 63)) & 1; }
    void Add(unsigned char c) { bits[c >> 6] |= uint64_t{1} << (c & 63); }
  };

 private:
  // Adds pc and every instruction reachable from it without consuming a byte to `list`.
  void AddClosure(int pc, size_t pos, size_t size, std::vector<int>* list, std::vector<uint32_t>* seen,
                  uint32_t generation, std::vector<int>* stack) const;

  std::string pattern_;
  std::vector<Inst> program_;
  std::vector<ByteSet> byte_sets_;
  friend class PatternCompiler;
};

}  // namespace lathe
