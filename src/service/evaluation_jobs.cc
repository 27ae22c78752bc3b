// EvaluationJobService's API side: the five operations; the runner is evaluation_job_runner.cc.
#include "service/evaluation_jobs.h"

#include <filesystem>

#include "core/arn.h"
#include "service/compute_record.h"
#include "service/evaluation_output.h"
#include "service/evaluation_request.h"
#include "service/request_fields.h"
#include "service/resource_json.h"
#include "service/s3_uri.h"
#include "service/throughput_service.h"

namespace lathe::service {
using nlohmann::json;

namespace {

Status Invalid(const std::string& member, const std::string& what) { return ValidationError(member, what); }

// A short, distinct label per model for the run's tables ("amazon.titan-text-express-v1",
// "my-custom-model"): the identifier's last '/' part, folder-safe.
std::string Label(const std::string& identifier, const json& taken) {
  std::string tail = identifier.substr(identifier.rfind('/') == std::string::npos ? 0 : identifier.rfind('/') + 1);
  std::string label;
  for (char c : tail.substr(0, 48))
    label.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '-');
  if (label.empty()) label = "model";
  for (const auto& m : taken)
    if (m.value("label", "") == label) label += "-2";
  return label;
}

}  // namespace

EvaluationJobService::EvaluationJobService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                                           CustomModelService* custom_models, const DataLocations* locations)
    : config_(config), db_(db), catalog_(catalog), custom_models_(custom_models), locations_(locations), leases_(db) {}

EvaluationJobService::~EvaluationJobService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  if (runner_.joinable()) runner_.join();
}

void EvaluationJobService::Start() {
  if (placed(ServiceConfig::JobPlacement::kWorker)) {
    runner_ = std::thread([this] {
      ClaimLoop(leases_, config_, {kEvaluationJobKind, kEvaluationWorkKind}, mu_, wake_, shutting_down_,
                [this](store::Lease lease) { RunClaimed(std::move(lease)); });
    });
    return;
  }
  // What an earlier server left midway: a Stop it had not finished (jobs on workers: theirs to
  // finish), a delete it had not finished.
  store::MetadataStore::ListFilter f;
  f.statuses = {"Stopping", "Deleting"};
  if (auto rows = db_->List(kEvaluationJobKind, f); rows.ok())
    for (auto& r : *rows) {
      if (r.status == "Deleting") {
        std::error_code ec;
        std::filesystem::remove_all(config_.data_dir + "/evaluation-jobs/" + r.id, ec);
        RemoveAllTags(r.arn);
        (void)db_->Delete(kEvaluationJobKind, r.id);
      } else if (!placed(ServiceConfig::JobPlacement::kWorkers)) {
        Finish(&r, "Stopped", {});
      }
    }
  if (placed(ServiceConfig::JobPlacement::kWorkers)) runner_ = std::thread([this] { RunQueueSweeper(); });
  else runner_ = std::thread([this] { RunLoop(); });
}

Result<store::ResourceRow> EvaluationJobService::FindJob(const std::string& identifier) {
  // Bedrock's pattern admits only ARNs; lathe also finds a job by its id or name (length checked).
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "jobIdentifier", rules::kEvaluationJobIdentifier));
  if (identifier.empty()) return Invalid("jobIdentifier", "must have length greater than or equal to 1");
  auto row = db_->Find(kEvaluationJobKind, identifier);
  if (!row.ok() && row.status().code() == Status::Code::kNotFound)
    return Status::NotFound("Evaluation job " + identifier + " not found");
  return row;
}

// What a model identifier stands for, as the runner will need it: a model folder ("dir") or a
// local foundation model ("localId"). Unknown models are the request's error.
Result<json> EvaluationJobService::ResolveModel(const std::string& identifier, const std::string& region) {
  const bool provisioned_arn = ArnResource(identifier).rfind("provisioned-model/", 0) == 0;
  if (auto pt = db_->Find(kThroughputKind, identifier); pt.ok()) {
    if (pt->status == "Failed")
      return Invalid("inferenceConfig.models.member.bedrockModel.modelIdentifier",
                     "names provisioned throughput " + pt->name + ", which is Failed");
    // "modelArn": the model behind it, which UsesModel protects too.
    return json{{"kind", "provisioned-model"}, {"arn", pt->arn}, {"modelArn", pt->doc.value("modelArn", "")},
                {"dir", pt->doc.value("_dir", "")},
                {"localId", pt->doc.value("_localId", "")}};
  }
  if (!provisioned_arn) {
    if (auto cm = custom_models_->FindServable(identifier); cm.ok())
      return json{{"kind", "custom-model"}, {"arn", cm->arn}, {"dir", cm->doc.value("_dir", "")}, {"localId", ""}};
    if (auto fm = catalog_->Find(identifier); fm.ok())
      return json{{"kind", "foundation-model"}, {"arn", catalog_->Arn(fm->id, region)}, {"dir", ""}, {"localId", fm->local_id}};
  }
  return Status::Aws("ResourceNotFoundException", 404,
                     "The model " + identifier + " was not found: name a foundation model id or ARN, a custom model "
                     "ARN or name, or a provisioned throughput ARN (aws bedrock list-foundation-models, "
                     "list-custom-models, list-provisioned-model-throughputs)");
}

Result<json> EvaluationJobService::TokenJob(const std::string& job_id, const std::string& token,
                                           const std::string& request_hash) {
  auto job = db_->Find(kEvaluationJobKind, job_id);
  if (!job.ok() || job->doc.value("_clientRequestToken", "") != token) return json::object();  // not this token's
  if (job->doc.value("_requestHash", "") != request_hash)
    return Status::Aws("ValidationException", 400,
                       "The clientRequestToken " + token + " was used with a different request (evaluation job " +
                           job->name + "); a retry must repeat its request, a new request needs a new token");
  return json{{"jobArn", job->arn}};
}

void EvaluationJobService::RemoveAllTags(const std::string& arn) {
  std::vector<std::string> keys;
  if (auto tags = db_->Tags(arn); tags.ok())
    for (const auto& [k, v] : *tags) keys.push_back(k);
  if (!keys.empty()) (void)db_->RemoveTags(arn, keys);
}

Result<json> EvaluationJobService::Create(const json& req, const std::string& region) {
  LATHE_ASSIGN_OR_RETURN(CheckedEvaluationRequest c, CheckEvaluationRequest(req));
  // The request as a retry must repeat it: a token reused with another request is refused.
  json body = req;
  body.erase("clientRequestToken");
  const std::string request_hash = std::to_string(std::hash<std::string>{}(body.dump()));
  if (!c.token.empty())  // a retry of a request that succeeded gets its job back, before any other check
    if (auto earlier = TokenJob(c.job_name, c.token, request_hash); !earlier.ok() || !earlier->empty()) return earlier;
  LATHE_RETURN_IF_ERROR(CheckJobRole(config_.strict_roles, role_exists_, c.role_arn));
  store::MetadataStore::ListFilter active;
  active.statuses = {"InProgress", "Stopping"};
  if (auto n = db_->Count(kEvaluationJobKind, active); n.ok() && *n >= static_cast<size_t>(config_.max_active_jobs))
    return Status::QuotaExceeded(std::to_string(*n) + " evaluation jobs are already in progress or queued (maxActiveJobs " +
                                 std::to_string(config_.max_active_jobs) + " in the server's config)");
  json models = json::array();
  for (const auto& id : c.model_identifiers) {
    LATHE_ASSIGN_OR_RETURN(json m, ResolveModel(id, region));
    m["identifier"] = id;
    m["label"] = Label(id, models);
    models.push_back(std::move(m));
  }
  auto dataset = locations_->CheckInput(c.dataset_uri);
  if (!dataset.ok())
    return Invalid("evaluationConfig.automated.datasetMetricConfigs.1.member.dataset.datasetLocation.s3Uri",
                   dataset.status().message());
  auto output = locations_->CheckOutput(c.output_uri);
  if (!output.ok()) return Invalid("outputDataConfig.s3Uri", output.status().message());
  if (IsS3Uri(*output)) {
    // The longest key the job will write, checked now rather than after the whole run:
    // <prefix><jobName>/<jobId>/models/<model>/taskTypes/<task>/datasets/<dataset>/<uuid>_output.jsonl
    size_t model_folder = 0;
    for (const auto& id : c.model_identifiers) model_folder = std::max(model_folder, ModelFolderName(id).size());
    auto prefix = ParseS3PrefixUri(*output);
    const size_t longest = (prefix.ok() ? prefix->key.size() : 0) + c.job_name.size() + 1 + 12 + 8 + model_folder +
                           11 + c.task_type.size() + 10 + ModelFolderName(c.dataset_name).size() + 1 + 36 + 13;
    if (longest > kMaxS3KeyBytes)
      return Invalid("outputDataConfig.s3Uri", "with this job name, models and dataset name the job's output keys would "
                     "be up to " + std::to_string(longest) + " bytes; S3 allows " + std::to_string(kMaxS3KeyBytes) +
                     " (use a shorter prefix or names)");
  }

  store::ResourceRow job;
  job.kind = kEvaluationJobKind;
  job.id = NewResourceId();
  job.name = c.job_name;
  job.arn = BedrockArn(InRegion(config_.scope, region), "evaluation-job/" + job.id);
  job.status = "InProgress";
  job.created_ms = NowMillis();
  // The request's members as Bedrock echoes them in GetEvaluationJob (only those lathe read).
  json metric_config = {{"taskType", c.task_type},
                        {"dataset", {{"name", c.dataset_name}, {"datasetLocation", {{"s3Uri", c.dataset_uri}}}}},
                        {"metricNames", c.metric_names}};
  json model_configs = json::array();
  for (const auto& m : req.at("inferenceConfig").at("models")) {  // its shape was checked above
    const json& b = m.at("bedrockModel");
    json bedrock = {{"modelIdentifier", b.at("modelIdentifier")}};
    if (b.contains("inferenceParams") && b["inferenceParams"].is_string()) bedrock["inferenceParams"] = b["inferenceParams"];
    model_configs.push_back({{"bedrockModel", bedrock}});
  }
  json settings = {{"temperature", c.params.temperature.value_or(0.0)},
                   {"topP", c.params.top_p.value_or(1.0)},
                   {"maxTokens", c.params.max_tokens.value_or(128)},
                   {"seed", kEvaluationSeed}};
  job.doc = {{"jobArn", job.arn},
             {"jobName", job.name},
             {"status", "InProgress"},
             {"roleArn", c.role_arn},
             {"jobType", "Automated"},
             {"applicationType", "ModelEvaluation"},
             {"evaluationConfig", {{"automated", {{"datasetMetricConfigs", json::array({metric_config})}}}}},
             {"inferenceConfig", {{"models", model_configs}}},
             {"outputDataConfig", {{"s3Uri", c.output_uri}}},
             {"creationTime", Iso8601(job.created_ms)},
             {"lastModifiedTime", Iso8601(job.created_ms)},
             {"latheGenerationSettings", settings},  // recorded: the run can be repeated exactly
             {"_models", models},
             {"_datasetInput", *dataset},
             {"_outputDir", *output},
             {"_account", config_.scope.account},
             {"_taskType", c.task_type},
             {"_datasetName", c.dataset_name},
             {"_metricNames", c.metric_names}};
  if (!c.description.empty()) job.doc["jobDescription"] = c.description;
  if (!c.kms_key_id.empty()) job.doc["customerEncryptionKeyId"] = c.kms_key_id;
  std::string token_holder = job.id;
  if (!c.token.empty()) {
    job.doc["_clientRequestToken"] = c.token;
    job.doc["_requestHash"] = request_hash;
    // Remembered once every check passed, so a refused request does not hold the token. Two
    // concurrent retries: the second finds the first's id here (or its row at the re-check below).
    auto first = db_->RememberToken(kEvaluationJobKind, c.token, job.id);
    if (!first.ok()) return first.status();
    if (*first != job.id) {
      if (auto earlier = TokenJob(*first, c.token, request_hash); !earlier.ok() || !earlier->empty()) return earlier;
      token_holder = *first;  // not created yet (a concurrent request), or never (it failed)
    }
  }
  if (Status s = db_->Insert(job); !s.ok()) {
    if (s.code() == Status::Code::kAlreadyExists) {
      if (!c.token.empty())  // a concurrent request with the same token may have won
        if (auto earlier = TokenJob(token_holder, c.token, request_hash); !earlier.ok() || !earlier->empty())
          return earlier;
      return Status::Conflict("An evaluation job named " + job.name + " already exists");
    }
    return s;
  }
  if (!c.tags.empty()) LATHE_RETURN_IF_ERROR(db_->SetTags(job.arn, c.tags));
  // On workers: queued now (the sweeper queues it later should this fail).
  if (placed(ServiceConfig::JobPlacement::kWorkers))
    (void)QueueForWorkers(leases_, {kEvaluationJobKind, kEvaluationWorkKind}, job, store::Capacity{1, 0, 0});
  wake_.notify_all();
  return json{{"jobArn", job.arn}};
}

Result<json> EvaluationJobService::Get(const std::string& identifier) {
  LATHE_ASSIGN_OR_RETURN(store::ResourceRow row, FindJob(identifier));
  json out = PublicFields(row.doc);
  out["status"] = row.status;
  if (row.doc.contains("_progress")) out["latheProgress"] = row.doc["_progress"];  // SDKs ignore it
  if (row.doc.contains("_worker")) out["latheWorker"] = row.doc["_worker"];  // which `lathe worker` ran it last
  if (json compute = PublicCompute(row.doc); !compute.is_null()) out["latheCompute"] = compute;  // `lathe costs`
  return out;
}

Result<json> EvaluationJobService::List(const std::map<std::string, std::string>& query) {
  std::map<std::string, std::string> rest = query;
  bool rag = false;
  if (auto app = rest.find("applicationTypeEquals"); app != rest.end()) {
    if (app->second != "ModelEvaluation" && app->second != "RagEvaluation")
      return Invalid("applicationTypeEquals", "Member must satisfy enum value set: [ModelEvaluation, RagEvaluation]");
    rag = app->second == "RagEvaluation";
    rest.erase(app);
  }
  auto q = ParseListQuery(rest, rules::kEvaluationJobName);
  if (!q.ok()) return q.status();
  static const std::set<std::string> kStatuses = {"InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"};
  if (!q->status_equals.empty() && !kStatuses.count(q->status_equals))
    return Invalid("statusEquals",
                   "Member must satisfy enum value set: [InProgress, Completed, Failed, Stopping, Stopped, Deleting]");
  std::string next;
  auto rows = ListPage(db_, kEvaluationJobKind, *q, {}, &next);
  if (!rows.ok()) return rows.status();
  if (rag) return json{{"jobSummaries", json::array()}};  // lathe runs none; the parameters were checked
  json summaries = json::array();
  for (const auto& r : *rows) {
    json ids = json::array();
    for (const auto& m : r.doc.value("_models", json::array())) ids.push_back(m.value("identifier", ""));
    summaries.push_back({{"jobArn", r.arn},
                         {"jobName", r.name},
                         {"status", r.status},
                         {"creationTime", Iso8601(r.created_ms)},
                         {"jobType", "Automated"},
                         {"evaluationTaskTypes", json::array({r.doc.value("_taskType", "Custom")})},
                         {"modelIdentifiers", ids},
                         {"inferenceConfigSummary", {{"modelConfigSummary", {{"bedrockModelIdentifiers", ids}}}}},
                         {"applicationType", "ModelEvaluation"}});
  }
  json out = {{"jobSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Status EvaluationJobService::Stop(const std::string& identifier) {
  // Under mu_ from the read to the write, against the runner finishing the job in between.
  std::lock_guard<std::mutex> lock(mu_);
  LATHE_ASSIGN_OR_RETURN(store::ResourceRow row, FindJob(identifier));
  if (row.status != "InProgress")
    return Status::Conflict("Evaluation job " + row.name + " is " + row.status + "; only an InProgress job can be stopped");
  if (placed(ServiceConfig::JobPlacement::kWorkers)) return StopOnWorkerLocked(&row);
  if (row.id != running_id_) {  // queued: nothing to interrupt
    row.status = "Stopped";
    return SaveLocked(row);
  }
  stop_requested_.insert(row.id);
  row.status = "Stopping";
  LATHE_RETURN_IF_ERROR(SaveLocked(row));
  wake_.notify_all();
  return Status::Ok();
}

Result<json> EvaluationJobService::BatchDelete(const json& req) {
  if (!req.is_object()) return Invalid("body", "must be a JSON object");
  LATHE_ASSIGN_OR_RETURN(const json* ids, OptionalList(req, "jobIdentifiers", 25));
  if (!ids) return Invalid("jobIdentifiers", "must not be null");
  if (ids->empty()) return Invalid("jobIdentifiers", "must have length greater than or equal to 1");
  // Every identifier is checked before anything changes: a bad one is the request's error, and
  // no job is deleted by a request answered 400.
  for (size_t i = 0; i < ids->size(); ++i) {
    const json& v = (*ids)[i];
    const std::string member = "jobIdentifiers." + std::to_string(i + 1) + ".member";
    if (!v.is_string()) return Invalid(member, std::string("must be a string (found ") + v.type_name() + ")");
    LATHE_RETURN_IF_ERROR(CheckLength(v.get<std::string>(), member, rules::kEvaluationJobIdentifier));
    if (v.get<std::string>().empty()) return Invalid(member, "must have length greater than or equal to 1");
  }
  json errors = json::array(), deleted = json::array();
  auto error = [&](const std::string& id, const char* code, const std::string& message) {
    errors.push_back({{"jobIdentifier", id}, {"code", code}, {"message", message}});
  };
  for (const auto& v : *ids) {
    const std::string id = v.get<std::string>();
    std::unique_lock<std::mutex> lock(mu_);
    auto row = db_->Find(kEvaluationJobKind, id);
    if (!row.ok()) {
      if (row.status().code() == Status::Code::kNotFound) error(id, "ResourceNotFoundException", "Evaluation job " + id + " not found");
      else error(id, "InternalServerException", row.status().message());
      continue;
    }
    if (row->status == "InProgress" || row->status == "Stopping") {
      error(id, "ConflictException", "Evaluation job " + row->name + " is " + row->status +
                                         "; only Completed, Failed or Stopped jobs can be deleted (stop it first)");
      continue;
    }
    // Deleting is written first: a crash before the row goes is finished by the next Start(). A
    // row already Deleting (an earlier request that failed midway) is deleted again.
    if (row->status != "Deleting") {
      row->status = "Deleting";
      if (Status s = SaveLocked(*row); !s.ok()) {
        error(id, "InternalServerException", s.message());
        continue;
      }
    }
    lock.unlock();
    std::error_code ec;
    std::filesystem::remove_all(config_.data_dir + "/evaluation-jobs/" + row->id, ec);
    RemoveAllTags(row->arn);
    if (Status s = db_->Delete(kEvaluationJobKind, row->id); !s.ok()) {
      error(id, "InternalServerException", s.message() + " (the job stays Deleting; the server's next start removes it)");
      continue;
    }
    deleted.push_back({{"jobIdentifier", id}, {"jobStatus", "Deleting"}});
  }
  return json{{"errors", errors}, {"evaluationJobs", deleted}};
}

bool EvaluationJobService::UsesModel(const std::string& model_arn) {
  store::MetadataStore::ListFilter active;
  active.statuses = {"InProgress", "Stopping"};
  auto rows = db_->List(kEvaluationJobKind, active);
  if (!rows.ok()) return true;  // when unsure, keep the model
  for (const auto& r : *rows)
    for (const auto& m : r.doc.value("_models", json::array()))
      if (m.is_object() && (m.value("arn", "") == model_arn || m.value("modelArn", "") == model_arn)) return true;
  return false;
}

Result<json> EvaluationJobService::Results(const std::string& identifier) {
  LATHE_ASSIGN_OR_RETURN(store::ResourceRow row, FindJob(identifier));
  json out = {{"status", row.status}, {"jobArn", row.arn}, {"jobName", row.name}};
  for (const char* k : {"failureMessages"})
    if (row.doc.contains(k)) out[k] = row.doc[k];
  if (row.doc.contains("_summary")) out["summary"] = row.doc["_summary"];
  if (row.doc.contains("_reportUri")) out["reportUri"] = row.doc["_reportUri"];
  return out;
}

Status EvaluationJobService::Save(const store::ResourceRow& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return SaveLocked(job);
}

Status EvaluationJobService::SaveLocked(const store::ResourceRow& job) {
  if (placed(ServiceConfig::JobPlacement::kWorker)) return SaveClaimedLocked(job);
  store::ResourceRow copy = job;
  // A Stop that landed while the runner held this copy must not be undone by it.
  if (copy.status == "InProgress" && stop_requested_.count(copy.id)) copy.status = "Stopping";
  copy.doc["status"] = copy.status;
  copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
  return db_->Update(copy);
}

}  // namespace lathe::service
