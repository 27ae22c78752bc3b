// OpenAIBackend: /v1/fine_tuning/jobs over Bedrock's JobService (job_mapping.h says how).
#include <algorithm>

#include "core/arn.h"
#include "service/s3_uri.h"
#include "services/openai/backend.h"
#include "services/openai/body_fields.h"
#include "services/openai/job_mapping.h"
#include "services/openai/limits.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cols;
  size_t p = 0;
  while (true) {
    const size_t q = line.find(',', p);
    cols.push_back(line.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) return cols;
    p = q + 1;
  }
}

// limit= (1..100, default `fallback`) and after= of the list endpoints.
Problem ListParams(const Query& query, int64_t fallback, int64_t* limit, std::string* after) {
  *limit = fallback;
  if (auto it = query.find("limit"); it != query.end()) {
    const std::string& s = it->second;
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), ::isdigit) || std::stoll(s) < 1 ||
        std::stoll(s) > kMaxListLimit)
      return Invalid("limit", "'limit' must be an integer from 1 to 100.");
    *limit = std::stoll(s);
  }
  if (auto it = query.find("after"); it != query.end()) *after = it->second.substr(0, kMaxIdBytes);
  return std::nullopt;
}

// One page of OpenAI's list shape from `items` (newest first), starting after the id `after`.
json Page(const std::vector<json>& items, int64_t limit, const std::string& after) {
  json data = json::array();
  bool started = after.empty(), more = false;
  for (const auto& item : items) {
    if (!started) {
      started = item.value("id", "") == after;
      continue;
    }
    if (static_cast<int64_t>(data.size()) == limit) {
      more = true;
      break;
    }
    data.push_back(item);
  }
  return {{"object", "list"}, {"data", data}, {"has_more", more}};
}

}  // namespace

std::variant<json, ApiError> OpenAIBackend::FindJob(const std::string& id) {
  const std::string bedrock_id = BedrockJobId(id);
  if (bedrock_id.empty()) return ApiError{ErrorKind::kNotFound, "No such fine-tuning job: " + id.substr(0, 64), "id"};
  auto job = bedrock_->jobs().Get(bedrock_id);
  if (!job.ok()) return ApiError{ErrorKind::kNotFound, "No such fine-tuning job: " + id, "id"};
  return *job;
}

Answer OpenAIBackend::CreateJob(std::string_view body) {
  if (!files_) return ApiError{ErrorKind::kUnknownUrl, "This server keeps no files for fine-tuning", ""};
  JobNames names;
  names.account = account_;
  names.output_uri = files_->Uri(account_, "fine-tuning/");
  names.role_arn = "arn:aws:iam::" + account_ + ":role/lathe-openai-fine-tuning";
  names.random = NewResourceId(12);
  std::transform(names.random.begin(), names.random.end(), names.random.begin(), ::tolower);
  auto file_uri = [this](const std::string& file_id, const char* param) -> std::variant<std::string, ApiError> {
    auto row = FindFile(file_id);
    if (auto* e = std::get_if<ApiError>(&row)) return ApiError{ErrorKind::kInvalidRequest, e->message, param};
    const auto& r = std::get<store::ResourceRow>(row);
    if (r.doc.value("purpose", "") != "fine-tune")
      return ApiError{ErrorKind::kInvalidRequest, "File " + file_id + " was not uploaded for fine-tuning", param};
    return files_->Uri(account_, r.doc.value("key", ""));
  };
  auto request = BedrockJobRequest(body, names, file_uri);
  if (auto* e = std::get_if<ApiError>(&request)) return *e;
  const json& bedrock_request = std::get<json>(request);
  // The base model must be one a job can customize; say so as OpenAI does.
  const std::string model = bedrock_request["baseModelIdentifier"];
  if (!bedrock_->custom_models().FindServable(model).ok() && !bedrock_->catalog().Find(model).ok())
    return ApiError{ErrorKind::kModelNotFound, "Model " + model.substr(0, 200) + " is not available for fine-tuning",
                    "model"};
  auto created = bedrock_->jobs().Create(bedrock_request);
  if (!created.ok()) return FromStatus(created.status(), ErrorKind::kModelNotFound);
  return RetrieveJob(JobIdOf((*created)["jobArn"]));
}

Answer OpenAIBackend::RetrieveJob(const std::string& id) {
  auto job = FindJob(id);
  if (auto* e = std::get_if<ApiError>(&job)) return *e;
  const std::string prefix = "s3://" + (files_ ? files_->Bucket(account_) : std::string("-")) + "/files/";
  return OpenAIJob(std::get<json>(job), account_, [&](const std::string& uri) {
    return uri.rfind(prefix, 0) == 0 ? uri.substr(prefix.size()) : std::string();
  });
}

Answer OpenAIBackend::ListJobs(const Query& query) {
  int64_t limit = 0;
  std::string after;
  if (auto p = ListParams(query, 20, &limit, &after)) return *p;
  // Newest first, every job the Bedrock API lists (either API made it), a bounded number of pages.
  std::vector<json> items;
  std::string next;
  for (int page = 0; page < 20; ++page) {
    std::map<std::string, std::string> q = {{"maxResults", "100"}, {"sortBy", "CreationTime"},
                                            {"sortOrder", "Descending"}};
    if (!next.empty()) q["nextToken"] = next;
    auto listed = bedrock_->jobs().List(q);
    if (!listed.ok()) return FromStatus(listed.status());
    for (const auto& s : (*listed)["modelCustomizationJobSummaries"]) {
      Answer job = RetrieveJob(JobIdOf(s.value("jobArn", "")));
      if (!Failed(job)) items.push_back(std::get<json>(job));
    }
    next = listed->value("nextToken", "");
    if (next.empty()) break;
  }
  return Page(items, limit, after);
}

Answer OpenAIBackend::CancelJob(const std::string& id) {
  auto job = FindJob(id);
  if (auto* e = std::get_if<ApiError>(&job)) return *e;
  const std::string status = std::get<json>(job).value("status", "");
  if (status != "InProgress")
    return ApiError{ErrorKind::kInvalidRequest, "Job " + id + " has already ended (" + JobStatus(std::get<json>(job)) +
                                                    "); only a running job can be cancelled", "id"};
  if (Status s = bedrock_->jobs().Stop(BedrockJobId(id)); !s.ok()) return FromStatus(s);
  return RetrieveJob(id);
}

std::vector<std::vector<std::string>> OpenAIBackend::StepMetrics(const json& job) {
  std::vector<std::vector<std::string>> rows;
  if (!files_) return rows;
  // The job's published outputs: <output>/model-customization-job-<id>/training_artifacts/...
  auto out = service::ParseS3Uri(job.value("outputDataConfig", json::object()).value("s3Uri", ""));
  if (!out.ok()) return rows;
  std::string key = out->key;
  if (!key.empty() && key.back() != '/') key += '/';
  key += "model-customization-job-" + BedrockJobId(JobIdOf(job.value("jobArn", ""))) +
         "/training_artifacts/step_wise_training_metrics.csv";
  std::string csv;
  if (!files_->Get(account_, out->bucket, key, 16u << 20, &csv).ok()) return rows;
  size_t p = csv.find('\n');  // the header
  while (p != std::string::npos && p + 1 < csv.size() && rows.size() < kMaxEventsScanned) {
    const size_t q = csv.find('\n', p + 1);
    std::string line = csv.substr(p + 1, q == std::string::npos ? std::string::npos : q - p - 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.push_back(SplitCsv(line));
    p = q;
  }
  return rows;
}

Answer OpenAIBackend::JobEvents(const std::string& id, const Query& query) {
  int64_t limit = 0;
  std::string after;
  if (auto p = ListParams(query, 20, &limit, &after)) return *p;
  auto found = FindJob(id);
  if (auto* e = std::get_if<ApiError>(&found)) return *e;
  const json& job = std::get<json>(found);
  // Oldest first while built, newest first as listed (OpenAI's order).
  std::vector<json> events;
  auto add = [&](int64_t at, const std::string& level, const std::string& message, const json& data) {
    events.push_back({{"object", "fine_tuning.job.event"},
                      {"id", "ftevent-" + BedrockJobId(id) + "-" + std::to_string(events.size())},
                      {"created_at", at},
                      {"level", level},
                      {"message", message},
                      {"data", data},
                      {"type", data.is_null() ? "message" : "metrics"}});
  };
  auto seconds = [](const json& doc, const char* key) { return ParseIso8601(doc.value(key, "")) / 1000; };
  add(seconds(job, "creationTime"), "info", "Created fine-tuning job: " + id, nullptr);
  const json details = job.value("statusDetails", json::object());
  for (const char* phase : {"validationDetails", "trainingDetails"}) {
    const json d = details.value(phase, json::object());
    const std::string s = d.value("status", "NotStarted");
    if (s == "NotStarted") continue;
    const std::string what = std::string(phase) == "validationDetails" ? "Validating training file" : "Training";
    add(seconds(d, "creationTime"), "info", what + " started", nullptr);
    if (std::string(phase) == "trainingDetails")
      for (const auto& row : StepMetrics(job))
        if (row.size() >= 3)
          add(seconds(d, "creationTime"), "info", "Step " + row[0] + ": training loss=" + row[2],
              {{"step", std::atoll(row[0].c_str())}, {"train_loss", std::atof(row[2].c_str())},
               {"epoch", std::atoll(row[1].c_str())}});
    if (s != "InProgress") add(seconds(d, "lastModifiedTime"), s == "Completed" ? "info" : "error", what + ": " + s, nullptr);
  }
  const std::string status = JobStatus(job);
  if (status == "succeeded")
    add(seconds(job, "endTime"), "info", "The job has successfully completed: " + job.value("outputModelName", ""), nullptr);
  else if (status == "failed")
    add(seconds(job, "endTime"), "error", "The job failed: " + job.value("failureMessage", ""), nullptr);
  else if (status == "cancelled")
    add(seconds(job, "endTime"), "info", "The job was cancelled", nullptr);
  std::reverse(events.begin(), events.end());
  return Page(events, limit, after);
}

Answer OpenAIBackend::JobCheckpoints(const std::string& id, const Query& query) {
  int64_t limit = 0;
  std::string after;
  if (auto p = ListParams(query, 10, &limit, &after)) return *p;
  auto found = FindJob(id);
  if (auto* e = std::get_if<ApiError>(&found)) return *e;
  const json& job = std::get<json>(found);
  // lathe keeps one checkpoint of a finished job: the model it made (intermediate ones are
  // deleted when the job ends), with the metrics of its last step.
  std::vector<json> items;
  if (JobStatus(job) == "succeeded") {
    auto rows = StepMetrics(job);
    json metrics = json::object();
    int64_t step = 0;
    if (!rows.empty() && rows.back().size() >= 3) {
      step = std::atoll(rows.back()[0].c_str());
      metrics["step"] = step;
      metrics["train_loss"] = std::atof(rows.back()[2].c_str());
    } else if (job.contains("trainingMetrics")) {
      metrics["train_loss"] = job["trainingMetrics"].value("trainingLoss", 0.0);
    }
    const json val = job.value("validationMetrics", json::array());
    if (val.is_array() && !val.empty()) metrics["full_valid_loss"] = val[0].value("validationLoss", 0.0);
    items.push_back({{"object", "fine_tuning.job.checkpoint"},
                     {"id", "ftckpt-" + BedrockJobId(id) + "-" + std::to_string(step)},
                     {"created_at", ParseIso8601(job.value("endTime", "")) / 1000},
                     {"fine_tuned_model_checkpoint", job.value("outputModelName", "")},
                     {"step_number", step},
                     {"metrics", metrics},
                     {"fine_tuning_job_id", id}});
  }
  json page = Page(items, limit, after);
  page["first_id"] = items.empty() ? json() : items.front()["id"];
  page["last_id"] = items.empty() ? json() : items.back()["id"];
  return page;
}

}  // namespace lathe::openai
