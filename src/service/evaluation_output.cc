#include "service/evaluation_output.h"

#include <cstdio>
#include <filesystem>

#include "core/arn.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/statistics.h"
#include "service/evaluation_request.h"

namespace lathe::service {
using nlohmann::json;

namespace {

// An RFC 4122 version-4 shaped id for the output file's name, as Bedrock's are, derived from the
// job id and the model's index: a rerun of the job (after a restart) writes the same names, so it
// overwrites its earlier files instead of publishing a second set beside them.
std::string FileUuid(const std::string& job_id, size_t model_index) {
  const std::string key = job_id + "/" + std::to_string(model_index);
  auto fnv = [&](uint64_t h) {  // FNV-1a 64: stable across builds and platforms, unlike std::hash
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
    return h;
  };
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(fnv(14695981039346656037ULL)),
                static_cast<unsigned long long>(fnv(0x9e3779b97f4a7c15ULL)));
  const std::string h(hex, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-8" + h.substr(17, 3) + "-" + h.substr(20, 12);
}

// Builtin.Accuracy of each case both models answered and scored (per case: token F1 where the
// case has a reference, else keyword coverage), paired by case: what the published metric and the
// summary's mean are computed from, so the verdict is read from the same values.
eval::PairedComparison CompareAccuracy(const eval::ModelResult& a, const eval::ModelResult& b, uint64_t seed) {
  std::map<size_t, double> by_case;
  for (const auto& r : a.cases)
    if (r.answer.ok)
      if (auto v = EvaluationMetricScore("Builtin.Accuracy", r.metrics)) by_case[r.case_index] = *v;
  std::vector<double> va, vb;
  for (const auto& r : b.cases) {
    auto it = by_case.find(r.case_index);
    if (!r.answer.ok || it == by_case.end()) continue;
    if (auto v = EvaluationMetricScore("Builtin.Accuracy", r.metrics)) {
      va.push_back(it->second);
      vb.push_back(*v);
    }
  }
  return eval::ComparePaired(va, vb, /*higher_is_better=*/true, seed);
}

}  // namespace

std::string ModelFolderName(const std::string& identifier) {
  std::string out;
  for (char c : identifier.substr(0, 200))
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '-');
  // "." and ".." would be folders of their own on disk (file:// outputs).
  return out.find_first_not_of('.') == std::string::npos ? "model" + out : out;
}

json EvaluationOutputLine(const eval::TestCase& c, const eval::CaseResult& r, const std::string& identifier,
                          const std::vector<std::string>& metric_names) {
  json scores = json::array();
  if (r.answer.ok)
    for (const auto& name : metric_names)
      if (auto v = EvaluationMetricScore(name, r.metrics)) scores.push_back({{"metricName", name}, {"result", *v}});
  json response = {{"response", r.answer.ok ? r.answer.text : ""}, {"modelIdentifier", identifier}};
  if (!r.answer.ok) response["latheError"] = r.answer.error;  // why this case has no scores
  return {{"automatedEvaluationResult", {{"scores", scores}}},
          {"inputRecord", c.record},
          {"modelResponses", json::array({response})}};
}

Result<std::vector<std::string>> WriteEvaluationOutput(Env* env, const eval::RunResult& run, const EvaluationOutputJob& job,
                                                       const std::string& run_dir, const std::string& dir) {
  std::vector<std::string> written;
  const std::string root = dir + "/" + job.job_id;
  for (size_t m = 0; m < run.models.size(); ++m) {
    const eval::ModelResult& model = run.models[m];
    const std::string identifier = m < job.model_identifiers.size() ? job.model_identifiers[m] : model.model.identifier;
    const std::string folder = root + "/models/" + ModelFolderName(identifier) + "/taskTypes/" + job.task_type +
                               "/datasets/" + ModelFolderName(job.dataset_name);
    LATHE_RETURN_IF_ERROR(env->CreateDirs(folder));
    // Written a line at a time (10,000 cases of long records and answers are hundreds of MB),
    // under a temporary name renamed once complete.
    const std::string path = folder + "/" + FileUuid(job.job_id, m) + "_output.jsonl";
    std::unique_ptr<AtomicFileWriter> file;
    LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, path, &file));
    for (const auto& r : model.cases) {
      if (r.case_index >= run.test_set.cases.size())
        return Status::Corruption("the run's report names case " + std::to_string(r.case_index) + " of " +
                                  std::to_string(run.test_set.cases.size()));
      LATHE_RETURN_IF_ERROR(file->Append(EvaluationOutputLine(run.test_set.cases[r.case_index], r, identifier,
                                                              job.metric_names)
                                             .dump(-1, ' ', false, json::error_handler_t::replace) +
                                         "\n"));
    }
    LATHE_RETURN_IF_ERROR(file->Commit());
    written.push_back(path);
  }
  for (const char* name : eval::kReportFiles) {
    const std::string from = run_dir + "/" + name;
    if (!env->FileExists(from)) continue;
    std::string bytes;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, from, &bytes));
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, root + "/" + name, bytes));
    written.push_back(root + "/" + name);
  }
  return written;
}

json EvaluationSummary(const eval::RunResult& run, const EvaluationOutputJob& job) {
  json models = json::array();
  for (size_t m = 0; m < run.models.size(); ++m) {
    const eval::ModelResult& model = run.models[m];
    json means = json::object();
    for (const auto& [key, summary] : model.overall) means[key] = summary.interval.mean;
    // The requested Bedrock metric names, averaged over the cases they apply to.
    for (const auto& name : job.metric_names) {
      double sum = 0;
      size_t n = 0;
      for (const auto& r : model.cases)
        if (r.answer.ok)
          if (auto v = EvaluationMetricScore(name, r.metrics)) sum += *v, ++n;
      if (n > 0) means[name] = sum / static_cast<double>(n);
    }
    json entry = {{"label", model.model.label},
                      {"modelIdentifier", m < job.model_identifiers.size() ? job.model_identifiers[m] : model.model.identifier},
                      {"overallScore", model.overall_score},
                      {"cases", model.cases.size()},
                      {"failed", model.failed},
                      {"metrics", means}};
    for (const auto& r : model.cases)
      if (!r.answer.ok) {  // why answers failed, for a caller that gets no scores at all
        entry["firstError"] = r.answer.error.substr(0, 512);
        break;
      }
    models.push_back(std::move(entry));
  }
  json comparisons = json::array();
  for (const auto& c : run.comparisons) {
    json by_metric = json::object();
    for (const auto& [key, p] : c.by_metric)
      by_metric[key] = {{"verdict", eval::VerdictName(p.verdict)}, {"meanDifference", p.mean_diff},
                        {"ciLow", p.ci_low}, {"ciHigh", p.ci_high}, {"wins", p.wins}, {"ties", p.ties},
                        {"losses", p.losses}};
    const eval::ModelResult *base = nullptr, *candidate = nullptr;
    for (const auto& m : run.models) {
      if (m.model.label == c.baseline_label) base = &m;
      if (m.model.label == c.candidate_label) candidate = &m;
    }
    std::string verdict = "no significant difference";
    if (base && candidate) {
      const eval::PairedComparison p = CompareAccuracy(*base, *candidate, run.bootstrap_seed);
      by_metric["Builtin.Accuracy"] = {{"verdict", eval::VerdictName(p.verdict)}, {"meanDifference", p.mean_diff},
                                       {"ciLow", p.ci_low}, {"ciHigh", p.ci_high}, {"wins", p.wins},
                                       {"ties", p.ties}, {"losses", p.losses}, {"pairs", p.n}};
      verdict = eval::VerdictName(p.verdict);
    }
    comparisons.push_back({{"baseline", c.baseline_label},
                           {"candidate", c.candidate_label},
                           {"verdictMetric", "Builtin.Accuracy"},
                           {"verdict", verdict},
                           {"byMetric", by_metric}});
  }
  return {{"runId", run.run_id}, {"cases", run.test_set.cases.size()}, {"models", models}, {"comparisons", comparisons}};
}

}  // namespace lathe::service
