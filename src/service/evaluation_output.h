// A finished evaluation job's results in Bedrock's layout (the user guide's "Understand how the
// results of your model evaluation job are saved in Amazon S3"), written into a local folder that
// the runner then publishes under <outputDataConfig.s3Uri>/<jobName>/:
//   <jobId>/models/<modelId>/taskTypes/<taskType>/datasets/<datasetName>/<uuid>_output.jsonl
// one line per case: {"automatedEvaluationResult": {"scores": [{"metricName", "result"}, ...]},
// "inputRecord": <the case's line as read>, "modelResponses": [{"response", "modelIdentifier"}]};
// plus lathe's report.json, report.md and report.html at <jobId>/ (copied from the run's folder).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::service {

struct EvaluationOutputJob {
  std::string job_id, task_type, dataset_name;
  std::vector<std::string> metric_names;       // as the request named them
  std::vector<std::string> model_identifiers;  // as the request named them, in run order
};

// The folder name Bedrock's layout gives a model: its identifier with every character outside
// [A-Za-z0-9._-] replaced by '-' (an ARN's ':' and '/'), at most 200 bytes, never "." or "..".
// The dataset's folder is named the same way.
std::string ModelFolderName(const std::string& identifier);

// One output line for a case's result (exposed for tests).
nlohmann::json EvaluationOutputLine(const eval::TestCase& c, const eval::CaseResult& r, const std::string& identifier,
                                    const std::vector<std::string>& metric_names);

// Writes <dir>/<jobId>/models/... for every model of `run`, and copies the run folder's reports
// (report.json/md/html, those that exist) to <dir>/<jobId>/. Returns the files written.
Result<std::vector<std::string>> WriteEvaluationOutput(Env* env, const eval::RunResult& run, const EvaluationOutputJob& job,
                                                       const std::string& run_dir, const std::string& dir);

// What the job keeps of a run (the pipeline's evaluate-finetuned-model reads it): per model its
// identifier, overallScore, cases, failed (and firstError, the first failed case's error) and
// per-metric means (Builtin.Accuracy's and the requested metrics' means too); per comparison the
// verdict, read from Builtin.Accuracy's per-case values paired by case (the values the published
// metric and its mean come from), and per-metric verdicts.
nlohmann::json EvaluationSummary(const eval::RunResult& run, const EvaluationOutputJob& job);

}  // namespace lathe::service
