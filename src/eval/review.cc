// `lathe eval review`: a person scores each case's answers on the rubric, blind. The answers of
// a case are shown in BlindOrder, numbered, never labelled; scores are stored per model after
// undoing the shuffle. review.json (beside report.json) is the journal: rewritten atomically
// after every case, read back on resume, so a review survives "q", Ctrl-D or a crash.
#include "eval/review.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>

#include "core/json_nesting.h"
#include "core/utf8.h"
#include "eval/report.h"
#include "eval/report_format.h"

namespace lathe::eval {

const std::vector<std::string>& RubricCriteria() {
  static const std::vector<std::string> criteria = {"accuracy", "relevance", "tone", "completeness", "formatting"};
  return criteria;
}

std::vector<size_t> BlindOrder(const RunResult& run, size_t case_index) {
  // Seeded by the run (its id and bootstrap seed) and the case, with a Fisher-Yates shuffle over
  // mt19937_64's output (fully specified by the standard, unlike std::shuffle's use of it), so
  // every machine shows the same order and a resumed review the same numbering.
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the run id
  for (unsigned char c : run.run_id) h = (h ^ c) * 1099511628211ull;
  std::seed_seq seq{static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32),
                    static_cast<uint32_t>(run.bootstrap_seed), static_cast<uint32_t>(run.bootstrap_seed >> 32),
                    static_cast<uint32_t>(case_index), static_cast<uint32_t>(uint64_t{case_index} >> 32)};
  std::mt19937_64 rng(seq);
  std::vector<size_t> order(run.models.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

namespace {

using json = nlohmann::json;

constexpr size_t kMaxInputLine = 4096;  // longer lines are read through and rejected

// The journal: per reviewed case, skipped or one score map per model (in model order, {} for a
// model whose answer failed).
struct Journal {
  std::map<size_t, bool> skipped;  // case index -> skipped (false: scored)
  std::map<size_t, std::vector<std::map<std::string, double>>> scores;
};

json JournalToJson(const RunResult& run, const Journal& j) {
  json models = json::array();
  for (const auto& m : run.models) models.push_back(m.model.label);
  json cases = json::array();
  for (const auto& [index, skipped] : j.skipped) {
    json c = {{"case", index}, {"skipped", skipped}};
    if (!skipped) {
      json scores = json::array();
      for (const auto& per_model : j.scores.at(index)) {
        json s = json::object();
        for (const auto& [criterion, v] : per_model) s[criterion] = static_cast<int>(v);  // whole 1..5
        scores.push_back(std::move(s));
      }
      c["scores"] = std::move(scores);
    }
    cases.push_back(std::move(c));
  }
  return {{"runId", run.run_id}, {"models", models}, {"cases", cases}};
}

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": " + what + " (delete it to start the review again)");
}

Status ReadJournal(Env* env, const std::string& path, const RunResult& run, Journal* out) {
  if (!env->FileExists(path)) return Status::Ok();
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  if (size > kMaxReportBytes) return Bad(path, "larger than " + std::to_string(kMaxReportBytes) + " bytes");
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  if (!JsonNestingWithin(text, 8)) return Bad(path, "nested too deeply");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad(path, "not a JSON object");
  if (!j.contains("runId") || j["runId"] != run.run_id) return Bad(path, "written for another run than report.json's");
  if (!j.contains("cases") || !j["cases"].is_array() || j["cases"].size() > run.test_set.cases.size())
    return Bad(path, "\"cases\" must be an array of at most one entry per case");
  const auto& criteria = RubricCriteria();
  for (size_t k = 0; k < j["cases"].size(); ++k) {
    const json& c = j["cases"][k];
    std::string at = "cases[" + std::to_string(k) + "]";
    if (!c.is_object() || !c.contains("case") || !c["case"].is_number_unsigned() ||
        c["case"].get<uint64_t>() >= run.test_set.cases.size())
      return Bad(path, at + ".case: expected the index of a case");
    size_t index = c["case"].get<size_t>();
    bool skipped = c.contains("skipped") && c["skipped"].is_boolean() && c["skipped"].get<bool>();
    out->skipped[index] = skipped;
    if (skipped) continue;
    if (!c.contains("scores") || !c["scores"].is_array() || c["scores"].size() != run.models.size())
      return Bad(path, at + ".scores: expected one object per model");
    auto& per_model = out->scores[index];
    per_model.assign(run.models.size(), {});
    for (size_t m = 0; m < run.models.size(); ++m) {
      const json& s = c["scores"][m];
      if (!s.is_object()) return Bad(path, at + ".scores: expected objects");
      for (const auto& criterion : criteria) {
        if (!s.contains(criterion)) continue;
        const json& v = s[criterion];
        if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() < 1 ||
            v.get<double>() > 5)
          return Bad(path, at + ".scores[" + std::to_string(m) + "]." + criterion + ": expected 1 to 5");
        per_model[m][criterion] = v.get<double>();
      }
    }
  }
  return Status::Ok();
}

void Apply(const Journal& j, RunResult* run) {
  for (const auto& [index, per_model] : j.scores)
    for (size_t m = 0; m < per_model.size() && m < run->models.size(); ++m)
      if (index < run->models[m].cases.size() && !per_model[m].empty()) run->models[m].cases[index].human = per_model[m];
}

// Model answers may hold terminal escape sequences and text that reorders what is shown: after
// invalid UTF-8 becomes U+FFFD (so no raw C1 byte such as 0x9B, a CSI, survives), C0 controls and
// DEL are shown as ^X, C1 controls (U+0080..U+009F) and the bidirectional controls (U+061C,
// U+200E/F, U+202A..U+202E, U+2066..U+2069) as U+FFFD: nothing reaches the terminal as a command,
// and an answer cannot make itself read backwards.
std::string TerminalSafe(std::string_view raw) {
  const std::string text = SanitizeUtf8(raw);
  std::string out;
  out.reserve(text.size());
  auto at = [&](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0; };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = at(i);
    if (c == '\n' || c == '\t') {
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += std::string("^") + static_cast<char>(c + 64);
    } else if (c == 0x7f) {
      out += "^?";
    } else if (c == 0xC2 && at(i + 1) >= 0x80 && at(i + 1) <= 0x9F) {  // C1
      out += "\xEF\xBF\xBD";
      i += 1;
    } else if ((c == 0xD8 && at(i + 1) == 0x9C) ||                                          // U+061C
               (c == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) == 0x8E || at(i + 2) == 0x8F ||  // U+200E/F
                                                   (at(i + 2) >= 0xAA && at(i + 2) <= 0xAE))) ||  // U+202A..E
               (c == 0xE2 && at(i + 1) == 0x81 && at(i + 2) >= 0xA6 && at(i + 2) <= 0xA9)) {   // U+2066..9
      out += "\xEF\xBF\xBD";
      i += c == 0xD8 ? 1 : 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The guide's rubric ("Human Evaluation Metrics"), shown once at the start.
constexpr const char* kRubricLegend =
    "Score each answer 1 (poor), 3 (good) to 5 (excellent) on:\n"
    "  accuracy      incorrect info .. mostly correct .. completely accurate\n"
    "  relevance     off-topic .. somewhat relevant .. directly addresses the question\n"
    "  tone          inappropriate .. acceptable .. perfect for the context\n"
    "  completeness  missing key info .. adequate .. comprehensive\n"
    "  formatting    confusing .. readable .. well-structured\n";

enum class LineKind { kScores, kSkip, kQuit, kBad };

// One line of the person's input; EOF reads as "q" (Ctrl-D saves and quits).
LineKind ReadAnswer(std::FILE* in, std::map<std::string, double>* scores) {
  std::string line;
  bool eof = true;
  for (int ch; (ch = std::fgetc(in)) != EOF;) {
    eof = false;
    if (ch == '\n') break;
    if (line.size() <= kMaxInputLine) line += static_cast<char>(ch);
  }
  if (eof) return LineKind::kQuit;
  if (line.size() > kMaxInputLine) return LineKind::kBad;
  std::vector<std::string> tokens;
  std::string token;
  for (char c : line + " ") {
    if (c == ' ' || c == ',' || c == '\t' || c == '\r') {
      if (!token.empty()) tokens.push_back(token);
      token.clear();
    } else {
      token += c;
    }
  }
  if (tokens.size() == 1 && (tokens[0] == "q" || tokens[0] == "Q")) return LineKind::kQuit;
  if (tokens.size() == 1 && (tokens[0] == "s" || tokens[0] == "S")) return LineKind::kSkip;
  const auto& criteria = RubricCriteria();
  if (tokens.size() == 1 && tokens[0].size() == criteria.size()) {  // "45344"
    std::string digits = tokens[0];
    tokens.clear();
    for (char d : digits) tokens.emplace_back(1, d);
  }
  if (tokens.size() != criteria.size()) return LineKind::kBad;
  scores->clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].size() != 1 || tokens[i][0] < '1' || tokens[i][0] > '5') return LineKind::kBad;
    (*scores)[criteria[i]] = tokens[i][0] - '0';
  }
  return LineKind::kScores;
}

void Print(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

// Shows one case and collects a score line per answered model. kScores when all are in.
LineKind ReviewCase(const RunResult& run, size_t index, size_t position, size_t remaining, const ReviewOptions& o,
                    std::vector<std::map<std::string, double>>* scores) {
  const TestCase& c = run.test_set.cases[index];
  std::ostringstream s;
  s << "\n=== Case " << index + 1 << " of " << run.test_set.cases.size() << " (reviewing " << position << " of "
    << remaining << ") - " << TerminalSafe(c.category) << " - " << TerminalSafe(c.id) << "\n\nPrompt:\n"
    << TerminalSafe(c.DisplayPrompt()) << "\n";
  if (!c.reference.empty()) s << "\nReference answer:\n" << TerminalSafe(c.reference) << "\n";
  std::vector<size_t> order = BlindOrder(run, index);
  for (size_t p = 0; p < order.size(); ++p) {
    const Answer& a = run.models[order[p]].cases[index].answer;
    s << "\n--- Answer " << p + 1 << " ---\n" << (a.ok ? TerminalSafe(a.text) : "[no answer: the model failed]") << "\n";
  }
  Print(o.out, s.str());
  scores->assign(run.models.size(), {});
  std::string names;
  for (const auto& c : RubricCriteria()) names += (names.empty() ? "" : " ") + c;
  for (size_t p = 0; p < order.size(); ++p) {
    if (!run.models[order[p]].cases[index].answer.ok) continue;  // nothing to score
    for (;;) {
      Print(o.out, "\nAnswer " + std::to_string(p + 1) + ": " + names + " (1-5 each, e.g. 4 5 3 4 4; s: skip case, q: save and quit)\n> ");
      std::map<std::string, double> line;
      LineKind k = ReadAnswer(o.in, &line);
      if (k == LineKind::kBad) {
        Print(o.out, "Please give five whole scores from 1 (poor) to 5 (excellent), or s, or q.\n");
        continue;
      }
      if (k != LineKind::kScores) return k;
      (*scores)[order[p]] = std::move(line);  // un-shuffled: stored under the model that wrote it
      break;
    }
  }
  return LineKind::kScores;
}

}  // namespace

Status RunReview(Env* env, const ReviewOptions& options) {
  auto loaded = ReadReport(env, options.run_dir);
  if (!loaded.ok()) return loaded.status();
  RunResult run = std::move(loaded).value();
  std::string journal_path = options.run_dir + "/review.json";
  Journal journal;
  LATHE_RETURN_IF_ERROR(ReadJournal(env, journal_path, run, &journal));

  size_t total = run.test_set.cases.size(), remaining = total - journal.skipped.size(), position = 0;
  Print(options.out, "Blind review of run " + TerminalSafe(run.run_id) + ": " + std::to_string(remaining) + " of " +
                         std::to_string(total) + " cases to review, " + std::to_string(run.models.size()) +
                         " answers each, shown in a shuffled order without model names.\n" + kRubricLegend);
  bool quit = false;
  for (size_t i = 0; i < total && !quit; ++i) {
    if (journal.skipped.count(i)) continue;
    std::vector<std::map<std::string, double>> scores;
    LineKind k = ReviewCase(run, i, ++position, remaining, options, &scores);
    if (k == LineKind::kQuit) {
      quit = true;  // this case's partial scores are dropped; it is asked again on resume
      break;
    }
    journal.skipped[i] = k == LineKind::kSkip;
    if (k == LineKind::kScores) journal.scores[i] = std::move(scores);
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, journal_path, report_format::DumpJson(JournalToJson(run, journal), 2) + "\n"));
  }

  Apply(journal, &run);
  run.human_reviewed = journal.skipped.size() == total;
  Summarize(&run);
  LATHE_RETURN_IF_ERROR(WriteReports(env, run, options.run_dir));
  size_t scored = journal.scores.size();
  Print(options.out, std::string("\n") + (quit ? "Saved. " : "Review complete. ") + std::to_string(scored) + " of " +
                         std::to_string(total) + " cases scored, " + std::to_string(journal.skipped.size() - scored) +
                         " skipped" + (quit ? "; run `lathe eval review " + options.run_dir + "` again to go on" : "") +
                         ". Reports rewritten in " + options.run_dir + "\n");
  return Status::Ok();
}

}  // namespace lathe::eval
