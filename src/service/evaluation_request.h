// CreateEvaluationJob's request as lathe reads it: the service model's members checked (types,
// lengths, patterns; request_fields.h), then what lathe runs of it: the automated type with one
// custom dataset from S3 (or file://), one or two Bedrock models, and the metrics it computes.
// Everything else Bedrock offers (human workers, RAG, precomputed inference, custom metrics,
// evaluator models, built-in datasets) is a ValidationException that says lathe does not do it.
// Pure functions of the request: no store, no model lookups (evaluation_jobs.cc resolves models).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::service {

// Bounds beyond the service model's (docs/serve.md, Limits).
inline constexpr size_t kMaxEvaluationModels = 2;       // EvaluationModelConfigs max
inline constexpr size_t kMaxEvaluationMetricNames = 25;  // EvaluationMetricNames max
inline constexpr size_t kMaxEvaluationDatasetConfigs = 1;  // lathe: one dataset a job (Bedrock: 5)

// The generation settings a model's inferenceParams asked for (unset: lathe's defaults).
struct EvaluationInferenceParams {
  std::optional<double> temperature, top_p;
  std::optional<int> max_tokens;
  bool operator==(const EvaluationInferenceParams& o) const {
    return temperature == o.temperature && top_p == o.top_p && max_tokens == o.max_tokens;
  }
};

// The settings a job runs with: what is not given is temperature 0, topP 1, 128 tokens.
EvaluationInferenceParams WithDefaults(EvaluationInferenceParams p);

struct CheckedEvaluationRequest {
  std::string job_name, description, role_arn, token;
  std::string kms_key_id;  // customerEncryptionKeyId: echoed by GetEvaluationJob
  std::map<std::string, std::string> tags;
  std::string task_type;     // Summarization, Classification, QuestionAndAnswer, Generation, Custom
  std::string dataset_name;  // EvaluationDataset.name
  std::string dataset_uri;   // datasetLocation.s3Uri (or a file:// URI)
  std::vector<std::string> metric_names;  // as asked, in order, without repeats
  std::vector<std::string> model_identifiers;  // 1 or 2, as asked
  EvaluationInferenceParams params;            // the same for every model (lathe runs them alike)
  std::string output_uri;
};

Result<CheckedEvaluationRequest> CheckEvaluationRequest(const nlohmann::json& request);

// inferenceParams (a JSON string, 1..1023 bytes): {"inferenceConfig": {maxTokens, temperature,
// topP}} (Bedrock's console writes this), Titan's {"textGenerationConfig": {maxTokenCount,
// temperature, topP}}, or the same keys at the top (maxTokens / max_tokens / maxTokenCount,
// temperature, topP / top_p). Other keys are ignored; wrong types and out-of-range values are
// ValidationExceptions naming `member`.
Result<EvaluationInferenceParams> ParseInferenceParams(const std::string& text, const std::string& member);

// The metric names lathe computes, and what each reads from a case's scores (metrics.h keys):
//   Builtin.Accuracy  tokenF1 where the case has a referenceResponse, else keywordCoverage
//   Lathe.<key>       that key of metrics.h (keywordCoverage, exactMatch, tokenF1, rougeL, bleu,
//                     formatCompliance, refusal, answerWords, latencyMs, tokensPerSecond,
//                     referenceLoss, referencePerplexity)
bool IsSupportedEvaluationMetric(const std::string& name);
// One case's score for `name`, from the case's metrics.h scores; nullopt when it does not apply.
std::optional<double> EvaluationMetricScore(const std::string& name, const std::map<std::string, double>& metrics);
// "Builtin.Accuracy, Lathe.keywordCoverage, ...": what ValidationException messages list.
std::string SupportedEvaluationMetrics();

}  // namespace lathe::service
