#include "services/iam/wildcard.h"

#include <array>

namespace lathe::iam {
namespace {

char Fold(char c, bool ignore_case) {
  return ignore_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Splits `s` on its first five colons: components [0, n) hold the parts, n <= 6; the last part
// holds whatever follows (further colons included).
size_t ArnComponents(std::string_view s, std::array<std::string_view, 6>* parts) {
  size_t n = 0, start = 0;
  while (n < 5) {
    size_t colon = s.find(':', start);
    if (colon == std::string_view::npos) break;
    (*parts)[n++] = s.substr(start, colon - start);
    start = colon + 1;
  }
  (*parts)[n++] = s.substr(start);
  return n;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case) {
  if (pattern.size() > kMaxMatchLength || text.size() > kMaxMatchLength) return false;
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;  // the last '*' seen, and where its run ends
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || Fold(pattern[p], ignore_case) == Fold(text[t], ignore_case))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      // The last star takes one more character; every earlier choice stays as it is, which is
      // enough: a later star can absorb whatever an earlier one would have.
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ArnMatch(std::string_view pattern, std::string_view arn) {
  if (pattern == "*") return true;
  if (pattern.size() > kMaxMatchLength || arn.size() > kMaxMatchLength) return false;
  std::array<std::string_view, 6> want{}, have{};
  const size_t n_want = ArnComponents(pattern, &want);
  const size_t n_have = ArnComponents(arn, &have);
  if (n_want == n_have) {
    for (size_t i = 0; i < n_want; ++i)
      if (!WildcardMatch(want[i], have[i])) return false;
    return true;
  }
  // Fewer components: the last one's trailing '*' crosses the colons that remain.
  if (n_want > n_have || want[n_want - 1].empty() || want[n_want - 1].back() != '*') return false;
  for (size_t i = 0; i + 1 < n_want; ++i)
    if (!WildcardMatch(want[i], have[i])) return false;
  const size_t rest = static_cast<size_t>(have[n_want - 1].data() - arn.data());
  return WildcardMatch(want[n_want - 1], arn.substr(rest));
}

}  // namespace lathe::iam
