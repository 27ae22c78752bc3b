#include "data/stats.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "data/dedup.h"
#include "data/example_reader.h"
#include "text/tokenizer.h"

namespace lathe::data {
namespace {

std::vector<DuplicateGroup> Groups(const std::unordered_map<uint64_t, std::vector<uint64_t>>& by_key) {
  std::vector<DuplicateGroup> out;
  for (const auto& [key, lines] : by_key)
    if (lines.size() > 1) out.push_back({lines});
  std::sort(out.begin(), out.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
    return a.lines.front() < b.lines.front();
  });
  return out;
}

std::string Lines(const std::vector<uint64_t>& lines, size_t max = 8) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < max; ++i) out += (i ? ", " : "") + std::to_string(lines[i]);
  if (lines.size() > max) out += ", ... (" + std::to_string(lines.size()) + " in all)";
  return out;
}

// "1 group", "3 groups".
std::string Count(uint64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string Percent(double share) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * share);
  return buf;
}

}  // namespace

LengthSummary Summarize(std::vector<uint64_t> lengths) {
  LengthSummary s;
  s.histogram.assign(kLengthBuckets.size() + 1, 0);
  s.count = lengths.size();
  if (lengths.empty()) return s;
  std::sort(lengths.begin(), lengths.end());
  s.min = lengths.front();
  s.max = lengths.back();
  s.median = lengths[(lengths.size() - 1) / 2];
  s.p90 = lengths[(lengths.size() - 1) * 9 / 10];
  double sum = 0;
  for (uint64_t v : lengths) {
    sum += static_cast<double>(v);
    size_t b = static_cast<size_t>(std::upper_bound(kLengthBuckets.begin(), kLengthBuckets.end(), v) - kLengthBuckets.begin());
    s.histogram[b]++;
  }
  s.mean = sum / static_cast<double>(lengths.size());
  return s;
}

Result<DatasetStats> ComputeStats(Env* env, const std::string& path, const std::string& validation_path,
                                  const text::Tokenizer* tokenizer) {
  DatasetStats s;
  s.file = path;
  std::unique_ptr<ExampleReader> reader;
  LATHE_RETURN_IF_ERROR(ExampleReader::Open(env, path, Format::kAuto, &reader));
  std::vector<uint64_t> pc, cc, pt, ct;
  std::unordered_map<uint64_t, std::vector<uint64_t>> exact, normalized;
  std::map<std::string, uint64_t> words;
  Record r;
  while (reader->Next(&r)) {
    const Example& e = r.example;
    s.records++;
    const bool pre = e.format == Format::kPretraining;
    std::string_view prompt = pre ? std::string_view(e.input) : e.Prompt();
    std::string_view completion = e.Completion();
    pc.push_back(CountCodePoints(prompt));
    if (tokenizer) pt.push_back(tokenizer->CountTokens(prompt));
    if (!pre) {
      uint64_t chars = CountCodePoints(completion);
      cc.push_back(chars);
      if (tokenizer) ct.push_back(tokenizer->CountTokens(completion));
      if (chars < kShortCompletionChars) s.short_completions.push_back(r.line);
      if (chars > kLongCompletionChars) s.long_completions.push_back(r.line);
    }
    exact[ExactKey(e)].push_back(r.line);
    normalized[NormalizedKey(e)].push_back(r.line);
    words[FirstWord(e)]++;
  }
  LATHE_RETURN_IF_ERROR(reader->status());
  if (s.records == 0) return Status::InvalidArgument(path + " holds no records");
  s.format = reader->format();
  s.prompt_chars = Summarize(std::move(pc));
  s.completion_chars = Summarize(std::move(cc));
  if (tokenizer) {
    s.prompt_tokens = Summarize(std::move(pt));
    s.completion_tokens = Summarize(std::move(ct));
  }
  s.exact_duplicates = Groups(exact);
  s.normalized_duplicates = Groups(normalized);
  for (auto& [w, n] : words) s.categories.push_back({w, n});
  std::stable_sort(s.categories.begin(), s.categories.end(),
                   [](const CategoryCount& a, const CategoryCount& b) { return a.count > b.count; });

  if (!validation_path.empty()) {
    s.validation_file = validation_path;
    std::unique_ptr<ExampleReader> val;
    LATHE_RETURN_IF_ERROR(ExampleReader::Open(env, validation_path, s.format, &val));
    while (val->Next(&r)) {
      s.validation_records++;
      auto it = normalized.find(NormalizedKey(r.example));
      if (it != normalized.end()) s.leaks.push_back({r.line, it->second.front()});
    }
    LATHE_RETURN_IF_ERROR(val->status());
  }

  // The tutorial's check_data_quality, plus duplicates and leakage.
  if (!s.exact_duplicates.empty())
    s.warnings.push_back(Count(s.exact_duplicates.size(), "group") + " of exact duplicates");
  else if (!s.normalized_duplicates.empty())
    s.warnings.push_back(Count(s.normalized_duplicates.size(), "group") +
                         " of records that differ only in case, punctuation or spacing");
  if (s.completion_chars.count > 0 &&
      static_cast<double>(s.short_completions.size()) > kShortCompletionShare * static_cast<double>(s.completion_chars.count))
    s.warnings.push_back(Count(s.short_completions.size(), "completion") + " (" +
                         Percent(static_cast<double>(s.short_completions.size()) / static_cast<double>(s.completion_chars.count)) +
                         ") under 20 characters; more than 10% teaches terse answers");
  if (!s.long_completions.empty())
    s.warnings.push_back(Count(s.long_completions.size(), "completion") + " over 2000 characters");
  if (!s.leaks.empty())
    s.warnings.push_back(Count(s.leaks.size(), "validation record") +
                         " also in the training file: validation loss will look better than it is");
  return s;
}

std::string FormatStats(const DatasetStats& s) {
  const bool pre = s.format == Format::kPretraining;
  std::string out = s.file + ": " + std::to_string(s.records) + " " + FormatName(s.format) + " records\n";
  auto row = [](const char* label, const LengthSummary& l) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-20s min %6llu  median %6llu  p90 %6llu  max %6llu  mean %8.1f\n", label,
                  static_cast<unsigned long long>(l.min), static_cast<unsigned long long>(l.median),
                  static_cast<unsigned long long>(l.p90), static_cast<unsigned long long>(l.max), l.mean);
    return std::string(buf);
  };
  out += "\nLengths\n";
  out += row(pre ? "input chars" : "prompt chars", s.prompt_chars);
  if (!pre) out += row("completion chars", s.completion_chars);
  if (s.prompt_tokens) out += row(pre ? "input tokens" : "prompt tokens", *s.prompt_tokens);
  if (s.completion_tokens && !pre) out += row("completion tokens", *s.completion_tokens);

  const LengthSummary& hist = pre ? s.prompt_chars : s.completion_chars;
  out += std::string("\n") + (pre ? "Input" : "Completion") + " length histogram (characters)\n";
  uint64_t peak = *std::max_element(hist.histogram.begin(), hist.histogram.end());
  for (size_t b = 0; b < hist.histogram.size(); ++b) {
    std::string label = b == 0 ? "< " + std::to_string(kLengthBuckets[0])
                        : b < kLengthBuckets.size() ? std::to_string(kLengthBuckets[b - 1]) + "-" + std::to_string(kLengthBuckets[b] - 1)
                                                    : ">= " + std::to_string(kLengthBuckets.back());
    size_t bar = peak ? static_cast<size_t>(40 * hist.histogram[b] / peak) : 0;
    char buf[96];
    std::snprintf(buf, sizeof buf, "  %-10s %6llu  ", label.c_str(), static_cast<unsigned long long>(hist.histogram[b]));
    out += buf + std::string(bar, '#') + "\n";
  }

  out += "\nDuplicates\n";
  out += "  exact:      " + Count(s.exact_duplicates.size(), "group") + "\n";
  for (size_t i = 0; i < s.exact_duplicates.size() && i < 5; ++i)
    out += "    lines " + Lines(s.exact_duplicates[i].lines) + "\n";
  out += "  normalized: " + Count(s.normalized_duplicates.size(), "group") + " (case, punctuation and spacing ignored)\n";
  for (size_t i = 0; i < s.normalized_duplicates.size() && i < 5; ++i)
    out += "    lines " + Lines(s.normalized_duplicates[i].lines) + "\n";

  if (!pre) {
    out += "\nCompletion quality (tutorial thresholds)\n";
    out += "  under 20 chars: " + std::to_string(s.short_completions.size()) + " (" +
           Percent(s.completion_chars.count ? static_cast<double>(s.short_completions.size()) / static_cast<double>(s.completion_chars.count) : 0) +
           ", warn above 10%)" + (s.short_completions.empty() ? "" : " lines " + Lines(s.short_completions)) + "\n";
    out += "  over 2000 chars: " + std::to_string(s.long_completions.size()) +
           (s.long_completions.empty() ? "" : " lines " + Lines(s.long_completions)) + "\n";
  }

  out += "\nBalance by first word of the " + std::string(pre ? "input" : "prompt") + " (" +
         std::to_string(s.categories.size()) + " categories)\n";
  for (size_t i = 0; i < s.categories.size() && i < 10; ++i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "  %-14s %6llu  %6s\n", s.categories[i].word.empty() ? "(none)" : s.categories[i].word.c_str(),
                  static_cast<unsigned long long>(s.categories[i].count),
                  Percent(static_cast<double>(s.categories[i].count) / static_cast<double>(s.records)).c_str());
    out += buf;
  }
  if (s.categories.size() > 10) out += "  ... " + std::to_string(s.categories.size() - 10) + " more\n";

  if (!s.validation_file.empty()) {
    out += "\nLeakage into " + s.validation_file + " (" + Count(s.validation_records, "record") + ")\n";
    out += "  " + Count(s.leaks.size(), "validation record") + " also in training\n";
    for (size_t i = 0; i < s.leaks.size() && i < 8; ++i)
      out += "    validation line " + std::to_string(s.leaks[i].validation_line) + " = training line " +
             std::to_string(s.leaks[i].training_line) + "\n";
  }

  out += "\nWarnings\n";
  if (s.warnings.empty()) out += "  none\n";
  for (const auto& w : s.warnings) out += "  - " + w + "\n";
  return out;
}

nlohmann::json StatsToJson(const DatasetStats& s) {
  auto lengths = [](const LengthSummary& l) {
    return nlohmann::json{{"count", l.count}, {"min", l.min}, {"median", l.median}, {"p90", l.p90},
                          {"max", l.max}, {"mean", l.mean}, {"histogram", l.histogram}};
  };
  auto groups = [](const std::vector<DuplicateGroup>& g) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& d : g) a.push_back(d.lines);
    return a;
  };
  nlohmann::json j = {{"file", s.file},
                      {"format", FormatName(s.format)},
                      {"records", s.records},
                      {"lengthBuckets", kLengthBuckets},
                      {"promptChars", lengths(s.prompt_chars)},
                      {"completionChars", lengths(s.completion_chars)},
                      {"exactDuplicates", groups(s.exact_duplicates)},
                      {"normalizedDuplicates", groups(s.normalized_duplicates)},
                      {"shortCompletions", s.short_completions},
                      {"longCompletions", s.long_completions},
                      {"warnings", s.warnings}};
  if (s.prompt_tokens) j["promptTokens"] = lengths(*s.prompt_tokens);
  if (s.completion_tokens) j["completionTokens"] = lengths(*s.completion_tokens);
  nlohmann::json cats = nlohmann::json::array();
  for (const auto& c : s.categories) cats.push_back({{"word", c.word}, {"count", c.count}});
  j["categories"] = cats;
  if (!s.validation_file.empty()) {
    nlohmann::json leaks = nlohmann::json::array();
    for (const auto& l : s.leaks) leaks.push_back({{"validationLine", l.validation_line}, {"trainingLine", l.training_line}});
    j["validation"] = {{"file", s.validation_file}, {"records", s.validation_records}, {"leaks", leaks}};
  }
  return j;
}

}  // namespace lathe::data
