// LLM-as-judge: the prompt a judge model answers, and the scores read back from what it wrote.
#include "eval/judge.h"

#include <cctype>
#include <string>

#include "core/env.h"  // review.h uses Env without including it
#include "eval/review.h"

namespace lathe::eval {
namespace {

// Each part of the prompt is cut to this many bytes: the judge's context is small, and a
// 256 KiB reference would only push the question out of it.
constexpr size_t kMaxJudgedPartBytes = 2000;
// What ParseJudgeScores reads of the judge's output.
constexpr size_t kMaxJudgeOutputBytes = 4096;

// Cut at a code point boundary, marked so the judge knows the text goes on.
std::string Clip(std::string_view s) {
  if (s.size() <= kMaxJudgedPartBytes) return std::string(s);
  size_t end = kMaxJudgedPartBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + " [...]";
}

// A key as judges write it: "accuracy", "- Accuracy", "**Accuracy**".
std::string_view TrimKey(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) || s.front() == '*' ||
                        s.front() == '-' || s.front() == '#'))
    s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '*')) s.remove_suffix(1);
  return s;
}

std::string_view TrimValue(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '*')) s.remove_prefix(1);
  return s;
}

// "4", "4/5", "4 out of 5", "4.5" -> the leading number; -1 when there is none.
double LeadingScore(std::string_view s) {
  size_t i = 0;
  double v = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i < 3) {
    v = v * 10 + (s[i++] - '0');
    digits = true;
  }
  if (!digits) return -1;
  if (i + 1 < s.size() && s[i] == '.' && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
    v += (s[i + 1] - '0') / 10.0;
    i += 2;
  }
  // "45" is not a score, nor is "4" of "4000 words".
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
  return v;
}

}  // namespace

std::string JudgePrompt(const TestCase& c, std::string_view answer) {
  std::string p =
      "You grade an answer to a customer's question. Score the answer from 1 (poor) to 5 (excellent) on "
      "each criterion: accuracy (is it correct), relevance (does it address the question), tone (is it "
      "polite and professional), completeness (does it cover what was asked), formatting (is it clear "
      "and well laid out).\n\nQuestion: ";
  p += Clip(c.DisplayPrompt());
  if (!c.reference.empty()) p += "\nReference answer: " + Clip(c.reference);
  p += "\nAnswer: " + Clip(answer);
  p += "\n\nReply with five lines, one per criterion, each as \"criterion: N\":\n";
  return p;
}

std::map<std::string, double> ParseJudgeScores(std::string_view out) {
  out = out.substr(0, kMaxJudgeOutputBytes);
  const std::vector<std::string>& criteria = RubricCriteria();
  std::map<std::string, double> scores;
  while (!out.empty()) {
    const size_t nl = out.find('\n');
    std::string_view line = out.substr(0, nl);
    out = nl == std::string_view::npos ? std::string_view() : out.substr(nl + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(TrimKey(line.substr(0, colon)));
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool known = false;
    for (const auto& criterion : criteria) known = known || key == criterion;
    if (!known || scores.count(key) > 0) continue;  // the first score given for a criterion stands
    const double v = LeadingScore(TrimValue(line.substr(colon + 1)));
    if (v >= 1 && v <= 5) scores[key] = v;
  }
  return scores;
}

}  // namespace lathe::eval
