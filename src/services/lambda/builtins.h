// Functions lathe carries, present in every account and region without CreateFunction, with the
// names and payloads the automation tutorial's state machine calls:
//   validate-training-data   {bucket, key} -> {isValid, errors, recordCount, format}: the S3
//                            object read through JobObjectStore and checked by lathe's dataset
//                            validator, as `lathe data validate` checks it
//   start-bedrock-finetuning {bucket, key, validation} -> {jobArn, jobName, customModelName}:
//                            JobService::Create with the base model, role, hyperparameters and
//                            output location from the event, else the function's environment
//                            variables (UpdateFunctionConfiguration sets them), else defaults
//                            that train lathe's small default model in minutes
//   check-finetuning-status  {jobArn} -> {status, jobArn, jobName, customModelName, ...} with
//                            Bedrock's status names (InProgress, Completed, Failed, Stopping,
//                            Stopped)
//   evaluate-finetuned-model {customModelName, baseModelId} -> {overallScore, baselineScore,
//                            verdict, metrics, evaluationJobArn, reportS3Uri, customModelName,
//                            testSet}: an evaluation job (EvaluationJobService) of the base model
//                            against the custom model on EVAL_DATASET_S3_URI, else the custom
//                            model's validation data, else its training data (testSet.inSample
//                            says so), waited for within the function's timeout
//   register-model-version   {customModelName, evaluation} -> {modelGroup, version, modelPackageArn,
//                            promoted, alias, holderVersion, decision, overallScore}: a version in
//                            the model registry (group MODEL_GROUP) with the custom model's
//                            lineage (training job, hyperparameters, each data file's ETag,
//                            version id, SHA-256, record count and format) and the evaluation it
//                            was given; then the promotion gate for PROMOTE_ALIAS (register_model_
//                            version.cc says how). Retried with the same evaluation, it registers
//                            once.
// A user function of any of these names takes precedence (LambdaBackend looks for it first).
#pragma once

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/evaluation_jobs.h"
#include "service/job_object_store.h"
#include "service/job_service.h"
#include "services/lambda/evaluation_runner.h"
#include "services/registry/registry.h"

namespace lathe::lambda {

struct BuiltinInfo {
  std::string name, description;
  std::map<std::string, std::string> environment;  // defaults, shown by GetFunctionConfiguration
  int timeout_s = 60;                              // the function's Timeout
};

struct BuiltinCall {
  std::string account, region, request_id;
  std::map<std::string, std::string> environment;  // the function's (defaults + updates)
  int timeout_s = 60;                              // the function's Timeout: how long it may wait
  std::string role;                                // the function's execution role
};

// What a built-in answered: a payload, or a function error (errorType, errorMessage) as a
// handler's exception is.
struct BuiltinResult {
  bool ok = true;
  nlohmann::json payload;
  std::string error_type, error_message;
  std::string log;  // what the invocation's log shows
  static BuiltinResult Error(std::string type, std::string message) {
    BuiltinResult r;
    r.ok = false;
    r.error_type = std::move(type);
    r.error_message = std::move(message);
    return r;
  }
};

// Bounds (docs/serve.md, Limits).
inline constexpr uint64_t kMaxValidatedObjectBytes = 1ull << 30;  // validate-training-data
inline constexpr size_t kMaxEventStringBytes = 2048;  // register-model-version: any string field of its event
inline constexpr size_t kMaxEventMetrics = 64;        // register-model-version: evaluation.metrics entries

// register-model-version's environment defaults (GetFunctionConfiguration shows them).
const std::map<std::string, std::string>& RegisterModelVersionDefaults();

class BuiltinFunctions {
 public:
  // `jobs` and `objects` may be null (the function then fails saying what is missing);
  // `work_dir` holds downloaded objects while they are validated.
  BuiltinFunctions(service::JobService* jobs, service::JobObjectStore* objects, std::string work_dir)
      : jobs_(jobs), objects_(objects), work_dir_(std::move(work_dir)) {}
  void set_object_store(service::JobObjectStore* objects) { objects_ = objects; }
  // What evaluate-finetuned-model uses (null: it fails saying the service is missing).
  void set_evaluation(service::EvaluationJobService* evaluations, service::CustomModelService* custom_models) {
    evaluations_ = evaluations;
    custom_models_ = custom_models;
    job_evaluations_ = JobEvaluationRunner(evaluations);
  }
  // A runner other than lathe's evaluation jobs (tests answer with fixed summaries); null = those.
  void set_evaluation_runner(EvaluationRunner* runner) { runner_ = runner; }
  // What register-model-version registers in (null: it fails saying the registry is missing).
  void set_registry(registry::Registry* registry) { registry_ = registry; }

  // The built-ins that run (listed by ListFunctions).
  static const std::vector<BuiltinInfo>& All();
  static const BuiltinInfo* Find(const std::string& name);
  // For the names of features lathe does not have yet: the message of the
  // ResourceNotFoundException a call gets; "" for any other name.
  static std::string Unavailable(const std::string& name);

  BuiltinResult Invoke(const std::string& name, const nlohmann::json& event, const BuiltinCall& call);
  // The server is going down: a built-in that waits (evaluate-finetuned-model) returns at once,
  // so no thread of the server's is held for the function's timeout.
  void Stop() { stopping_ = true; }

 private:
  BuiltinResult ValidateTrainingData(const nlohmann::json& event, const BuiltinCall& call);
  BuiltinResult StartFineTuning(const nlohmann::json& event, const BuiltinCall& call);
  BuiltinResult CheckStatus(const nlohmann::json& event, const BuiltinCall& call);
  BuiltinResult EvaluateFineTunedModel(const nlohmann::json& event, const BuiltinCall& call);
  BuiltinResult RegisterModelVersion(const nlohmann::json& event, const BuiltinCall& call);
  // register-model-version's parts (register_model_version.cc).
  Result<std::vector<registry::DataObject>> DataManifest(const nlohmann::json& custom_model_doc,
                                                         const BuiltinCall& call, std::vector<std::string>* warnings);
  Result<registry::DataObject> DescribeDataObject(const std::string& uri, const std::string& purpose,
                                                  int64_t trained_ms, const BuiltinCall& call,
                                                  std::vector<std::string>* warnings);
  EvaluationRunner* evaluation_runner() {
    if (runner_) return runner_;
    return evaluations_ ? &job_evaluations_ : nullptr;
  }

  service::JobService* jobs_;
  service::JobObjectStore* objects_;
  std::string work_dir_;
  service::EvaluationJobService* evaluations_ = nullptr;
  service::CustomModelService* custom_models_ = nullptr;
  JobEvaluationRunner job_evaluations_{nullptr};
  EvaluationRunner* runner_ = nullptr;
  registry::Registry* registry_ = nullptr;
  std::atomic<bool> stopping_{false};
};

}  // namespace lathe::lambda
