// Text metrics: SQuAD's normalisation, exact match and token F1, keyword coverage, ROUGE-L, BLEU,
// refusal detection, and ScoreAnswer that applies whichever of them fit a case. Format rules
// (regex and JSON Schema) are in format_rule.cc.
#include "eval/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <span>
#include <unordered_map>

namespace lathe::eval {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Python's string.punctuation, which SQuAD's remove_punc drops.
bool IsAsciiPunctuation(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 47) || (u >= 58 && u <= 64) || (u >= 91 && u <= 96) || (u >= 123 && u <= 126);
}

std::vector<std::string> SplitWhitespace(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsAsciiSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsAsciiSpace(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// Tokens as small integers (equal tokens, equal ids), so the LCS compares ints, not strings.
void ToIds(std::span<const std::string> a, std::span<const std::string> b, std::vector<int>* ia,
           std::vector<int>* ib) {
  std::unordered_map<std::string_view, int> ids;
  auto id = [&](const std::string& t) { return ids.emplace(t, static_cast<int>(ids.size())).first->second; };
  for (const auto& t : a) ia->push_back(id(t));
  for (const auto& t : b) ib->push_back(id(t));
}

// Longest common subsequence length, O(n*m) time, two rows of memory.
size_t LcsLength(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<uint32_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

using NgramMap = std::map<std::vector<std::string>, size_t>;

NgramMap CountNgrams(const std::vector<std::string>& tokens, int n) {
  NgramMap counts;
  if (n <= 0 || tokens.size() < static_cast<size_t>(n)) return counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i) {
    ++counts[std::vector<std::string>(tokens.begin() + i, tokens.begin() + i + n)];
  }
  return counts;
}

constexpr int kBleuMaxOrder = 4;

// Papineni et al.'s brevity penalty: 1 when the candidate is longer than the reference, else
// exp(1 - r/c); 0 for an empty candidate.
double BrevityPenalty(double c, double r) {
  if (c <= 0) return 0;
  return c > r ? 1.0 : std::exp(1.0 - r / c);
}

// Refusal openings, lower case with ASCII apostrophes. Specific enough that an answer which
// merely contains "I can't" in passing is not counted.
constexpr const char* kRefusalPhrases[] = {
    "i can't help",     "i cannot help",      "i can't assist",     "i cannot assist",
    "i can't provide",  "i cannot provide",   "i can't answer",     "i cannot answer",
    "i can't do that",  "i cannot do that",   "i can't comply",     "i cannot comply",
    "i'm sorry, but",   "i am sorry, but",    "sorry, but i",       "i apologize, but",
    "as an ai",         "i'm not able to",    "i am not able to",   "i'm unable to",
    "i am unable to",   "i won't be able to", "i will not be able", "i must decline",
    "i'm not allowed to", "i am not allowed to", "i can not help",  "i'm afraid i can't",
};
constexpr size_t kRefusalWindowBytes = 200;

}  // namespace

std::vector<std::string> NormalizedTokens(std::string_view text) {
  std::string cleaned;
  cleaned.reserve(text.size());
  for (char c : text) {
    if (!IsAsciiPunctuation(c)) cleaned.push_back(AsciiLower(c));
  }
  // SQuAD removes \b(a|an|the)\b after punctuation is gone; on whitespace tokens that is dropping
  // the tokens that are exactly an article. (Python's \b and split() also know Unicode: an article
  // against an em dash, or words split by a no-break space, differ here. ASCII text does not.)
  std::vector<std::string> tokens = SplitWhitespace(cleaned);
  std::erase_if(tokens, [](const std::string& t) { return t == "a" || t == "an" || t == "the"; });
  return tokens;
}

std::vector<KeywordOccurrence> KeywordOccurrences(std::string_view answer, const std::vector<std::string>& keywords) {
  const std::string haystack = AsciiLower(answer);
  std::vector<KeywordOccurrence> out;
  for (size_t k = 0; k < keywords.size(); ++k) {
    if (keywords[k].empty()) continue;
    const std::string needle = AsciiLower(keywords[k]);
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size()))
      out.push_back({at, at + needle.size(), k});
  }
  return out;
}

std::vector<std::string> KeywordHits(std::string_view answer, const std::vector<std::string>& keywords) {
  std::vector<bool> hit(keywords.size(), false);
  for (const KeywordOccurrence& o : KeywordOccurrences(answer, keywords)) hit[o.keyword] = true;
  std::vector<std::string> hits;
  for (size_t k = 0; k < keywords.size(); ++k)
    if (hit[k]) hits.push_back(keywords[k]);
  return hits;
}

double KeywordCoverage(std::string_view answer, const std::vector<std::string>& keywords) {
  if (keywords.empty()) return 0;
  return static_cast<double>(KeywordHits(answer, keywords).size()) / static_cast<double>(keywords.size());
}

double ExactMatch(std::string_view answer, std::string_view reference) {
  return NormalizedTokens(answer) == NormalizedTokens(reference) ? 1.0 : 0.0;
}

double TokenF1(std::string_view answer, std::string_view reference) {
  const auto pred = NormalizedTokens(answer);
  const auto gold = NormalizedTokens(reference);
  // SQuAD: "If either is no-answer, then F1 is 1 if they agree, 0 otherwise".
  if (pred.empty() || gold.empty()) return pred == gold ? 1.0 : 0.0;
  std::unordered_map<std::string, long> gold_counts;
  for (const auto& t : gold) ++gold_counts[t];
  size_t same = 0;
  for (const auto& t : pred) {
    auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0;
  double precision = static_cast<double>(same) / pred.size();
  double recall = static_cast<double>(same) / gold.size();
  return 2 * precision * recall / (precision + recall);
}

double RougeLOfTokens(const std::vector<std::string>& candidate, const std::vector<std::string>& reference) {
  const size_t n = std::min(candidate.size(), kMaxLcsTokens), m = std::min(reference.size(), kMaxLcsTokens);
  if (n == 0 || m == 0) return 0;  // as Google's rouge_score does
  std::vector<int> ci, ri;
  ToIds(std::span(candidate).first(n), std::span(reference).first(m), &ci, &ri);
  const double lcs = static_cast<double>(LcsLength(ci, ri));
  if (lcs == 0) return 0;
  // Lin (2004) eq. 2-4: R = LCS/m (reference length), P = LCS/n (candidate length), beta = 1.
  const double recall = lcs / m;
  const double precision = lcs / n;
  return 2 * recall * precision / (recall + precision);
}

std::vector<std::string> RougeTokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const char c = AsciiLower(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

namespace {

// One pass of a two-character rule of 13a's regexes, with Python's re.sub semantics (leftmost,
// non-overlapping): where first(a) && second(b), a b becomes `replace(a, b)`.
template <typename First, typename Second, typename Replace>
std::string SubPairs(const std::string& s, First first, Second second, Replace replace) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out += replace(s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPeriodOrComma(char c) { return c == '.' || c == ','; }

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

}  // namespace

std::vector<std::string> Bleu13aTokens(std::string_view text) {
  std::string line(text);
  ReplaceAll(&line, "<skipped>", "");
  ReplaceAll(&line, "-\n", "");
  ReplaceAll(&line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    ReplaceAll(&line, "&quot;", "\"");
    ReplaceAll(&line, "&amp;", "&");
    ReplaceAll(&line, "&lt;", "<");
    ReplaceAll(&line, "&gt;", ">");
  }
  // 1. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ": ASCII punctuation but ' - . , and the
  // space itself (spacing a space changes nothing once split).
  std::string spaced = " ";
  for (char c : line) {
    const bool split = (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= '!' && c <= '&') ||
                       (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
    if (split) {
      spaced += ' ';
      spaced += c;
      spaced += ' ';
    } else {
      spaced += c;
    }
  }
  spaced += ' ';
  // 2. ([^0-9])([\.,]) -> "\1 \2 "; 3. ([\.,])([^0-9]) -> " \1 \2"; 4. ([0-9])(-) -> "\1 \2 ".
  auto not_digit = [](char c) { return !IsDigit(c); };
  spaced = SubPairs(spaced, not_digit, IsPeriodOrComma, [](char a, char b) { return std::string{a, ' ', b, ' '}; });
  spaced = SubPairs(spaced, IsPeriodOrComma, not_digit, [](char a, char b) { return std::string{' ', a, ' ', b}; });
  spaced = SubPairs(spaced, IsDigit, [](char c) { return c == '-'; },
                    [](char a, char b) { return std::string{a, ' ', b, ' '}; });
  std::vector<std::string> out;
  std::string cur;
  for (char c : spaced) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

double RougeL(std::string_view candidate, std::string_view reference) {
  return RougeLOfTokens(RougeTokens(candidate), RougeTokens(reference));
}

NgramCounts ModifiedNgramPrecision(const std::vector<std::string>& candidate,
                                   const std::vector<std::vector<std::string>>& references, int n) {
  NgramCounts out;
  const NgramMap cand = CountNgrams(candidate, n);
  std::vector<NgramMap> refs;
  refs.reserve(references.size());
  for (const auto& r : references) refs.push_back(CountNgrams(r, n));
  for (const auto& [gram, count] : cand) {
    size_t max_ref = 0;
    for (const auto& r : refs) {
      auto it = r.find(gram);
      if (it != r.end()) max_ref = std::max(max_ref, it->second);
    }
    out.total += count;
    out.clipped += std::min(count, max_ref);
  }
  return out;
}

double SentenceBleu(std::string_view candidate, std::string_view reference) {
  const auto cand = Bleu13aTokens(candidate);
  const auto ref = Bleu13aTokens(reference);
  if (cand.empty()) return 0;
  const std::vector<std::vector<std::string>> refs{ref};
  double log_sum = 0;
  for (int n = 1; n <= kBleuMaxOrder; ++n) {
    NgramCounts c = ModifiedNgramPrecision(cand, refs, n);
    double num = static_cast<double>(c.clipped), den = static_cast<double>(c.total);
    if (n > 1) {  // Lin & Och (2004): add one to 2..4-gram counts
      num += 1;
      den += 1;
    }
    if (num == 0 || den == 0) return 0;
    log_sum += std::log(num / den);
  }
  return BrevityPenalty(cand.size(), ref.size()) * std::exp(log_sum / kBleuMaxOrder);
}

double CorpusBleu(const std::vector<std::string>& candidates, const std::vector<std::string>& references) {
  if (candidates.empty() || candidates.size() != references.size()) return 0;
  double clipped[kBleuMaxOrder] = {}, total[kBleuMaxOrder] = {};
  double c_len = 0, r_len = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto cand = Bleu13aTokens(candidates[i]);
    const std::vector<std::vector<std::string>> refs{Bleu13aTokens(references[i])};
    c_len += cand.size();
    r_len += refs[0].size();
    for (int n = 1; n <= kBleuMaxOrder; ++n) {
      NgramCounts c = ModifiedNgramPrecision(cand, refs, n);
      clipped[n - 1] += c.clipped;
      total[n - 1] += c.total;
    }
  }
  double log_sum = 0;
  for (int n = 0; n < kBleuMaxOrder; ++n) {
    if (clipped[n] == 0 || total[n] == 0) return 0;
    log_sum += std::log(clipped[n] / total[n]);
  }
  return BrevityPenalty(c_len, r_len) * std::exp(log_sum / kBleuMaxOrder);
}

bool LooksLikeRefusal(std::string_view answer) {
  std::string head;
  head.reserve(kRefusalWindowBytes);
  for (size_t i = 0; i < answer.size() && head.size() < kRefusalWindowBytes; ++i) {
    // U+2019 (right single quotation mark), which models often write for an apostrophe.
    if (answer.substr(i, 3) == "\xE2\x80\x99") {
      head.push_back('\'');
      i += 2;
      continue;
    }
    head.push_back(AsciiLower(answer[i]));
  }
  // Whole words only: "as an ai" must not match "has an airline", nor "i'm unable to" "aim unable
  // tone". A phrase matches where neither neighbour is a letter or digit.
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (const char* phrase : kRefusalPhrases) {
    const std::string_view p(phrase);
    for (size_t at = head.find(p); at != std::string::npos; at = head.find(p, at + 1)) {
      const bool starts = at == 0 || !word_char(head[at - 1]);
      const bool ends = at + p.size() == head.size() || !word_char(head[at + p.size()]);
      if (starts && ends) return true;
    }
  }
  return false;
}

std::map<std::string, double> ScoreAnswer(const TestCase& c, std::string_view answer) {
  std::map<std::string, double> m;
  if (!c.keywords.empty()) m[kKeywordCoverage] = KeywordCoverage(answer, c.keywords);
  if (!c.reference.empty()) {
    m[kExactMatch] = ExactMatch(answer, c.reference);
    m[kTokenF1] = TokenF1(answer, c.reference);
    m[kRougeL] = RougeL(answer, c.reference);
    m[kBleu] = SentenceBleu(answer, c.reference);
  }
  if (c.format.kind != FormatRule::Kind::kNone)
    if (std::optional<bool> ok = CheckFormat(answer, c.format)) m[kFormatCompliance] = *ok ? 1.0 : 0.0;
  m[kRefusal] = LooksLikeRefusal(answer) ? 1.0 : 0.0;
  m[kAnswerWords] = static_cast<double>(SplitWhitespace(answer).size());
  return m;
}

}  // namespace lathe::eval
