#include "services/openai/job_mapping.h"

#include <cmath>
#include <cstdio>

#include "core/arn.h"
#include "services/openai/body_fields.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

bool IdChars(std::string_view s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return !s.empty();
}

// n_epochs / batch_size / learning_rate_multiplier: a number or "auto" (lathe's default).
Problem Hyper(const json& hp, const char* key, bool integer, double min, double max, std::string* out) {
  auto it = hp.find(key);
  if (it == hp.end() || it->is_null() || (it->is_string() && *it == "auto")) return std::nullopt;
  const std::string param = std::string("hyperparameters.") + key;
  if (integer ? !it->is_number_integer() : !it->is_number())
    return Invalid(param, "Invalid type for '" + param + "': expected " + (integer ? "an integer" : "a number") +
                              " or \"auto\".");
  const double v = it->get<double>();
  if (!(v >= min && v <= max))
    return Invalid(param, "'" + param + "' must be between " + json(min).dump() + " and " + json(max).dump() + ".");
  if (integer) {
    *out = std::to_string(it->get<int64_t>());
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v * kDefaultLearningRate);
    *out = buf;
  }
  return std::nullopt;
}

int64_t Seconds(const json& job, const char* key) {
  const int64_t ms = ParseIso8601(job.value(key, ""));
  return ms > 0 ? ms / 1000 : 0;
}

}  // namespace

std::string JobIdOf(const std::string& job_arn) {
  const size_t slash = job_arn.rfind('/');
  return "ftjob-" + (slash == std::string::npos ? job_arn : job_arn.substr(slash + 1));
}

std::string BedrockJobId(const std::string& openai_id) {
  if (openai_id.size() > 128 || openai_id.rfind("ftjob-", 0) != 0 || !IdChars(openai_id.substr(6))) return "";
  return openai_id.substr(6);
}

std::variant<json, ApiError> BedrockJobRequest(std::string_view body, const JobNames& names, const FileUri& file_uri) {
  json j;
  if (auto p = ParseObject(body, &j)) return *p;
  if (auto p = OnlyKeys(j, {"model", "training_file", "validation_file", "hyperparameters", "suffix", "seed",
                            "method", "integrations", "metadata"}))
    return *p;
  std::string model, training, validation, suffix;
  if (auto p = String(j, "model", 2048, &model, true)) return *p;
  if (auto p = String(j, "training_file", 128, &training, true)) return *p;
  if (auto p = String(j, "validation_file", 128, &validation)) return *p;
  if (auto p = String(j, "suffix", 18, &suffix)) return *p;  // OpenAI's bound: 18 characters
  for (char c : suffix)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
      return Invalid("suffix", "'suffix' may hold letters, digits and '-' only.");
  if (j.contains("integrations") && !j["integrations"].is_null() && !j["integrations"].empty())
    return Unsupported("integrations", "lathe reports to no integrations (Weights and Biases).");
  // The hyperparameters: top level (older SDKs) or method.supervised.hyperparameters.
  json hp = j.value("hyperparameters", json::object());
  if (auto m = j.find("method"); m != j.end() && !m->is_null()) {
    if (!m->is_object()) return Invalid("method", "Invalid type for 'method': expected an object.");
    std::string type = "supervised";
    if (auto p = String(*m, "type", 64, &type)) return Invalid("method.type", p->message);
    if (type != "supervised") return Unsupported("method.type", "lathe fine-tunes with the supervised method only.");
    if (auto s = m->find("supervised"); s != m->end() && s->is_object() && s->contains("hyperparameters"))
      hp = (*s)["hyperparameters"];
  }
  if (hp.is_null()) hp = json::object();
  if (!hp.is_object()) return Invalid("hyperparameters", "Invalid type for 'hyperparameters': expected an object.");
  if (auto p = OnlyKeys(hp, {"n_epochs", "batch_size", "learning_rate_multiplier"}, "hyperparameters.")) return *p;
  json bedrock_hp = json::object();
  std::string v;
  if (auto p = Hyper(hp, "n_epochs", true, 1, 100, &v)) return *p;
  if (!v.empty()) bedrock_hp["epochCount"] = v;
  v.clear();
  if (auto p = Hyper(hp, "batch_size", true, 1, 256, &v)) return *p;
  if (!v.empty()) bedrock_hp["batchSize"] = v;
  v.clear();
  if (auto p = Hyper(hp, "learning_rate_multiplier", false, 0.001, 10000, &v)) return *p;
  if (!v.empty()) bedrock_hp["learningRate"] = v;
  int64_t seed = -1;
  if (auto p = Integer(j, "seed", 0, 2147483647, &seed)) return *p;
  if (seed >= 0) bedrock_hp["seed"] = std::to_string(seed);

  auto train_uri = file_uri(training, "training_file");
  if (auto* e = std::get_if<ApiError>(&train_uri)) return *e;
  json request = {{"jobName", "openai-ft-" + names.random},
                  {"customModelName", "ft-" + (suffix.empty() ? "" : suffix + "-") + names.random},
                  {"roleArn", names.role_arn},
                  {"baseModelIdentifier", model},
                  {"customizationType", "FINE_TUNING"},
                  {"trainingDataConfig", {{"s3Uri", std::get<std::string>(train_uri)}}},
                  {"outputDataConfig", {{"s3Uri", names.output_uri}}},
                  {"hyperParameters", bedrock_hp}};
  if (!validation.empty()) {
    auto uri = file_uri(validation, "validation_file");
    if (auto* e = std::get_if<ApiError>(&uri)) return *e;
    request["validationDataConfig"] = {{"validators", json::array({{{"s3Uri", std::get<std::string>(uri)}}})}};
  }
  return request;
}

std::string JobStatus(const json& job) {
  const std::string status = job.value("status", "");
  if (status == "Completed") return "succeeded";
  if (status == "Failed") return "failed";
  if (status == "Stopping" || status == "Stopped") return "cancelled";
  const json details = job.value("statusDetails", json::object());
  auto phase = [&](const char* name) { return details.value(name, json::object()).value("status", ""); };
  if (phase("trainingDetails") == "InProgress" || phase("trainingDetails") == "Completed") return "running";
  if (phase("validationDetails") == "InProgress") return "validating_files";
  return "queued";
}

json OpenAIJob(const json& job, const std::string& account,
               const std::function<std::string(const std::string& uri)>& file_id) {
  const std::string arn = job.value("jobArn", "");
  // The base model as the job's ARN names it: model-customization-job/<base>/<id>.
  std::string model;
  if (size_t start = arn.find("model-customization-job/"); start != std::string::npos) {
    start += std::string("model-customization-job/").size();
    const size_t end = arn.rfind('/');
    if (end != std::string::npos && end > start) model = arn.substr(start, end - start);
  }
  auto shown = [&](const std::string& uri) {
    std::string id = file_id(uri);
    return id.empty() ? uri : id;
  };
  const std::string training = shown(job.value("trainingDataConfig", json::object()).value("s3Uri", ""));
  json validation = nullptr;
  const json validators = job.value("validationDataConfig", json::object()).value("validators", json::array());
  if (validators.is_array() && !validators.empty()) validation = shown(validators[0].value("s3Uri", ""));
  const json hp = job.value("hyperParameters", json::object());
  auto number = [&](const char* key, bool integer) -> json {
    if (!hp.contains(key) || !hp[key].is_string()) return "auto";
    const std::string& s = hp[key].get_ref<const std::string&>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str()) return "auto";
    if (integer) return static_cast<int64_t>(d);
    return std::round(d / kDefaultLearningRate * 1e6) / 1e6;
  };
  const std::string status = JobStatus(job);
  json out = {{"object", "fine_tuning.job"},
              {"id", JobIdOf(arn)},
              {"model", model},
              {"created_at", Seconds(job, "creationTime")},
              {"finished_at", job.contains("endTime") ? json(Seconds(job, "endTime")) : json()},
              {"fine_tuned_model", status == "succeeded" ? json(job.value("outputModelName", "")) : json()},
              {"organization_id", account},
              {"result_files", json::array()},
              {"status", status},
              {"training_file", training},
              {"validation_file", validation},
              {"hyperparameters", {{"n_epochs", number("epochCount", true)},
                                   {"batch_size", number("batchSize", true)},
                                   {"learning_rate_multiplier", number("learningRate", false)}}},
              {"trained_tokens", nullptr},
              {"error", nullptr},
              {"seed", hp.contains("seed") ? number("seed", true) : json(42)},
              {"estimated_finish", nullptr},
              {"integrations", json::array()},
              {"metadata", nullptr},
              {"user_provided_suffix", nullptr}};
  // "ft-<suffix>-<random>" for jobs made here: the suffix is what lies between.
  const std::string made = job.value("outputModelName", "");
  if (made.rfind("ft-", 0) == 0 && made.rfind('-') > 3) out["user_provided_suffix"] = made.substr(3, made.rfind('-') - 3);
  out["method"] = {{"type", "supervised"}, {"supervised", {{"hyperparameters", out["hyperparameters"]}}}};
  if (auto c = job.find("latheCompute"); c != job.end() && c->is_object() && c->contains("trainedTokens"))
    out["trained_tokens"] = (*c)["trainedTokens"];
  if (status == "failed")
    out["error"] = {{"code", "invalid_training_job"}, {"message", job.value("failureMessage", "")}, {"param", nullptr}};
  // What Bedrock's API reports too: the same numbers under their Bedrock names.
  if (job.contains("trainingMetrics")) out["lathe_training_metrics"] = job["trainingMetrics"];
  if (job.contains("validationMetrics")) out["lathe_validation_metrics"] = job["validationMetrics"];
  out["lathe_job_arn"] = arn;
  return out;
}

}  // namespace lathe::openai
