// The one place the built-ins run a Bedrock evaluation job and wait for it: evaluate-finetuned-
// model (base vs the custom model) and register-model-version (the alias holder vs the candidate,
// for the promotion gate) both build a CreateEvaluationJob request and hand it here. An interface,
// so a unit test can answer with a fixed summary instead of running models.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/evaluation_jobs.h"

namespace lathe::lambda {

// A finished evaluation job: its ARN, where report.json went, and EvaluationJobService::Results'
// "summary" (models[i] in the request's order, comparisons[0] = models[1] against models[0]).
struct CompletedEvaluation {
  std::string arn, report_uri;
  nlohmann::json summary;
};

class EvaluationRunner {
 public:
  virtual ~EvaluationRunner() = default;
  // Creates the job and waits for it within `timeout_s` (a second kept for the answer) or until
  // `stopping` is set. The request's jobName is a base (EvaluationJobName): the job's name and
  // clientRequestToken get a hash of the request, so asking for the same evaluation again waits
  // on the job an earlier call started instead of starting another. Errors carry the function error type as their AWS code: EvaluationTimeout
  // (it goes on running), EvaluationFailed, ServiceUnavailable (the server is going down), or the
  // evaluation service's own (ValidationException, ...).
  virtual Result<CompletedEvaluation> Run(const nlohmann::json& create_request, const std::string& region,
                                          int timeout_s, const std::atomic<bool>& stopping) = 0;
};

// The real one, over lathe's evaluation jobs.
class JobEvaluationRunner : public EvaluationRunner {
 public:
  explicit JobEvaluationRunner(service::EvaluationJobService* evaluations) : evaluations_(evaluations) {}
  Result<CompletedEvaluation> Run(const nlohmann::json& create_request, const std::string& region, int timeout_s,
                                  const std::atomic<bool>& stopping) override;

 private:
  service::EvaluationJobService* evaluations_;
};

// The base of an evaluation job's name from a model's ("<prefix>-<slug of at most 30>"):
// EvaluationJobName admits [a-z0-9] runs joined by hyphens, at most 63 characters, which leaves
// room for the runner's "-<12 hex>[-<attempt>]".
std::string EvaluationJobName(const std::string& prefix, const std::string& model_name);

// FNV-1a 64 as 16 hex digits: stable across builds and runs (unlike std::hash), so names derived
// from a request find what an earlier call made.
std::string StableHash(const std::string& text);
// "a, b,c" -> {"a", "b", "c"}: the METRIC_NAMES setting of the built-ins that run evaluations.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace lathe::lambda
