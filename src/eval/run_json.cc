// report.json: a run as JSON and back. Writing is plain; reading checks every type and size,
// because the file is one a person may edit (after a review, or by hand) before re-rendering.
// Errors name the JSON path ("models[1].cases[3].latencyMs: expected a number, got string").
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "eval/evaluation.h"
#include "eval/metrics.h"
#include "eval/report_format.h"
#include "eval/report.h"

namespace lathe::eval {
namespace {

using json = nlohmann::json;

// JSON has no NaN or infinity (nlohmann writes them as null): non-finite numbers are written as
// null and read back as NaN.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ScoreMap(const std::map<std::string, double>& m) {
  json o = json::object();
  for (const auto& [k, v] : m)
    if (std::isfinite(v)) o[k] = v;  // absent = not applicable, as in CaseResult::metrics
  return o;
}

json SummaryMap(const std::map<std::string, MetricSummary>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = report_format::IntervalToJson(v.interval);
  return o;
}

json FormatToJson(const FormatRule& f) {
  switch (f.kind) {
    case FormatRule::Kind::kRegex: return {{"regex", f.regex}};
    case FormatRule::Kind::kJsonSchema: return {{"jsonSchema", f.schema}};
    case FormatRule::Kind::kNone: break;
  }
  return nullptr;
}

json CaseToJson(const TestCase& c) {
  json j = {{"id", c.id}, {"line", c.line}, {"category", c.category}};
  if (!c.messages.empty()) {
    json ms = json::array();
    for (const auto& m : c.messages) ms.push_back({{"role", m.role}, {"content", m.content}});
    j["messages"] = std::move(ms);
  } else {
    j["prompt"] = c.prompt;
  }
  if (!c.reference.empty()) j["referenceResponse"] = c.reference;
  if (!c.keywords.empty()) j["expectedKeywords"] = c.keywords;
  if (c.format.kind != FormatRule::Kind::kNone) j["format"] = FormatToJson(c.format);
  j["inputRecord"] = c.record.is_null() ? json::object() : c.record;
  return j;
}

json CaseResultToJson(const CaseResult& r) {
  json j = {{"caseIndex", r.case_index},
            {"ok", r.answer.ok},
            {"text", r.answer.text},
            {"latencyMs", Number(r.answer.latency_ms)},
            {"batchShareMs", Number(r.answer.batch_share_ms)},
            {"outputTokens", r.answer.output_tokens},
            {"stopReason", r.answer.stop_reason},
            {"metrics", ScoreMap(r.metrics)},
            {"keywordsHit", r.keywords_hit}};
  if (!r.answer.ok) j["error"] = r.answer.error;
  if (!r.human.empty()) j["human"] = ScoreMap(r.human);
  if (!r.judge.empty()) j["judge"] = ScoreMap(r.judge);
  return j;
}

json ModelToJson(const ModelResult& m) {
  json by_category = json::object();
  for (const auto& [cat, metrics] : m.by_category) by_category[cat] = SummaryMap(metrics);
  json cases = json::array();
  for (const auto& c : m.cases) cases.push_back(CaseResultToJson(c));
  return {{"label", m.model.label},
          {"identifier", m.model.identifier},
          {"resolved", m.model.resolved},
          {"failed", m.failed},
          {"overallScore", Number(m.overall_score)},
          {"formatUndecided", m.format_undecided},
          {"latencyP50Ms", Number(m.latency_p50_ms)},
          {"latencyP95Ms", Number(m.latency_p95_ms)},
          {"tokensPerSecond", Number(m.tokens_per_second)},
          {"corpusBleu", Number(m.corpus_bleu)},
          {"metrics", SummaryMap(m.overall)},
          {"byCategory", std::move(by_category)},
          {"cases", std::move(cases)}};
}

json PairedToJson(const PairedComparison& p) {
  return {{"n", p.n},
          {"wins", p.wins},
          {"ties", p.ties},
          {"losses", p.losses},
          {"meanBaseline", Number(p.mean_a)},
          {"meanCandidate", Number(p.mean_b)},
          {"meanDiff", Number(p.mean_diff)},
          {"ciLow", Number(p.ci_low)},
          {"ciHigh", Number(p.ci_high)},
          {"signTestP", Number(p.sign_test_p)},
          {"adjustedP", Number(p.adjusted_p)},
          {"verdict", VerdictName(p.verdict)}};
}

// The automation tutorial's evaluation_report.json (Lab 4's evaluate_models.py), from the first
// two models, so scripts written against that file read report.json unchanged.
void AddTutorialKeys(const RunResult& run, json* j) {
  const ModelResult* base = run.models.size() > 0 ? &run.models[0] : nullptr;
  const ModelResult* tuned = run.models.size() > 1 ? &run.models[1] : nullptr;
  // The script's error texts: "[Error invoking base model: {e}]" and "[Error invoking
  // fine-tuned model: {e}]" (Lab 4's get_base_response / get_finetuned_response).
  auto answer = [](const ModelResult* m, size_t i, const char* which) -> std::string {
    if (!m || i >= m->cases.size()) return "";
    const Answer& a = m->cases[i].answer;
    return a.ok ? a.text : std::string("[Error invoking ") + which + " model: " + a.error + "]";
  };
  json results = json::array();
  size_t in_domain = 0, out_of_domain = 0;
  for (size_t i = 0; i < run.test_set.cases.size(); ++i) {
    const TestCase& c = run.test_set.cases[i];
    json r = {{"prompt", c.DisplayPrompt()},
              {"category", c.category},
              {"base_response", answer(base, i, "base")},
              {"finetuned_response", answer(tuned, i, "fine-tuned")}};
    if (c.record.is_object() && c.record.contains("expected_theme")) r["expected_theme"] = c.record["expected_theme"];
    results.push_back(std::move(r));
    // The script's own counts: substrings of the category.
    if (c.category.find("In-Domain") != std::string::npos) ++in_domain;
    if (c.category.find("Out-of-Domain") != std::string::npos) ++out_of_domain;
  }
  (*j)["evaluation_date"] = run.created;
  (*j)["base_model"] = base ? base->model.identifier : "";
  (*j)["finetuned_model_arn"] = tuned ? tuned->model.identifier : "";
  (*j)["results"] = std::move(results);
  (*j)["summary"] = {{"total_tests", run.test_set.cases.size()},
                     {"in_domain_tests", in_domain},
                     {"out_of_domain_tests", out_of_domain}};
}

// ---- Reading -------------------------------------------------------------------------------

const char* TypeName(const json& j) { return j.type_name(); }

Status Wrong(const std::string& path, const std::string& what) {
  return Status::InvalidArgument((path.empty() ? std::string("(top level)") : path) + ": " + what);
}

Status ExpectType(const json& j, json::value_t t, const char* name, const std::string& path) {
  bool ok = j.type() == t || (t == json::value_t::number_float && j.is_number()) ||
            (t == json::value_t::number_unsigned &&
             (j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0)));
  if (!ok) return Wrong(path, std::string("expected ") + name + ", got " + TypeName(j));
  return Status::Ok();
}

std::string Sub(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string At(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Reads object members by name: absent members keep their defaults, present ones must have the
// right type and size.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  Status Check() const { return ExpectType(j_, json::value_t::object, "an object", path_); }
  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  std::string PathOf(const char* key) const { return Sub(path_, key); }

  Status String(const char* key, std::string* out, size_t max = kMaxReportStringBytes) const {
    const json* v = Find(key);
    if (!v) return Status::Ok();
    LATHE_RETURN_IF_ERROR(ExpectType(*v, json::value_t::string, "a string", PathOf(key)));
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) return Wrong(PathOf(key), "longer than " + std::to_string(max) + " bytes");
    *out = s;
    return Status::Ok();
  }
  // null reads as NaN (what Number() wrote for a non-finite value).
  Status Double(const char* key, double* out) const {
    const json* v = Find(key);
    if (!v) return Status::Ok();
    if (v->is_null()) {
      *out = std::numeric_limits<double>::quiet_NaN();
      return Status::Ok();
    }
    LATHE_RETURN_IF_ERROR(ExpectType(*v, json::value_t::number_float, "a number", PathOf(key)));
    *out = v->get<double>();
    return Status::Ok();
  }
  template <typename T>
  Status Count(const char* key, T* out, uint64_t max = std::numeric_limits<uint32_t>::max()) const {
    const json* v = Find(key);
    if (!v) return Status::Ok();
    LATHE_RETURN_IF_ERROR(ExpectType(*v, json::value_t::number_unsigned, "a non-negative integer", PathOf(key)));
    uint64_t n = v->get<uint64_t>();
    if (n > max) return Wrong(PathOf(key), "larger than " + std::to_string(max));
    *out = static_cast<T>(n);
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const json* v = Find(key);
    if (!v) return Status::Ok();
    LATHE_RETURN_IF_ERROR(ExpectType(*v, json::value_t::boolean, "true or false", PathOf(key)));
    *out = v->get<bool>();
    return Status::Ok();
  }
  // An array member with at most `max` elements; nullptr when absent.
  Status Array(const char* key, size_t max, const json** out) const {
    *out = Find(key);
    if (!*out) return Status::Ok();
    LATHE_RETURN_IF_ERROR(ExpectType(**out, json::value_t::array, "an array", PathOf(key)));
    if ((*out)->size() > max) return Wrong(PathOf(key), "more than " + std::to_string(max) + " elements");
    return Status::Ok();
  }
  Status Object(const char* key, size_t max, const json** out) const {
    *out = Find(key);
    if (!*out) return Status::Ok();
    LATHE_RETURN_IF_ERROR(ExpectType(**out, json::value_t::object, "an object", PathOf(key)));
    if ((*out)->size() > max) return Wrong(PathOf(key), "more than " + std::to_string(max) + " members");
    return Status::Ok();
  }
  Status Strings(const char* key, size_t max_count, size_t max_bytes, std::vector<std::string>* out) const {
    const json* a;
    LATHE_RETURN_IF_ERROR(Array(key, max_count, &a));
    if (!a) return Status::Ok();
    out->clear();
    for (size_t i = 0; i < a->size(); ++i) {
      const json& s = (*a)[i];
      LATHE_RETURN_IF_ERROR(ExpectType(s, json::value_t::string, "a string", At(PathOf(key), i)));
      if (s.get_ref<const std::string&>().size() > max_bytes)
        return Wrong(At(PathOf(key), i), "longer than " + std::to_string(max_bytes) + " bytes");
      out->push_back(s.get<std::string>());
    }
    return Status::Ok();
  }
  // {name: number}; names bounded like metric keys.
  Status Scores(const char* key, std::map<std::string, double>* out) const {
    const json* o;
    LATHE_RETURN_IF_ERROR(Object(key, kMaxReportMapEntries, &o));
    if (!o) return Status::Ok();
    out->clear();
    for (const auto& [name, v] : o->items()) {
      std::string p = Sub(PathOf(key), name);
      if (name.size() > 128) return Wrong(PathOf(key), "a name longer than 128 bytes");
      LATHE_RETURN_IF_ERROR(ExpectType(v, json::value_t::number_float, "a number", p));
      (*out)[name] = v.get<double>();
    }
    return Status::Ok();
  }

 private:
  const json& j_;
  std::string path_;
};

Status ReadInterval(const json& j, const std::string& path, MeanInterval* out) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.Count("n", &out->n, kMaxCases));
  LATHE_RETURN_IF_ERROR(r.Double("mean", &out->mean));
  LATHE_RETURN_IF_ERROR(r.Double("low", &out->low));
  return r.Double("high", &out->high);
}

Status ReadSummaryMap(const json& j, const std::string& path, std::map<std::string, MetricSummary>* out) {
  LATHE_RETURN_IF_ERROR(ExpectType(j, json::value_t::object, "an object", path));
  if (j.size() > kMaxReportMapEntries) return Wrong(path, "more than " + std::to_string(kMaxReportMapEntries) + " metrics");
  for (const auto& [name, v] : j.items()) {
    if (name.size() > 128) return Wrong(path, "a metric name longer than 128 bytes");
    LATHE_RETURN_IF_ERROR(ReadInterval(v, Sub(path, name), &(*out)[name].interval));
  }
  return Status::Ok();
}

Status ReadTestCase(const json& j, const std::string& path, TestCase* c) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.String("id", &c->id, kMaxIdBytes));
  LATHE_RETURN_IF_ERROR(r.Count("line", &c->line, std::numeric_limits<uint64_t>::max()));
  LATHE_RETURN_IF_ERROR(r.String("category", &c->category, kMaxCategoryBytes));
  LATHE_RETURN_IF_ERROR(r.String("prompt", &c->prompt));
  const json* messages;
  LATHE_RETURN_IF_ERROR(r.Array("messages", kMaxMessages, &messages));
  if (messages) {
    for (size_t i = 0; i < messages->size(); ++i) {
      ObjectReader m((*messages)[i], At(r.PathOf("messages"), i));
      LATHE_RETURN_IF_ERROR(m.Check());
      text::ChatMessage msg;
      LATHE_RETURN_IF_ERROR(m.String("role", &msg.role, 32));
      LATHE_RETURN_IF_ERROR(m.String("content", &msg.content));
      c->messages.push_back(std::move(msg));
    }
  }
  if (c->prompt.empty() && c->messages.empty()) return Wrong(path, "a case needs \"prompt\" or \"messages\"");
  LATHE_RETURN_IF_ERROR(r.String("referenceResponse", &c->reference));
  LATHE_RETURN_IF_ERROR(r.Strings("expectedKeywords", kMaxKeywords, kMaxKeywordBytes, &c->keywords));
  if (const json* f = r.Find("format"); f && !f->is_null()) {
    ObjectReader fr(*f, r.PathOf("format"));
    LATHE_RETURN_IF_ERROR(fr.Check());
    if (fr.Find("regex")) {
      c->format.kind = FormatRule::Kind::kRegex;
      LATHE_RETURN_IF_ERROR(fr.String("regex", &c->format.regex, kMaxRegexBytes));
    } else if (const json* s = fr.Find("jsonSchema")) {
      if (s->dump().size() > kMaxSchemaBytes) return Wrong(fr.PathOf("jsonSchema"), "larger than the schema limit");
      c->format.kind = FormatRule::Kind::kJsonSchema;
      c->format.schema = *s;
    } else {
      return Wrong(r.PathOf("format"), "expected {\"regex\": ...} or {\"jsonSchema\": ...}");
    }
  }
  if (const json* rec = r.Find("inputRecord")) {
    LATHE_RETURN_IF_ERROR(ExpectType(*rec, json::value_t::object, "an object", r.PathOf("inputRecord")));
    c->record = *rec;
  }
  return Status::Ok();
}

Status ReadCaseResult(const json& j, const std::string& path, size_t cases, CaseResult* out) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.Count("caseIndex", &out->case_index, cases == 0 ? 0 : cases - 1));
  LATHE_RETURN_IF_ERROR(r.Bool("ok", &out->answer.ok));
  LATHE_RETURN_IF_ERROR(r.String("text", &out->answer.text));
  LATHE_RETURN_IF_ERROR(r.String("error", &out->answer.error));
  LATHE_RETURN_IF_ERROR(r.Double("latencyMs", &out->answer.latency_ms));
  LATHE_RETURN_IF_ERROR(r.Double("batchShareMs", &out->answer.batch_share_ms));
  LATHE_RETURN_IF_ERROR(r.Count("outputTokens", &out->answer.output_tokens, std::numeric_limits<int>::max()));
  LATHE_RETURN_IF_ERROR(r.String("stopReason", &out->answer.stop_reason, 64));
  LATHE_RETURN_IF_ERROR(r.Scores("metrics", &out->metrics));
  LATHE_RETURN_IF_ERROR(r.Strings("keywordsHit", kMaxKeywords, kMaxKeywordBytes, &out->keywords_hit));
  LATHE_RETURN_IF_ERROR(r.Scores("human", &out->human));
  return r.Scores("judge", &out->judge);
}

Status ReadModel(const json& j, const std::string& path, size_t cases, ModelResult* m) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.String("label", &m->model.label, 256));
  LATHE_RETURN_IF_ERROR(r.String("identifier", &m->model.identifier, 4096));
  LATHE_RETURN_IF_ERROR(r.String("resolved", &m->model.resolved, 4096));
  LATHE_RETURN_IF_ERROR(r.Count("failed", &m->failed, cases));
  LATHE_RETURN_IF_ERROR(r.Double("overallScore", &m->overall_score));
  LATHE_RETURN_IF_ERROR(r.Double("latencyP50Ms", &m->latency_p50_ms));
  LATHE_RETURN_IF_ERROR(r.Double("latencyP95Ms", &m->latency_p95_ms));
  LATHE_RETURN_IF_ERROR(r.Double("tokensPerSecond", &m->tokens_per_second));
  LATHE_RETURN_IF_ERROR(r.Double("corpusBleu", &m->corpus_bleu));
  if (const json* o = r.Find("metrics")) LATHE_RETURN_IF_ERROR(ReadSummaryMap(*o, r.PathOf("metrics"), &m->overall));
  const json* by_category;
  LATHE_RETURN_IF_ERROR(r.Object("byCategory", kMaxCases, &by_category));
  if (by_category) {
    for (const auto& [cat, v] : by_category->items()) {
      if (cat.size() > kMaxCategoryBytes) return Wrong(r.PathOf("byCategory"), "a category longer than the limit");
      LATHE_RETURN_IF_ERROR(ReadSummaryMap(v, Sub(r.PathOf("byCategory"), cat), &m->by_category[cat]));
    }
  }
  const json* results;
  LATHE_RETURN_IF_ERROR(r.Array("cases", kMaxCases, &results));
  if (!results || results->size() != cases)
    return Wrong(r.PathOf("cases"), "expected one result per test case (" + std::to_string(cases) + ")");
  m->cases.resize(cases);
  for (size_t i = 0; i < cases; ++i) {
    m->cases[i].case_index = i;
    LATHE_RETURN_IF_ERROR(ReadCaseResult((*results)[i], At(r.PathOf("cases"), i), cases, &m->cases[i]));
    if (m->cases[i].case_index != i) return Wrong(At(r.PathOf("cases"), i), "caseIndex out of test-set order");
  }
  return Status::Ok();
}

Status ReadVerdict(const ObjectReader& r, Verdict* v) {
  std::string name = VerdictName(Verdict::kNoSignificantDifference);
  LATHE_RETURN_IF_ERROR(r.String("verdict", &name, 64));
  for (Verdict candidate : {Verdict::kBetter, Verdict::kWorse, Verdict::kNoSignificantDifference})
    if (name == VerdictName(candidate)) {
      *v = candidate;
      return Status::Ok();
    }
  return Wrong(r.PathOf("verdict"), "expected \"better\", \"worse\" or \"no significant difference\"");
}

Status ReadComparison(const json& j, const std::string& path, Comparison* c) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.String("baseline", &c->baseline_label, 256));
  LATHE_RETURN_IF_ERROR(r.String("candidate", &c->candidate_label, 256));
  const json* metrics;
  LATHE_RETURN_IF_ERROR(r.Object("metrics", kMaxReportMapEntries, &metrics));
  if (!metrics) return Status::Ok();
  for (const auto& [name, v] : metrics->items()) {
    ObjectReader p(v, Sub(r.PathOf("metrics"), name));
    LATHE_RETURN_IF_ERROR(p.Check());
    PairedComparison& pc = c->by_metric[name];
    LATHE_RETURN_IF_ERROR(p.Count("n", &pc.n, kMaxCases));
    LATHE_RETURN_IF_ERROR(p.Count("wins", &pc.wins, kMaxCases));
    LATHE_RETURN_IF_ERROR(p.Count("ties", &pc.ties, kMaxCases));
    LATHE_RETURN_IF_ERROR(p.Count("losses", &pc.losses, kMaxCases));
    LATHE_RETURN_IF_ERROR(p.Double("meanBaseline", &pc.mean_a));
    LATHE_RETURN_IF_ERROR(p.Double("meanCandidate", &pc.mean_b));
    LATHE_RETURN_IF_ERROR(p.Double("meanDiff", &pc.mean_diff));
    LATHE_RETURN_IF_ERROR(p.Double("ciLow", &pc.ci_low));
    LATHE_RETURN_IF_ERROR(p.Double("ciHigh", &pc.ci_high));
    LATHE_RETURN_IF_ERROR(p.Double("signTestP", &pc.sign_test_p));
    pc.adjusted_p = pc.sign_test_p;  // a report from before the adjustment
    LATHE_RETURN_IF_ERROR(p.Double("adjustedP", &pc.adjusted_p));
    LATHE_RETURN_IF_ERROR(ReadVerdict(p, &pc.verdict));
  }
  return Status::Ok();
}

Status ReadSettings(const json& j, const std::string& path, GenerationSettings* s) {
  ObjectReader r(j, path);
  LATHE_RETURN_IF_ERROR(r.Check());
  LATHE_RETURN_IF_ERROR(r.Double("temperature", &s->temperature));
  LATHE_RETURN_IF_ERROR(r.Double("topP", &s->top_p));
  LATHE_RETURN_IF_ERROR(r.Count("maxTokens", &s->max_tokens, std::numeric_limits<int>::max()));
  LATHE_RETURN_IF_ERROR(r.Count("seed", &s->seed, std::numeric_limits<uint64_t>::max()));
  LATHE_RETURN_IF_ERROR(r.Strings("stopSequences", 16, 1024, &s->stop_sequences));
  return r.Count("batchSize", &s->batch_size, std::numeric_limits<int>::max());
}

}  // namespace

json SettingsToJson(const GenerationSettings& s) {
  return {{"temperature", s.temperature}, {"topP", s.top_p},         {"maxTokens", s.max_tokens},
          {"seed", s.seed},               {"stopSequences", s.stop_sequences}, {"batchSize", s.batch_size}};
}

json RunToJson(const RunResult& run) {
  json cases = json::array();
  for (const auto& c : run.test_set.cases) cases.push_back(CaseToJson(c));
  json models = json::array();
  for (const auto& m : run.models) models.push_back(ModelToJson(m));
  json comparisons = json::array();
  for (const auto& c : run.comparisons) {
    json metrics = json::object();
    for (const auto& [name, p] : c.by_metric) metrics[name] = PairedToJson(p);
    comparisons.push_back({{"baseline", c.baseline_label}, {"candidate", c.candidate_label}, {"metrics", metrics}});
  }
  json j = {{"reportVersion", 1},
            {"runId", run.run_id},
            {"created", run.created},
            {"settings", SettingsToJson(run.settings)},
            {"bootstrapSeed", run.bootstrap_seed},
            {"humanReviewed", run.human_reviewed},
            {"testSet", {{"source", run.test_set.source}, {"cases", std::move(cases)}}},
            {"models", std::move(models)},
            {"comparisons", std::move(comparisons)},
            {"judge", {{"model", run.judge_model}, {"agreement", ScoreMap(run.judge_agreement)}}}};
  AddTutorialKeys(run, &j);
  return j;
}

Result<RunResult> RunFromJson(const json& j) {
  RunResult run;
  ObjectReader r(j, "");
  LATHE_RETURN_IF_ERROR(r.Check());
  int version = 1;
  LATHE_RETURN_IF_ERROR(r.Count("reportVersion", &version, 1000));
  if (version != 1) return Wrong("reportVersion", "this lathe reads version 1 reports, not " + std::to_string(version));
  LATHE_RETURN_IF_ERROR(r.String("runId", &run.run_id, 256));
  LATHE_RETURN_IF_ERROR(r.String("created", &run.created, 64));
  if (const json* s = r.Find("settings")) LATHE_RETURN_IF_ERROR(ReadSettings(*s, "settings", &run.settings));
  LATHE_RETURN_IF_ERROR(r.Count("bootstrapSeed", &run.bootstrap_seed, std::numeric_limits<uint64_t>::max()));
  LATHE_RETURN_IF_ERROR(r.Bool("humanReviewed", &run.human_reviewed));

  const json* test_set = r.Find("testSet");
  if (!test_set) return Wrong("testSet", "missing");
  ObjectReader ts(*test_set, "testSet");
  LATHE_RETURN_IF_ERROR(ts.Check());
  LATHE_RETURN_IF_ERROR(ts.String("source", &run.test_set.source, 4096));
  const json* cases;
  LATHE_RETURN_IF_ERROR(ts.Array("cases", kMaxCases, &cases));
  if (!cases || cases->empty()) return Wrong("testSet.cases", "expected at least one case");
  run.test_set.cases.resize(cases->size());
  for (size_t i = 0; i < cases->size(); ++i)
    LATHE_RETURN_IF_ERROR(ReadTestCase((*cases)[i], At("testSet.cases", i), &run.test_set.cases[i]));

  const json* models;
  LATHE_RETURN_IF_ERROR(r.Array("models", kMaxReportModels, &models));
  if (!models || models->empty()) return Wrong("models", "expected at least one model");
  run.models.resize(models->size());
  for (size_t i = 0; i < models->size(); ++i)
    LATHE_RETURN_IF_ERROR(ReadModel((*models)[i], At("models", i), cases->size(), &run.models[i]));

  const json* comparisons;
  LATHE_RETURN_IF_ERROR(r.Array("comparisons", kMaxReportModels, &comparisons));
  if (comparisons) {
    run.comparisons.resize(comparisons->size());
    for (size_t i = 0; i < comparisons->size(); ++i)
      LATHE_RETURN_IF_ERROR(ReadComparison((*comparisons)[i], At("comparisons", i), &run.comparisons[i]));
  }
  if (const json* judge = r.Find("judge")) {
    ObjectReader jr(*judge, "judge");
    LATHE_RETURN_IF_ERROR(jr.Check());
    LATHE_RETURN_IF_ERROR(jr.String("model", &run.judge_model, 4096));
    LATHE_RETURN_IF_ERROR(jr.Scores("agreement", &run.judge_agreement));
  }
  return run;
}

}  // namespace lathe::eval
