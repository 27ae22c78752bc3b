#include "eval/report_format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "eval/metrics.h"

namespace lathe::eval::report_format {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ScriptSafeJson(const nlohmann::json& j) {
  std::string s = DumpJson(j);
  std::string out;
  out.reserve(s.size() + 64);
  // Outside strings JSON has none of these characters, so every one replaced is inside a string,
  // where the \u escape means the same character.
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xE2' && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      out += s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string ScriptSafeJs(std::string_view js) {
  // In a script element the HTML parser ends the element at "</script" in any case, and "<!--"
  // followed by "<script" changes how it looks for the end. "<\/" and "<\!" mean the same
  // characters inside a JavaScript string or regex literal, where such text appears in libraries.
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && i + 1 < js.size() && (js[i + 1] == '/' || js[i + 1] == '!')) {
      std::string_view rest = js.substr(i + 1, 7);
      std::string lower(rest);
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower == "/script" || lower.rfind("!--", 0) == 0) {
        out += "<\\";
        out += js[i + 1];
        ++i;
        continue;
      }
    }
    out += js[i];
  }
  return out;
}

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "\xE2\x80\xA6";
}

namespace {

// The order a reader expects: the tutorials' measure, overlap with the reference, format,
// refusals, the judge's and the human reviewer's rubric means (Summarize's humanScore), the
// local models' loss, then anything else, then the reported-only ones.
const std::vector<std::string>& PreferredOrder() {
  static const std::vector<std::string> order = {
      kKeywordCoverage, kExactMatch,    kTokenF1,        kRougeL,    kBleu,
      kFormatCompliance, kRefusal,      kJudgeScore,     kHumanScore,   kReferenceLoss, kReferencePerplexity,
      kAnswerWords,     kLatencyMs,     kTokensPerSecond};
  return order;
}

}  // namespace

std::vector<std::string> ReportedMetrics(const RunResult& run) {
  std::set<std::string> present;
  for (const auto& m : run.models)
    for (const auto& [name, summary] : m.overall) present.insert(name);
  std::vector<std::string> out;
  for (const auto& name : PreferredOrder())
    if (present.count(name) && IsQualityMetric(name)) out.push_back(name);
  const auto& order = PreferredOrder();
  for (const auto& name : present)
    if (std::find(order.begin(), order.end(), name) == order.end()) out.push_back(name);
  for (const auto& name : order)
    if (present.count(name) && !IsQualityMetric(name)) out.push_back(name);
  return out;
}

std::string PrimaryMetric(const RunResult& run, size_t case_index) {
  if (case_index >= run.test_set.cases.size()) return "";
  const TestCase& c = run.test_set.cases[case_index];
  if (!c.keywords.empty()) return kKeywordCoverage;
  if (!c.reference.empty()) return kRougeL;
  if (c.format.kind != FormatRule::Kind::kNone) return kFormatCompliance;
  for (const auto& m : run.models)
    if (case_index < m.cases.size() && m.cases[case_index].metrics.count(kJudgeScore)) return kJudgeScore;
  return "";
}

Outcome CaseOutcome(const RunResult& run, size_t model, size_t case_index) {
  if (model == 0 || model >= run.models.size() || run.models.empty()) return Outcome::kNone;
  const auto& base = run.models[0].cases;
  const auto& cand = run.models[model].cases;
  if (case_index >= base.size() || case_index >= cand.size()) return Outcome::kNone;
  std::string metric = PrimaryMetric(run, case_index);
  if (metric.empty()) return Outcome::kNone;
  // Failed answers at their worst, as in the comparisons: both failing is a tie, not a loss.
  const TestCase* tc = &run.test_set.cases[case_index];
  const auto sa = JudgedScores(base[case_index], tc), sb = JudgedScores(cand[case_index], tc);
  auto a = sa.find(metric), b = sb.find(metric);
  if (a == sa.end() || b == sb.end()) return Outcome::kNone;
  double diff = HigherIsBetter(metric) ? b->second - a->second : a->second - b->second;
  if (std::fabs(diff) <= 1e-9) return Outcome::kTie;
  return diff > 0 ? Outcome::kWin : Outcome::kLoss;
}

bool CaseIsLoss(const RunResult& run, size_t case_index) {
  for (size_t m = 1; m < run.models.size(); ++m)
    if (CaseOutcome(run, m, case_index) == Outcome::kLoss) return true;
  return false;
}

std::vector<std::string> ComparedMetrics(const RunResult& run, const Comparison& c) {
  std::vector<std::string> out;
  if (c.by_metric.count(kOverallScore)) out.push_back(kOverallScore);
  for (const auto& metric : ReportedMetrics(run))
    if (c.by_metric.count(metric)) out.push_back(metric);
  return out;
}

std::string VerdictSentence(const RunResult& run, const Comparison& c) {
  std::map<Verdict, std::string> lists;
  for (const auto& metric : ReportedMetrics(run)) {
    auto it = c.by_metric.find(metric);
    if (it == c.by_metric.end()) continue;
    std::string& list = lists[it->second.verdict];
    list += (list.empty() ? "" : ", ") + metric;
  }
  std::string out;
  for (Verdict v : {Verdict::kBetter, Verdict::kWorse, Verdict::kNoSignificantDifference})
    if (auto it = lists.find(v); it != lists.end())
      out += (out.empty() ? "" : "; ") + std::string(VerdictName(v)) + " on " + it->second;
  if (auto primary = c.by_metric.find(kOverallScore); primary != c.by_metric.end())
    return std::string(VerdictName(primary->second.verdict)) + " overall (overallScore, the primary metric)" +
           (out.empty() ? "" : "; per metric (Holm-adjusted): " + out);
  return out.empty() ? "no metric to compare" : out;
}

static std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string FormatValue(std::string_view metric, double v) {
  if (!std::isfinite(v)) return "n/a";
  if (metric == kLatencyMs || metric == kAnswerWords) return Printf("%.0f", v);
  if (metric == kTokensPerSecond || metric == kReferencePerplexity || std::fabs(v) >= 100) return Printf("%.1f", v);
  return Printf("%.3f", v);
}

nlohmann::json IntervalToJson(const MeanInterval& i) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"n", i.n}, {"mean", number(i.mean)}, {"low", number(i.low)}, {"high", number(i.high)}};
}

std::string FormatP(double p) {
  if (!std::isfinite(p)) return "n/a";
  if (p < 0.001) return "< 0.001";
  return Printf("%.3f", p);
}

std::string FormatInterval(std::string_view metric, const MeanInterval& i) {
  return FormatValue(metric, i.mean) + " [" + FormatValue(metric, i.low) + ", " + FormatValue(metric, i.high) + "]";
}

std::string DirectionNote(std::string_view metric) {
  if (!IsQualityMetric(metric)) return metric == kTokensPerSecond ? " (higher is faster)" : "";
  return HigherIsBetter(metric) ? "" : " (lower is better)";
}

std::map<std::string, HumanMean> HumanMeans(const ModelResult& m) {
  std::map<std::string, HumanMean> sums;
  for (const auto& c : m.cases)
    for (const auto& [criterion, score] : c.human) {
      sums[criterion].mean += score;
      ++sums[criterion].n;
    }
  for (auto& [criterion, s] : sums) s.mean /= static_cast<double>(s.n);
  return sums;
}

bool HasHumanScores(const RunResult& run) {
  for (const auto& m : run.models)
    for (const auto& c : m.cases)
      if (!c.human.empty()) return true;
  return false;
}

std::vector<std::pair<size_t, size_t>> KeywordSpans(std::string_view text, const std::vector<std::string>& keywords) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (const KeywordOccurrence& o : KeywordOccurrences(text, keywords)) spans.emplace_back(o.begin, o.end);
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) merged.back().second = std::max(merged.back().second, s.second);
    else merged.push_back(s);
  }
  return merged;
}

}  // namespace lathe::eval::report_format
