// register-model-version: the automation tutorial's RegisterModel step ({customModelName,
// evaluation: $.evaluation.Payload}) over lathe's model registry.
//
// 1. The version: in the group named by the event's modelGroup, else the function's MODEL_GROUP
//    (default "lathe-finetuned": a fixed name, so every run of a pipeline lands in one group),
//    with the custom model's lineage: its ARN, base model, training job, hyperparameters, and
//    each training/validation file as it is now (ETag and version id from the object store,
//    SHA-256 of its bytes streamed from a local copy, record count and format from the dataset
//    validator that validate-training-data runs), plus the evaluation record the event carries.
//    The client token is derived from the custom model and the evaluation job, so a retried
//    invocation (Step Functions' Retry, a restart) finds the version it registered before.
// 2. The gate for PROMOTE_ALIAS (default "production"): an alias with no version takes the new
//    one; otherwise the holder and the candidate are evaluated side by side (the shared
//    EvaluationRunner) on the group's reference test set (policy.reference_test_set), else
//    EVAL_DATASET_S3_URI, else the candidate's validation data, else the test set of the event's
//    evaluation, else its training data; Registry::PromoteIfBetter decides and moves the alias.
//    A retry that finds that comparison already recorded on the version decides from it again
//    instead of running another.
#include <unistd.h>

#include <cmath>

#include "core/arn.h"
#include "core/env.h"
#include "core/sha256.h"
#include "data/model_limits.h"
#include "data/validator.h"
#include "service/s3_uri.h"
#include "services/lambda/builtins.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

constexpr const char* kActor = "lathe:register-model-version";

const std::map<std::string, std::string> kRegisterDefaults = {
    {"MODEL_GROUP", "lathe-finetuned"},
    {"PROMOTE_ALIAS", "production"},
    {"EVAL_DATASET_S3_URI", ""},  // "" = the group's reference test set, else the candidate's validation data, ...
    {"OUTPUT_S3_URI", ""},        // "" = s3://<the test set's bucket>/evaluation/
    {"ROLE_ARN", ""},             // "" = arn:aws:iam::<account>:role/BedrockEvaluationRole
    {"METRIC_NAMES", "Builtin.Accuracy,Lathe.tokenF1,Lathe.rougeL,Lathe.keywordCoverage"},
    {"MAX_TOKENS", "64"},
    {"TEMPERATURE", "0"},
};

std::string Setting(const BuiltinCall& call, const std::string& name) {
  auto it = call.environment.find(name);
  if (it != call.environment.end() && !it->second.empty()) return it->second;
  auto d = kRegisterDefaults.find(name);
  return d == kRegisterDefaults.end() ? "" : d->second;
}

BuiltinResult Invalid(const std::string& message) { return BuiltinResult::Error("InvalidEvent", message); }

// A registry or service error as a function error: its AWS code when it has one, else by kind.
BuiltinResult FromStatus(const Status& s) {
  if (!s.aws_code().empty()) return BuiltinResult::Error(s.aws_code(), s.message());
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return BuiltinResult::Error("ValidationException", s.message());
    case Status::Code::kNotFound: return BuiltinResult::Error("ResourceNotFoundException", s.message());
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return BuiltinResult::Error("ConflictException", s.message());
    default: return BuiltinResult::Error("RegistryError", s.message());
  }
}

// The event's optional string `key`: "" when absent; an error when not a string or too long.
Result<std::string> OptionalString(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return std::string();
  if (!object[key].is_string()) return Status::InvalidArgument(where + key + " must be a string");
  std::string v = object[key];
  if (v.size() > kMaxEventStringBytes)
    return Status::InvalidArgument(where + key + " has " + std::to_string(v.size()) + " bytes; at most " +
                                   std::to_string(kMaxEventStringBytes) + " are accepted");
  return v;
}

Result<double> OptionalNumber(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return 0.0;
  if (!object[key].is_number() || !std::isfinite(object[key].get<double>()))
    return Status::InvalidArgument(where + key + " must be a finite number");
  return object[key].get<double>();
}

// metric -> number, bounded.
Result<json> Metrics(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return json::object();
  const json& m = object[key];
  if (!m.is_object()) return Status::InvalidArgument(where + key + " must be an object of metric -> number");
  if (m.size() > kMaxEventMetrics)
    return Status::InvalidArgument(where + key + " has " + std::to_string(m.size()) + " metrics; at most " +
                                   std::to_string(kMaxEventMetrics) + " are accepted");
  json out = json::object();
  for (const auto& [name, value] : m.items()) {
    if (name.empty() || name.size() > 256) return Status::InvalidArgument(where + key + ": a metric name must have 1 to 256 bytes");
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      return Status::InvalidArgument(where + key + "." + name + " must be a finite number");
    out[name] = value;
  }
  return out;
}

// The event's evaluation (evaluate-finetuned-model's answer) as the registry's record.
Result<registry::EvaluationRecord> RecordFromEvent(const json& e) {
  const std::string where = "evaluation.";
  registry::EvaluationRecord r;
  auto arn = OptionalString(e, "evaluationJobArn", where);
  auto report = OptionalString(e, "reportS3Uri", where);
  auto verdict = OptionalString(e, "verdict", where);
  auto base = OptionalString(e, "baseModelId", where);
  auto score = OptionalNumber(e, "overallScore", where);
  auto baseline_score = OptionalNumber(e, "baselineScore", where);
  auto metrics = Metrics(e, "metrics", where);
  auto baseline_metrics = Metrics(e, "baselineMetrics", where);
  for (const Status& s : {arn.status(), report.status(), verdict.status(), base.status(), score.status(),
                          baseline_score.status(), metrics.status(), baseline_metrics.status()})
    if (!s.ok()) return s;
  if (!e.contains("overallScore")) return Status::InvalidArgument("evaluation.overallScore is missing");
  std::string test_set;
  if (e.contains("testSet")) {
    if (!e["testSet"].is_object()) return Status::InvalidArgument("evaluation.testSet must be an object");
    auto uri = OptionalString(e["testSet"], "s3Uri", "evaluation.testSet.");
    if (!uri.ok()) return uri.status();
    test_set = *uri;
  }
  r.evaluation = *arn;
  r.report_uri = *report;
  r.test_set = test_set;
  r.baseline = *base;
  r.overall_score = *score;
  r.metrics = *metrics;
  r.verdict = *verdict;
  // The baseline's scores beside the candidate's, so `registry diff` and the export show both.
  if (e.contains("baselineScore") || !baseline_metrics->empty()) {
    json cmp = json::object();
    for (const auto& [name, value] : metrics->items())
      if (baseline_metrics->contains(name))
        cmp[name] = {{"meanDiff", value.get<double>() - (*baseline_metrics)[name].get<double>()}};
    cmp["overallScore"] = {{"meanDiff", *score - *baseline_score}, {"verdict", *verdict}};
    r.comparison = cmp;
  }
  r.created_ms = NowMillis();
  return r;
}

// The comparison job's summary (models[0] = the holder, models[1] = the candidate) as the
// candidate's record against the holder.
registry::EvaluationRecord RecordFromComparison(const CompletedEvaluation& done, const std::string& test_set,
                                                const std::string& holder_arn) {
  registry::EvaluationRecord r;
  r.evaluation = done.arn;
  r.report_uri = done.report_uri;
  r.test_set = test_set;
  r.baseline = holder_arn;
  const json& candidate = done.summary["models"][1];
  r.overall_score = candidate.value("overallScore", 0.0);
  r.metrics = candidate.value("metrics", json::object());
  const json comparisons = done.summary.value("comparisons", json::array());
  r.verdict = "no significant difference";
  if (comparisons.is_array() && !comparisons.empty() && comparisons[0].is_object()) {
    r.verdict = comparisons[0].value("verdict", r.verdict);
    const json by_metric = comparisons[0].value("byMetric", json::object());  // items() must not outlive it
    for (const auto& [metric, p] : by_metric.items())
      if (p.is_object())
        r.comparison[metric] = {{"meanDiff", p.value("meanDifference", 0.0)}, {"ciLow", p.value("ciLow", 0.0)},
                                {"ciHigh", p.value("ciHigh", 0.0)}, {"verdict", p.value("verdict", "")}};
  }
  // The primary metric the default policy reads: overall score, candidate minus holder.
  const double holder_score = done.summary["models"][0].value("overallScore", 0.0);
  if (!r.comparison.contains("overallScore"))
    r.comparison["overallScore"] = {{"meanDiff", r.overall_score - holder_score}};  // unpaired: no verdict
  r.created_ms = NowMillis();
  return r;
}

std::string TrainingUri(const json& doc) { return doc.value("trainingDataConfig", json::object()).value("s3Uri", ""); }

std::vector<std::string> ValidationUris(const json& doc) {
  std::vector<std::string> out;
  const json validators = doc.value("validationDataConfig", json::object()).value("validators", json::array());
  if (validators.is_array())
    for (const auto& v : validators)
      if (v.is_object() && v.contains("s3Uri") && v["s3Uri"].is_string()) out.push_back(v["s3Uri"]);
  return out;
}

}  // namespace

const std::map<std::string, std::string>& RegisterModelVersionDefaults() { return kRegisterDefaults; }

Result<registry::DataObject> BuiltinFunctions::DescribeDataObject(const std::string& uri, const std::string& purpose,
                                                                  int64_t trained_ms, const BuiltinCall& call,
                                                                  std::vector<std::string>* warnings) {
  registry::DataObject d;
  d.uri = uri;
  d.purpose = purpose;
  const uint64_t max_bytes = purpose == "validation" ? data::kMaxValidationFileBytes : data::kMaxFineTuningFileBytes;
  std::string local;
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } cleanup;
  if (uri.rfind("s3://", 0) == 0) {
    if (!objects_) return Status::Aws("ServiceUnavailable", 0, "lathe's S3 storage is not available");
    Result<service::S3Uri> object = service::ParseS3ObjectUri(uri);
    if (!object.ok()) return object.status();
    LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(work_dir_));
    local = work_dir_ + "/" + call.request_id + "-" + purpose + "-" + NewResourceId(6) + ".jsonl";
    cleanup.path = local;
    service::ObjectFacts facts;
    if (Status s = objects_->DownloadVersion(call.account, *object, local, max_bytes, &facts); !s.ok())
      return Status::Aws("TrainingDataUnavailable", 0,
                         "the " + purpose + " data " + uri + " cannot be read for the version's data manifest: " +
                             s.message());
    d.etag = facts.etag;
    d.version_id = facts.version_id;
    if (trained_ms > 0 && facts.modified_ms > trained_ms)
      warnings->push_back(uri + " was replaced after the training job started: its manifest entry describes the "
                          "object as it is now" + (d.version_id.empty() ? "" : " (version " + d.version_id + ")"));
  } else if (uri.rfind("file://", 0) == 0) {
    // The job accepted this path under the server's fileRoots when it was created.
    local = uri.substr(7);
    uint64_t size = 0;
    if (Status s = Env::Default()->GetFileSize(local, &size); !s.ok())
      return Status::Aws("TrainingDataUnavailable", 0, "the " + purpose + " data " + uri + " cannot be read: " + s.message());
    if (size > max_bytes)
      return Status::Aws("TrainingDataUnavailable", 0, uri + " has " + std::to_string(size) + " bytes, over the " +
                                                           std::to_string(max_bytes) + " a job reads");
  } else {
    return Status::Aws("TrainingDataUnavailable", 0, "the " + purpose + " data " + uri + " is neither s3:// nor file://");
  }
  LATHE_RETURN_IF_ERROR(Sha256File(Env::Default(), local, &d.sha256));
  data::ValidateOptions opt;
  opt.purpose = purpose == "validation" ? data::Purpose::kValidation : data::Purpose::kTraining;
  opt.allow_small = true;  // counted, not judged: the job already accepted it
  data::FileReport r = data::ValidateFile(Env::Default(), local, opt);
  d.records = r.records;
  d.format = data::FormatName(r.format);
  return d;
}

Result<std::vector<registry::DataObject>> BuiltinFunctions::DataManifest(const json& doc, const BuiltinCall& call,
                                                                         std::vector<std::string>* warnings) {
  int64_t trained_ms = -1;
  if (jobs_ && doc.contains("jobArn") && doc["jobArn"].is_string())
    if (auto job = jobs_->Get(doc["jobArn"]); job.ok() && job->contains("creationTime") && (*job)["creationTime"].is_string())
      trained_ms = ParseIso8601((*job)["creationTime"].get<std::string>());
  std::vector<registry::DataObject> out;
  const std::string training = TrainingUri(doc);
  if (training.empty()) return Status::Aws("TrainingDataUnavailable", 0, "the custom model records no training data");
  auto add = [&](const std::string& uri, const char* purpose) -> Status {
    auto d = DescribeDataObject(uri, purpose, trained_ms, call, warnings);
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
    return Status::Ok();
  };
  LATHE_RETURN_IF_ERROR(add(training, "training"));
  for (const std::string& v : ValidationUris(doc)) {
    if (out.size() >= registry::kMaxDataObjects) break;
    LATHE_RETURN_IF_ERROR(add(v, "validation"));
  }
  return out;
}

BuiltinResult BuiltinFunctions::RegisterModelVersion(const json& event, const BuiltinCall& call) {
  if (!registry_) return BuiltinResult::Error("ServiceUnavailable", "lathe's model registry is not available");
  if (!custom_models_) return BuiltinResult::Error("ServiceUnavailable", "lathe's Bedrock custom models are not available");
  // The event: strings bounded, types checked, before anything is looked up.
  auto model_name = OptionalString(event, "customModelName", "");
  if (!model_name.ok()) return Invalid(model_name.status().message());
  if (model_name->empty())
    return Invalid("register-model-version needs {\"customModelName\": ..., \"evaluation\": {...}} (a string and an "
                   "object: evaluate-finetuned-model's answer)");
  auto group_in_event = OptionalString(event, "modelGroup", "");
  if (!group_in_event.ok()) return Invalid(group_in_event.status().message());
  auto description = OptionalString(event, "description", "");
  if (!description.ok()) return Invalid(description.status().message());
  if (description->size() > registry::kMaxDescriptionBytes)
    return Invalid("description has more than " + std::to_string(registry::kMaxDescriptionBytes) + " bytes");
  std::optional<registry::EvaluationRecord> evaluation;
  if (event.contains("evaluation") && !event["evaluation"].is_null()) {
    if (!event["evaluation"].is_object())
      return Invalid("evaluation must be an object (evaluate-finetuned-model's answer: $.evaluation.Payload)");
    auto r = RecordFromEvent(event["evaluation"]);
    if (!r.ok()) return Invalid(r.status().message());
    evaluation = std::move(*r);
  }
  const std::string group = group_in_event->empty() ? Setting(call, "MODEL_GROUP") : *group_in_event;
  const std::string alias = Setting(call, "PROMOTE_ALIAS");

  auto model = custom_models_->Find(*model_name);
  if (!model.ok()) {
    if (model.status().code() == Status::Code::kNotFound)
      return BuiltinResult::Error("ResourceNotFoundException", "No custom model named " + *model_name);
    return FromStatus(model.status());
  }
  const json& doc = model->doc;

  std::vector<std::string> warnings;
  auto data = DataManifest(doc, call, &warnings);
  if (!data.ok()) return FromStatus(data.status());

  registry::NewVersion nv;
  nv.group = group;
  nv.custom_model_arn = model->arn;
  nv.base_model = doc.value("baseModelArn", "");
  if (nv.base_model.empty()) nv.base_model = doc.value("baseModelName", "");
  nv.training_job_arn = doc.value("jobArn", "");
  nv.hyperparameters = doc.value("hyperParameters", json::object());
  nv.data = std::move(*data);
  if (evaluation) nv.evaluations.push_back(*evaluation);
  nv.description = description->empty() ? "registered by the pipeline: " + model->name : *description;
  nv.created_by = kActor;
  nv.status = registry::VersionStatus::kPending;
  nv.metadata = {{"lathe:customModelName", model->name}, {"lathe:requestId", call.request_id}};
  if (!call.role.empty()) nv.metadata["lathe:functionRole"] = call.role;  // the role it ran as
  // A retry of the same step (same model, same evaluation) registers once.
  nv.client_token = "register-model-version-" +
                    Sha256Hex(group + "\n" + model->arn + "\n" + (evaluation ? evaluation->evaluation : std::string()));
  auto version = registry_->Register(nv);
  if (!version.ok()) return FromStatus(version.status());

  // The gate.
  auto aliases = registry_->Aliases(group);
  if (!aliases.ok()) return FromStatus(aliases.status());
  const int holder = aliases->count(alias) ? aliases->at(alias) : 0;
  BuiltinResult out;
  out.payload = {{"modelGroup", group},
                 {"version", version->version},
                 {"modelPackageArn", version->arn},
                 {"customModelName", model->name},
                 {"alias", alias},
                 {"holderVersion", holder},
                 {"overallScore", evaluation ? json(evaluation->overall_score) : json(nullptr)},
                 {"warnings", warnings}};
  out.log = "registered " + model->name + " as " + group + " version " + std::to_string(version->version) + " (" +
            std::to_string(version->data.size()) + " data files in its manifest)\n";
  for (const auto& w : warnings) out.log += "warning: " + w + "\n";
  auto finish = [&](bool promoted, const std::string& reason) {
    if (promoted)  // an Approved version: what SageMaker's ModelApprovalStatus calls one that is deployed
      (void)registry_->UpdateVersion(version->arn, registry::VersionStatus::kApproved, reason, {}, {}, kActor);
    out.payload["promoted"] = promoted;
    out.payload["decision"] = reason;
    out.log += alias + ": " + (promoted ? "promoted: " : "not promoted: ") + reason + "\n";
    return out;
  };
  if (holder == version->version) return finish(true, "version " + std::to_string(holder) + " already holds " + alias);
  if (holder == 0) {
    const std::string reason = "the first version for " + alias + " in " + group + ": nothing to compare it with";
    auto moved = registry_->SetAlias(group, alias, version->version, kActor, reason);
    if (!moved.ok()) return FromStatus(moved.status());
    return finish(true, reason);
  }

  auto held = registry_->GetVersion(group, holder);
  auto group_row = registry_->GetGroup(group);
  if (!held.ok()) return FromStatus(held.status());
  if (!group_row.ok()) return FromStatus(group_row.status());
  auto holder_model = custom_models_->Find(held->custom_model_arn);
  if (!holder_model.ok())
    return finish(false, "the holder, version " + std::to_string(holder) + ", has no custom model to compare with (" +
                             held->custom_model_arn + "): promote by hand with `lathe registry alias set`");

  // A retry finds the comparison it already made (recorded by PromoteIfBetter) and decides again from it.
  for (const auto& e : version->evaluations)
    if (e.baseline == held->arn) {
      registry::PromotionDecision d = registry::DecidePromotion(group_row->policy, holder, e);
      out.payload["comparison"] = {{"evaluationJobArn", e.evaluation}, {"testSet", e.test_set}, {"verdict", e.verdict},
                                   {"overallScore", e.overall_score}};
      // PromoteIfBetter records the evaluation before it moves the alias: a crash between the two
      // leaves a passed gate unapplied, which this finishes.
      // PromoteIfBetter again (it does not record the evaluation twice), so the move still
      // checks that the alias holds the version this comparison was made against.
      if (d.promote) {
        auto moved = registry_->PromoteIfBetter(group, version->version, alias, e, kActor);
        if (!moved.ok()) return FromStatus(moved.status());
      }
      return finish(d.promote, d.reason + " (decided by the comparison recorded before)");
    }

  // The comparison's test set.
  std::string test_set = group_row->policy.reference_test_set, source = "the group's reference test set";
  if (test_set.empty()) test_set = Setting(call, "EVAL_DATASET_S3_URI"), source = "EVAL_DATASET_S3_URI";
  if (test_set.empty()) {
    auto v = ValidationUris(doc);
    if (!v.empty()) test_set = v[0], source = "the candidate's validation data";
  }
  if (test_set.empty() && evaluation) test_set = evaluation->test_set, source = "the pipeline evaluation's test set";
  if (test_set.empty()) test_set = TrainingUri(doc), source = "the candidate's training data (in-sample: it favours the candidate)";
  std::string output = Setting(call, "OUTPUT_S3_URI");
  if (output.empty()) {
    if (auto uri = service::ParseS3ObjectUri(test_set); uri.ok()) output = "s3://" + uri->bucket + "/evaluation/";
    else output = test_set.substr(0, test_set.rfind('/')) + "/evaluation";
  }
  std::string role = Setting(call, "ROLE_ARN");
  if (role.empty()) role = "arn:aws:iam::" + call.account + ":role/BedrockEvaluationRole";
  json params = json::object();
  try {
    params["temperature"] = std::stod(Setting(call, "TEMPERATURE"));
    params["maxTokens"] = std::stoi(Setting(call, "MAX_TOKENS"));
  } catch (const std::exception&) {
    return BuiltinResult::Error("InvalidConfiguration", "TEMPERATURE and MAX_TOKENS must be numbers");
  }
  if (!evaluation_runner())
    return BuiltinResult::Error("ServiceUnavailable", "lathe's Bedrock evaluation service is not available");
  json request = {
      {"jobName", EvaluationJobName("gate", model->name)},
      {"roleArn", role},
      {"jobDescription", "register-model-version: " + group + " v" + std::to_string(holder) + " (" + alias +
                             ") vs v" + std::to_string(version->version)},
      {"evaluationConfig",
       {{"automated",
         {{"datasetMetricConfigs", json::array({{{"taskType", "Custom"},
                                                 {"dataset", {{"name", "reference-test-set"},
                                                              {"datasetLocation", {{"s3Uri", test_set}}}}},
                                                 {"metricNames", SplitList(Setting(call, "METRIC_NAMES"))}}})}}}}},
      {"inferenceConfig",
       {{"models", json::array({{{"bedrockModel", {{"modelIdentifier", holder_model->arn}, {"inferenceParams", params.dump()}}}},
                                {{"bedrockModel", {{"modelIdentifier", model->arn}, {"inferenceParams", params.dump()}}}}})}}},
      {"outputDataConfig", {{"s3Uri", output}}}};
  Result<CompletedEvaluation> done = evaluation_runner()->Run(request, call.region, call.timeout_s, stopping_);
  if (!done.ok()) {
    BuiltinResult e = FromStatus(done.status());
    e.error_message = "version " + std::to_string(version->version) + " of " + group +
                      " is registered; its comparison with " + alias + "'s version " + std::to_string(holder) +
                      " did not finish: " + e.error_message;
    return e;
  }
  registry::EvaluationRecord record = RecordFromComparison(*done, test_set, held->arn);
  out.payload["comparison"] = {{"evaluationJobArn", record.evaluation}, {"testSet", test_set}, {"testSetSource", source},
                               {"verdict", record.verdict}, {"overallScore", record.overall_score},
                               {"holderScore", done->summary["models"][0].value("overallScore", 0.0)}};
  out.log += "compared with version " + std::to_string(holder) + " on " + test_set + " (" + source + "): " +
             record.verdict + "\n";
  auto decided = registry_->PromoteIfBetter(group, version->version, alias, record, kActor);
  if (!decided.ok()) return FromStatus(decided.status());
  return finish(decided->promote, decided->reason);
}

}  // namespace lathe::lambda
