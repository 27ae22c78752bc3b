#include "service/evaluation_request.h"

#include <algorithm>
#include <cmath>

#include "eval/metrics.h"
#include "service/request_fields.h"
#include "service/s3_uri.h"

namespace lathe::service {
using nlohmann::json;

namespace {

Status Unsupported(const std::string& member, const std::string& what) {
  return ValidationError(member, "is not supported by lathe: " + what);
}

// metrics.h's keys a job may ask for as "Lathe.<key>" (judgeScore needs an evaluator model).
const std::vector<std::string>& LatheMetricKeys() {
  static const std::vector<std::string> keys = {
      eval::kKeywordCoverage, eval::kExactMatch,  eval::kTokenF1,   eval::kRougeL,
      eval::kBleu,            eval::kFormatCompliance, eval::kRefusal, eval::kAnswerWords,
      eval::kLatencyMs,       eval::kTokensPerSecond, eval::kReferenceLoss, eval::kReferencePerplexity};
  return keys;
}

constexpr const char* kAccuracy = "Builtin.Accuracy";
constexpr const char* kLathePrefix = "Lathe.";

// A number member of inferenceParams in [lo, hi] (absent: nullopt).
Result<std::optional<double>> Number(const json& obj, const char* key, double lo, double hi, const std::string& member) {
  if (!obj.contains(key) || obj[key].is_null()) return std::optional<double>();
  const json& v = obj[key];
  if (!v.is_number()) return ValidationError(member, std::string("'s ") + key + " must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return ValidationError(member, std::string("'s ") + key + " must be between " + json(lo).dump() + " and " +
                                       json(hi).dump());
  return std::optional<double>(d);
}

// Keys of `obj` outside `known`: named in a ValidationException rather than silently ignored (a
// setting the caller believes applied, e.g. topK or stopSequences, would not be).
Status OnlyKnownKeys(const json& obj, const std::vector<const char*>& known, const std::string& member,
                     const std::string& where) {
  std::string unknown;
  for (const auto& item : obj.items()) {
    const std::string& k = item.key();  // a plain reference: clang 14 cannot capture a structured binding
    if (std::find_if(known.begin(), known.end(), [&](const char* n) { return k == n; }) != known.end()) continue;
    if (unknown.size() > 200) break;
    unknown += (unknown.empty() ? "" : ", ") + k.substr(0, 64);
  }
  if (unknown.empty()) return Status::Ok();
  std::string supported;
  for (const char* n : known) supported += (supported.empty() ? "" : ", ") + std::string(n);
  return ValidationError(member, where + " has keys lathe does not apply (" + unknown + "); it reads " + supported);
}

Status Merge(const json& obj, const std::vector<const char*>& max_keys, const char* top_p_key,
             EvaluationInferenceParams* p, const std::string& member) {
  LATHE_ASSIGN_OR_RETURN(auto t, Number(obj, "temperature", 0, 2, member));
  if (t) p->temperature = t;
  LATHE_ASSIGN_OR_RETURN(auto tp, Number(obj, top_p_key, 0, 1, member));
  if (tp && *tp <= 0) return ValidationError(member, std::string("'s ") + top_p_key + " must be more than 0");
  if (tp) p->top_p = tp;
  for (const char* k : max_keys) {
    // `lathe eval run`'s --max-tokens bound: every answer, hence every metric's input, is bounded.
    LATHE_ASSIGN_OR_RETURN(auto m, Number(obj, k, 1, 4096, member));
    if (m) p->max_tokens = static_cast<int>(*m);
  }
  return Status::Ok();
}

}  // namespace

bool IsSupportedEvaluationMetric(const std::string& name) {
  if (name == kAccuracy) return true;
  if (name.rfind(kLathePrefix, 0) != 0) return false;
  const std::string key = name.substr(6);
  const auto& keys = LatheMetricKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::optional<double> EvaluationMetricScore(const std::string& name, const std::map<std::string, double>& metrics) {
  auto get = [&](const char* key) -> std::optional<double> {
    auto it = metrics.find(key);
    if (it == metrics.end()) return std::nullopt;
    return it->second;
  };
  if (name == kAccuracy) {
    if (auto f1 = get(eval::kTokenF1)) return f1;  // the case has a reference answer
    return get(eval::kKeywordCoverage);
  }
  if (name.rfind(kLathePrefix, 0) == 0) return get(name.substr(6).c_str());
  return std::nullopt;
}

std::string SupportedEvaluationMetrics() {
  std::string out = kAccuracy;
  for (const auto& k : LatheMetricKeys()) out += ", " + std::string(kLathePrefix) + k;
  return out;
}

Result<EvaluationInferenceParams> ParseInferenceParams(const std::string& text, const std::string& member) {
  LATHE_RETURN_IF_ERROR(CheckLength(text, member, rules::kEvaluationModelInferenceParams));
  auto parsed = ParseRequestJson(text);
  if (!parsed.ok() || !parsed->is_object())
    return ValidationError(member, "must be a JSON object in a string, e.g. "
                                   "{\"inferenceConfig\": {\"maxTokens\": 128, \"temperature\": 0, \"topP\": 1}}");
  EvaluationInferenceParams p;
  const json& j = *parsed;
  LATHE_RETURN_IF_ERROR(OnlyKnownKeys(j, {"temperature", "topP", "top_p", "maxTokens", "max_tokens", "maxTokenCount",
                                          "textGenerationConfig", "inferenceConfig"}, member, "it"));
  if (j.contains("top_p") && j.contains("topP"))
    return ValidationError(member, "gives both top_p and topP; give one");
  LATHE_RETURN_IF_ERROR(Merge(j, {"maxTokens", "max_tokens", "maxTokenCount"}, j.contains("top_p") ? "top_p" : "topP", &p, member));
  if (j.contains("textGenerationConfig")) {
    if (!j["textGenerationConfig"].is_object()) return ValidationError(member, "'s textGenerationConfig must be an object");
    LATHE_RETURN_IF_ERROR(OnlyKnownKeys(j["textGenerationConfig"], {"temperature", "topP", "maxTokenCount"}, member,
                                        "its textGenerationConfig"));
    LATHE_RETURN_IF_ERROR(Merge(j["textGenerationConfig"], {"maxTokenCount"}, "topP", &p, member));
  }
  if (j.contains("inferenceConfig")) {
    if (!j["inferenceConfig"].is_object()) return ValidationError(member, "'s inferenceConfig must be an object");
    LATHE_RETURN_IF_ERROR(OnlyKnownKeys(j["inferenceConfig"], {"temperature", "topP", "maxTokens"}, member,
                                        "its inferenceConfig"));
    LATHE_RETURN_IF_ERROR(Merge(j["inferenceConfig"], {"maxTokens"}, "topP", &p, member));
  }
  return p;
}

EvaluationInferenceParams WithDefaults(EvaluationInferenceParams p) {
  p.temperature = p.temperature.value_or(0.0);
  p.top_p = p.top_p.value_or(1.0);
  p.max_tokens = p.max_tokens.value_or(128);
  return p;
}

Result<CheckedEvaluationRequest> CheckEvaluationRequest(const json& req) {
  CheckedEvaluationRequest c;
  if (!req.is_object()) return ValidationError("body", "must be a JSON object");
  LATHE_ASSIGN_OR_RETURN(c.job_name, RequireString(req, "jobName", rules::kEvaluationJobName));
  LATHE_ASSIGN_OR_RETURN(c.role_arn, RequireString(req, "roleArn", rules::kRoleArn));
  LATHE_ASSIGN_OR_RETURN(auto description, OptionalString(req, "jobDescription", rules::kEvaluationJobDescription));
  c.description = description.value_or("");
  LATHE_ASSIGN_OR_RETURN(auto token, OptionalString(req, "clientRequestToken", rules::kIdempotencyToken));
  c.token = token.value_or("");
  LATHE_ASSIGN_OR_RETURN(auto kms, OptionalString(req, "customerEncryptionKeyId", rules::kKmsKeyId));
  c.kms_key_id = kms.value_or("");  // lathe's outputs are not encrypted; the key id is echoed, unused
  LATHE_ASSIGN_OR_RETURN(c.tags, TagList(req, "jobTags"));
  LATHE_ASSIGN_OR_RETURN(auto app, OptionalEnum(req, "applicationType", {"ModelEvaluation", "RagEvaluation"},
                                                "ModelEvaluation"));
  if (app != "ModelEvaluation") return Unsupported("applicationType", "RAG evaluation (knowledge bases); use ModelEvaluation");

  // evaluationConfig: a union of automated and human.
  LATHE_ASSIGN_OR_RETURN(const json* config, RequireObject(req, "evaluationConfig"));
  if (config->contains("human") && !(*config)["human"].is_null())
    return Unsupported("evaluationConfig.human", "evaluation jobs with human workers; lathe runs automated jobs "
                                                 "(for human review of a run's answers see `lathe eval review`)");
  LATHE_ASSIGN_OR_RETURN(const json* automated, RequireObject(*config, "automated", "evaluationConfig"));
  const std::string a = "evaluationConfig.automated";
  for (const char* key : {"evaluatorModelConfig", "customMetricConfig"})
    if (automated->contains(key) && !(*automated)[key].is_null())
      return Unsupported(a + "." + key, std::string(key) == "customMetricConfig"
                                            ? "custom metrics (lathe computes Builtin.Accuracy and its Lathe.* metrics)"
                                            : "evaluator (LLM-as-a-judge) models in evaluation jobs");
  LATHE_ASSIGN_OR_RETURN(const json* configs, OptionalList(*automated, "datasetMetricConfigs", 5, a));
  if (!configs || configs->empty()) return ValidationError(a + ".datasetMetricConfigs", "must have length greater than or equal to 1");
  if (configs->size() > kMaxEvaluationDatasetConfigs)
    return Unsupported(a + ".datasetMetricConfigs", "more than one dataset in a job; create one job per dataset");
  const std::string dc = a + ".datasetMetricConfigs.1.member";
  const json& one = (*configs)[0];
  if (!one.is_object()) return ValidationError(dc, "must be an object");
  LATHE_ASSIGN_OR_RETURN(c.task_type, RequireString(one, "taskType", FieldRule{"EvaluationTaskType", 1, 63, nullptr}, dc));
  static const std::vector<std::string> kTasks = {"Summarization", "Classification", "QuestionAndAnswer", "Generation", "Custom"};
  if (std::find(kTasks.begin(), kTasks.end(), c.task_type) == kTasks.end())
    return ValidationError(dc + ".taskType",
                           "must satisfy enum value set: [Summarization, Classification, QuestionAndAnswer, Generation, Custom]");
  LATHE_ASSIGN_OR_RETURN(const json* dataset, RequireObject(one, "dataset", dc));
  LATHE_ASSIGN_OR_RETURN(c.dataset_name, RequireString(*dataset, "name", rules::kEvaluationDatasetName, dc + ".dataset"));
  LATHE_ASSIGN_OR_RETURN(const json* location, OptionalObject(*dataset, "datasetLocation", dc + ".dataset"));
  if (!location)
    return Unsupported(dc + ".dataset.datasetLocation", "built-in datasets (" + c.dataset_name +
                                                            "); give a custom dataset as datasetLocation.s3Uri");
  LATHE_ASSIGN_OR_RETURN(c.dataset_uri, RequireString(*location, "s3Uri", rules::kS3Uri, dc + ".dataset.datasetLocation",
                                                      Check::kLengthOnly));
  if (IsS3Uri(c.dataset_uri)) LATHE_RETURN_IF_ERROR(CheckString(c.dataset_uri, dc + ".dataset.datasetLocation.s3Uri", rules::kS3Uri));
  LATHE_ASSIGN_OR_RETURN(auto metrics, StringList(one, "metricNames", rules::kEvaluationMetricName,
                                                  kMaxEvaluationMetricNames, dc));
  if (metrics.empty()) return ValidationError(dc + ".metricNames", "must have length greater than or equal to 1");
  for (const auto& m : metrics) {
    if (!IsSupportedEvaluationMetric(m))
      return ValidationError(dc + ".metricNames", "contains " + m + ", which lathe does not compute; supported: " +
                                                      SupportedEvaluationMetrics());
    if (std::find(c.metric_names.begin(), c.metric_names.end(), m) == c.metric_names.end()) c.metric_names.push_back(m);
  }

  // inferenceConfig: a union of models and ragConfigs.
  LATHE_ASSIGN_OR_RETURN(const json* inference, RequireObject(req, "inferenceConfig"));
  if (inference->contains("ragConfigs") && !(*inference)["ragConfigs"].is_null())
    return Unsupported("inferenceConfig.ragConfigs", "RAG evaluation (knowledge bases)");
  LATHE_ASSIGN_OR_RETURN(const json* models, OptionalList(*inference, "models", kMaxEvaluationModels, "inferenceConfig"));
  if (!models || models->empty()) return ValidationError("inferenceConfig.models", "must have length greater than or equal to 1");
  for (size_t i = 0; i < models->size(); ++i) {
    const std::string m = "inferenceConfig.models." + std::to_string(i + 1) + ".member";
    const json& model = (*models)[i];
    if (!model.is_object()) return ValidationError(m, "must be an object");
    if (model.contains("precomputedInferenceSource") && !model["precomputedInferenceSource"].is_null())
      return Unsupported(m + ".precomputedInferenceSource", "precomputed inference (bring-your-own responses); lathe "
                                                            "generates the answers with the models named");
    LATHE_ASSIGN_OR_RETURN(const json* bedrock, RequireObject(model, "bedrockModel", m));
    LATHE_ASSIGN_OR_RETURN(auto id, RequireString(*bedrock, "modelIdentifier", rules::kEvaluationBedrockModelIdentifier,
                                                  m + ".bedrockModel"));
    EvaluationInferenceParams params;
    LATHE_ASSIGN_OR_RETURN(auto text, OptionalString(*bedrock, "inferenceParams", rules::kEvaluationModelInferenceParams,
                                                     m + ".bedrockModel"));
    if (text) {
      LATHE_ASSIGN_OR_RETURN(params, ParseInferenceParams(*text, m + ".bedrockModel.inferenceParams"));
    }
    // Compared as they will run, defaults applied: {"maxTokens": 128} and {} are the same settings.
    params = WithDefaults(params);
    if (i == 0) c.params = params;
    else if (!(params == c.params))
      return Unsupported(m + ".bedrockModel.inferenceParams", "different generation settings per model; lathe answers "
                                                              "every case with the same settings for each model, so the "
                                                              "comparison is fair: give both the same inferenceParams");
    if (std::find(c.model_identifiers.begin(), c.model_identifiers.end(), id) != c.model_identifiers.end())
      return ValidationError(m + ".bedrockModel.modelIdentifier", "must name a different model than the other entry (" + id + ")");
    c.model_identifiers.push_back(std::move(id));
  }

  LATHE_ASSIGN_OR_RETURN(const json* output, RequireObject(req, "outputDataConfig"));
  LATHE_ASSIGN_OR_RETURN(c.output_uri, RequireString(*output, "s3Uri", rules::kS3Uri, "outputDataConfig", Check::kLengthOnly));
  if (IsS3Uri(c.output_uri)) LATHE_RETURN_IF_ERROR(CheckString(c.output_uri, "outputDataConfig.s3Uri", rules::kS3Uri));
  return c;
}

}  // namespace lathe::service
