#include "services/lambda/builtins.h"

#include <unistd.h>

#include <chrono>
#include <random>
#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/arn.h"
#include "core/env.h"
#include "data/validator.h"
#include "eval/test_set.h"
#include "service/evaluation_jobs.h"
#include "service/s3_uri.h"
#include "service/service_config.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

// A demo trains in minutes on lathe's small default model with these.
const std::map<std::string, std::string> kStartDefaults = {
    {"BASE_MODEL_ID", service::kDefaultModelId},
    {"ROLE_ARN", ""},  // "" = arn:aws:iam::<account>:role/BedrockFineTuningRole
    {"OUTPUT_S3_URI", ""},  // "" = s3://<the data's bucket>/output/
    {"EPOCH_COUNT", "1"},
    {"BATCH_SIZE", "4"},
    {"LEARNING_RATE", "0.003"},
    {"JOB_NAME_PREFIX", "lathe-finetune"},
};

// evaluate-finetuned-model's settings: small and greedy, so the pipeline's step takes seconds on
// lathe's small models; the function's environment changes them.
const std::map<std::string, std::string> kEvaluateDefaults = {
    {"EVAL_DATASET_S3_URI", ""},  // "" = the custom model's validation data, else its training data
    {"OUTPUT_S3_URI", ""},        // "" = s3://<the test set's bucket>/evaluation/
    {"ROLE_ARN", ""},             // "" = arn:aws:iam::<account>:role/BedrockEvaluationRole
    {"METRIC_NAMES", "Builtin.Accuracy,Lathe.tokenF1,Lathe.rougeL,Lathe.keywordCoverage"},
    {"MAX_TOKENS", "64"},
    {"TEMPERATURE", "0"},
    // The training-data fallback (no validation data, no EVAL_DATASET_S3_URI): a seeded sample of
    // at most this many cases, so the step stays short on a large training set. 0 = all of them.
    {"MAX_CASES", "50"},
};

std::string Compact(int64_t ms) {  // 20261202-051502
  std::string t = Iso8601(ms), out;
  for (char c : t.substr(0, 19))
    if (c != ':' && c != '-') out.push_back(c == 'T' ? '-' : c);
  return out;
}

std::string EventString(const json& event, const char* key) {
  return event.is_object() && event.contains(key) && event[key].is_string() ? event[key].get<std::string>() : "";
}

std::string Setting(const BuiltinCall& call, const std::string& name,
                    const std::map<std::string, std::string>& defaults = kStartDefaults) {
  auto it = call.environment.find(name);
  if (it != call.environment.end() && !it->second.empty()) return it->second;
  auto d = defaults.find(name);
  return d == defaults.end() ? "" : d->second;
}

BuiltinResult FromStatus(const Status& s) {
  return BuiltinResult::Error(s.aws_code().empty() ? "Lambda.Unknown" : s.aws_code(), s.message());
}

}  // namespace

const std::vector<BuiltinInfo>& BuiltinFunctions::All() {
  static const std::vector<BuiltinInfo> kAll = {
      {"check-finetuning-status",
       "lathe built-in: {jobArn} -> {status, ...} of a model customization job",
       {}},
      {"evaluate-finetuned-model",
       "lathe built-in: {customModelName, baseModelId} -> {overallScore, baselineScore, verdict, metrics, ...}: "
       "evaluates the custom model against its base",
       kEvaluateDefaults,
       900},
      {"register-model-version",
       "lathe built-in: {customModelName, evaluation} -> {modelGroup, version, promoted, ...}: registers the "
       "custom model as a version in the model registry, with its lineage, and promotes it when it is better",
       RegisterModelVersionDefaults(),
       900},
      {"start-bedrock-finetuning",
       "lathe built-in: {bucket, key} -> {jobArn, jobName, customModelName}: starts a fine-tuning job",
       kStartDefaults},
      {"validate-training-data",
       "lathe built-in: {bucket, key} -> {isValid, errors, recordCount, format}: checks a JSONL dataset in S3",
       {{"ALLOW_SMALL_DATASETS", "false"}}},
  };
  return kAll;
}

const BuiltinInfo* BuiltinFunctions::Find(const std::string& name) {
  for (const auto& b : All())
    if (b.name == name) return &b;
  return nullptr;
}

std::string BuiltinFunctions::Unavailable(const std::string& name) {
  (void)name;  // every feature the tutorials name is there now
  return "";
}

BuiltinResult BuiltinFunctions::Invoke(const std::string& name, const json& event, const BuiltinCall& call) {
  if (!event.is_object()) return BuiltinResult::Error("InvalidEvent", "the event must be a JSON object");
  if (name == "validate-training-data") return ValidateTrainingData(event, call);
  if (name == "start-bedrock-finetuning") return StartFineTuning(event, call);
  if (name == "check-finetuning-status") return CheckStatus(event, call);
  if (name == "evaluate-finetuned-model") return EvaluateFineTunedModel(event, call);
  if (name == "register-model-version") return RegisterModelVersion(event, call);
  return BuiltinResult::Error("Lambda.Unknown", "no built-in function " + name);
}

BuiltinResult BuiltinFunctions::ValidateTrainingData(const json& event, const BuiltinCall& call) {
  const std::string bucket = EventString(event, "bucket"), key = EventString(event, "key");
  if (bucket.empty() || key.empty())
    return BuiltinResult::Error("InvalidEvent", "validate-training-data needs {\"bucket\": ..., \"key\": ...} (strings)");
  if (!objects_) return BuiltinResult::Error("ServiceUnavailable", "lathe's S3 storage is not available");
  Result<service::S3Uri> uri = service::ParseS3ObjectUri("s3://" + bucket + "/" + key);
  if (!uri.ok()) return BuiltinResult::Error("InvalidEvent", uri.status().message());
  if (Status s = Env::Default()->CreateDirs(work_dir_); !s.ok()) return FromStatus(s);
  const std::string local = work_dir_ + "/" + call.request_id + ".jsonl";
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{local};
  if (Status s = objects_->Download(call.account, *uri, local, kMaxValidatedObjectBytes); !s.ok()) return FromStatus(s);
  data::ValidateOptions opt;
  opt.purpose = data::Purpose::kTraining;
  auto small = call.environment.find("ALLOW_SMALL_DATASETS");
  opt.allow_small = small != call.environment.end() && (small->second == "true" || small->second == "1");
  data::FileReport r = data::ValidateFile(Env::Default(), local, opt);
  json errors = json::array();
  json warnings = json::array();
  for (data::Problem p : r.problems) {
    p.file = uri->ToString();  // the object, not lathe's temporary copy
    (p.severity == data::Severity::kError ? errors : warnings).push_back(data::FormatProblem(p));
  }
  BuiltinResult out;
  out.payload = {{"isValid", r.ok()},
                 {"errors", errors},
                 {"warnings", warnings},
                 {"recordCount", r.records},
                 {"validRecordCount", r.valid_records},
                 {"format", data::FormatName(r.format)},
                 {"bucket", bucket},
                 {"key", key}};
  out.log = "validated " + uri->ToString() + ": " + std::to_string(r.records) + " records, " +
            std::to_string(r.errors) + " errors, " + std::to_string(r.warnings) + " warnings\n";
  return out;
}

BuiltinResult BuiltinFunctions::StartFineTuning(const json& event, const BuiltinCall& call) {
  if (!jobs_) return BuiltinResult::Error("ServiceUnavailable", "lathe's Bedrock job service is not available");
  const std::string bucket = EventString(event, "bucket"), key = EventString(event, "key");
  if (bucket.empty() || key.empty())
    return BuiltinResult::Error("InvalidEvent", "start-bedrock-finetuning needs {\"bucket\": ..., \"key\": ...} (strings)");
  // The validation step's result, as the tutorial passes it: a dataset found invalid is refused.
  if (event.contains("validation") && event["validation"].is_object()) {
    const json& v = event["validation"];
    const json& p = v.contains("Payload") ? v["Payload"] : v;
    if (p.is_object() && p.contains("isValid") && p["isValid"] == false)
      return BuiltinResult::Error("InvalidTrainingData", "the training data failed validation: s3://" + bucket + "/" + key);
  }
  const std::string stamp = Compact(NowMillis()) + "-" + NewResourceId(4);
  std::string job_name = EventString(event, "jobName");
  if (job_name.empty()) job_name = Setting(call, "JOB_NAME_PREFIX") + "-" + stamp;
  std::string model_name = EventString(event, "customModelName");
  if (model_name.empty()) model_name = job_name + "-model";
  std::string base = EventString(event, "baseModelId");
  if (base.empty()) base = Setting(call, "BASE_MODEL_ID");
  std::string role = EventString(event, "roleArn");
  if (role.empty()) role = Setting(call, "ROLE_ARN");
  if (role.empty()) role = "arn:aws:iam::" + call.account + ":role/BedrockFineTuningRole";
  std::string output = EventString(event, "outputS3Uri");
  if (output.empty()) output = Setting(call, "OUTPUT_S3_URI");
  if (output.empty()) output = "s3://" + bucket + "/output/";
  json hp = {{"epochCount", Setting(call, "EPOCH_COUNT")},
             {"batchSize", Setting(call, "BATCH_SIZE")},
             {"learningRate", Setting(call, "LEARNING_RATE")}};
  if (event.contains("hyperParameters") && event["hyperParameters"].is_object())
    for (const auto& [k, v] : event["hyperParameters"].items()) hp[k] = v.is_string() ? v.get<std::string>() : v.dump();
  json request = {{"jobName", job_name},
                  {"customModelName", model_name},
                  {"roleArn", role},
                  {"baseModelIdentifier", base},
                  {"trainingDataConfig", {{"s3Uri", "s3://" + bucket + "/" + key}}},
                  {"outputDataConfig", {{"s3Uri", output}}},
                  {"hyperParameters", hp}};
  std::string validation = EventString(event, "validationS3Uri");
  if (validation.empty()) validation = Setting(call, "VALIDATION_S3_URI");
  if (!validation.empty()) request["validationDataConfig"] = {{"validators", json::array({{{"s3Uri", validation}}})}};
  Result<json> created = jobs_->Create(request, call.region);
  if (!created.ok()) return FromStatus(created.status());
  BuiltinResult out;
  out.payload = {{"jobArn", (*created)["jobArn"]}, {"jobName", job_name}, {"customModelName", model_name}};
  out.log = "started " + job_name + " on " + base + " with s3://" + bucket + "/" + key + "\n";
  return out;
}

BuiltinResult BuiltinFunctions::CheckStatus(const json& event, const BuiltinCall& call) {
  (void)call;
  if (!jobs_) return BuiltinResult::Error("ServiceUnavailable", "lathe's Bedrock job service is not available");
  const std::string arn = EventString(event, "jobArn");
  if (arn.empty()) return BuiltinResult::Error("InvalidEvent", "check-finetuning-status needs {\"jobArn\": ...} (a string)");
  Result<json> job = jobs_->Get(arn);
  if (!job.ok()) return FromStatus(job.status());
  BuiltinResult out;
  out.payload = {{"status", job->value("status", "")}, {"jobArn", job->value("jobArn", arn)},
                 {"jobName", job->value("jobName", "")}, {"customModelName", job->value("outputModelName", "")}};
  for (const char* k : {"outputModelArn", "failureMessage", "endTime", "trainingMetrics", "validationMetrics"})
    if (job->contains(k)) out.payload[k] = (*job)[k];
  out.log = arn + ": " + out.payload["status"].get<std::string>() + "\n";
  return out;
}

namespace {

}  // namespace

BuiltinResult BuiltinFunctions::EvaluateFineTunedModel(const json& event, const BuiltinCall& call) {
  if (!evaluation_runner() || !custom_models_)
    return BuiltinResult::Error("ServiceUnavailable", "lathe's Bedrock evaluation service is not available");
  const std::string model_name = EventString(event, "customModelName");
  if (model_name.empty())
    return BuiltinResult::Error("InvalidEvent", "evaluate-finetuned-model needs {\"customModelName\": ...} (a string)");
  auto model = custom_models_->Find(model_name);
  if (!model.ok()) return BuiltinResult::Error("ResourceNotFoundException", "No custom model named " + model_name);
  const json& doc = model->doc;
  std::string base = EventString(event, "baseModelId");
  if (base.empty()) base = doc.value("baseModelName", std::string(service::kDefaultModelId));

  // The test set: the function's, else data the model was not trained on, else (said so) its own.
  std::string dataset = Setting(call, "EVAL_DATASET_S3_URI", kEvaluateDefaults), source = "EVAL_DATASET_S3_URI";
  if (dataset.empty()) {
    const json validators = doc.value("validationDataConfig", json::object()).value("validators", json::array());
    if (validators.is_array() && !validators.empty() && validators[0].is_object()) {
      dataset = validators[0].value("s3Uri", "");
      source = "validation";
    }
  }
  if (dataset.empty()) {
    dataset = doc.value("trainingDataConfig", json::object()).value("s3Uri", "");
    source = "training";
  }
  if (dataset.empty()) return BuiltinResult::Error("InvalidEvent", "no test set: set EVAL_DATASET_S3_URI in the function's environment");
  // The training-data fallback, sampled: MAX_CASES lines chosen with a fixed seed (the same
  // sample every call, so a repeated call asks for the same evaluation), kept in their order and
  // stored beside the data as s3://<bucket>/evaluation/samples/<hash>.jsonl.
  json sample = nullptr;
  if (source == "training") {
    long max_cases = 0;
    try {
      max_cases = std::stol(Setting(call, "MAX_CASES", kEvaluateDefaults));
    } catch (const std::exception&) {
      return BuiltinResult::Error("InvalidConfiguration", "MAX_CASES must be a number");
    }
    auto uri = service::ParseS3ObjectUri(dataset);
    if (max_cases > 0 && objects_ && uri.ok()) {
      if (Status st = Env::Default()->CreateDirs(work_dir_); !st.ok()) return FromStatus(st);
      const std::string local = work_dir_ + "/" + call.request_id + "-cases.jsonl";
      struct Cleanup {
        std::string a, b;
        ~Cleanup() { ::unlink(a.c_str()), ::unlink(b.c_str()); }
      } cleanup{local, local + ".sample"};
      if (Status st = objects_->Download(call.account, *uri, local, eval::kMaxTestSetBytes); !st.ok()) return FromStatus(st);
      std::string text;
      if (Status st = ReadFileToString(Env::Default(), local, &text); !st.ok()) return FromStatus(st);
      std::vector<std::string> lines;
      for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        if (text.find_first_not_of(" \t\r", at) < end) lines.push_back(text.substr(at, end - at));
        at = end + 1;
      }
      if (lines.size() > static_cast<size_t>(max_cases)) {
        std::vector<size_t> order(lines.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::mt19937_64 rng(service::kEvaluationSeed);
        for (size_t i = 0; i < static_cast<size_t>(max_cases); ++i)  // a partial Fisher-Yates shuffle
          std::swap(order[i], order[i + rng() % (order.size() - i)]);
        order.resize(static_cast<size_t>(max_cases));
        std::sort(order.begin(), order.end());
        std::string picked;
        for (size_t i : order) picked += lines[i] + "\n";
        if (Status st = WriteFileAtomically(Env::Default(), local + ".sample", picked); !st.ok()) return FromStatus(st);
        const service::S3Uri target{uri->bucket, "evaluation/samples/" + StableHash(dataset + "\n" + picked) + ".jsonl"};
        if (Status st = objects_->Upload(call.account, local + ".sample", target); !st.ok()) return FromStatus(st);
        sample = {{"of", lines.size()}, {"cases", order.size()}, {"seed", service::kEvaluationSeed}, {"from", dataset}};
        dataset = target.ToString();
      }
    }
  }
  std::string output = Setting(call, "OUTPUT_S3_URI", kEvaluateDefaults);
  if (output.empty()) {
    if (auto uri = service::ParseS3ObjectUri(dataset); uri.ok()) output = "s3://" + uri->bucket + "/evaluation/";
    else output = dataset.substr(0, dataset.rfind('/')) + "/evaluation";
  }
  std::string role = Setting(call, "ROLE_ARN", kEvaluateDefaults);
  if (role.empty()) role = "arn:aws:iam::" + call.account + ":role/BedrockEvaluationRole";
  json params = json::object();
  try {
    params["temperature"] = std::stod(Setting(call, "TEMPERATURE", kEvaluateDefaults));
    params["maxTokens"] = std::stoi(Setting(call, "MAX_TOKENS", kEvaluateDefaults));
  } catch (const std::exception&) {
    return BuiltinResult::Error("InvalidConfiguration", "TEMPERATURE and MAX_TOKENS must be numbers");
  }
  const std::string job_name = EvaluationJobName("eval", model_name);
  json request = {
      {"jobName", job_name},
      {"roleArn", role},
      {"jobDescription", "evaluate-finetuned-model: " + base + " vs " + model_name},
      {"evaluationConfig",
       {{"automated",
         {{"datasetMetricConfigs",
           json::array({{{"taskType", "Custom"},
                         {"dataset", {{"name", source == "EVAL_DATASET_S3_URI" ? "test-set" : source + "-data"},
                                      {"datasetLocation", {{"s3Uri", dataset}}}}},
                         {"metricNames", SplitList(Setting(call, "METRIC_NAMES", kEvaluateDefaults))}}})}}}}},
      {"inferenceConfig",
       {{"models", json::array({{{"bedrockModel", {{"modelIdentifier", base}, {"inferenceParams", params.dump()}}}},
                                {{"bedrockModel", {{"modelIdentifier", model->arn}, {"inferenceParams", params.dump()}}}}})}}},
      {"outputDataConfig", {{"s3Uri", output}}}};
  Result<CompletedEvaluation> done = evaluation_runner()->Run(request, call.region, call.timeout_s, stopping_);
  if (!done.ok()) return FromStatus(done.status());
  const std::string& arn = done->arn;
  const json& summary = done->summary;
  const json comparisons = summary.value("comparisons", json::array());
  const json& baseline = summary["models"][0];
  const json& custom = summary["models"][1];
  // A model that answered no case has no score: "0" would read as a measured result.
  for (const json* m : {&custom, &baseline}) {
    const size_t cases = m->value("cases", size_t{0}), failed = m->value("failed", size_t{0});
    if (cases > 0 && failed >= cases)
      return BuiltinResult::Error("EvaluationFailed", "every one of the " + std::to_string(cases) + " cases of " +
                                                          m->value("modelIdentifier", std::string("a model")) +
                                                          " failed in the evaluation job " + arn + ": " +
                                                          m->value("firstError", std::string("(no error recorded)")));
  }
  BuiltinResult out;
  out.payload = {{"overallScore", custom.value("overallScore", 0.0)},
                 {"baselineScore", baseline.value("overallScore", 0.0)},
                 {"verdict", comparisons.is_array() && !comparisons.empty() && comparisons[0].is_object()
                                 ? comparisons[0].value("verdict", "")
                                 : "no significant difference"},
                 {"metrics", custom.value("metrics", json::object())},
                 {"baselineMetrics", baseline.value("metrics", json::object())},
                 {"cases", summary.value("cases", 0)},
                 {"failedCases", custom.value("failed", 0)},
                 {"baselineFailedCases", baseline.value("failed", 0)},
                 {"evaluationJobArn", arn},
                 {"reportS3Uri", done->report_uri},
                 {"customModelName", model_name},
                 {"baseModelId", base},
                 {"testSet", {{"s3Uri", dataset}, {"source", source}, {"inSample", source == "training"}}}};
  if (!sample.is_null()) out.payload["testSet"]["sample"] = sample;  // {of, cases, seed, from}
  out.log = "evaluated " + model_name + " against " + base + " on " + dataset + " (" + source + " data" +
            (source == "training" ? ", in-sample: the model was trained on these cases" : "") +
            "): overallScore " + json(out.payload["overallScore"]).dump() + ", baseline " +
            json(out.payload["baselineScore"]).dump() + ", " + out.payload["verdict"].get<std::string>() + "\n";
  return out;
}

}  // namespace lathe::lambda
