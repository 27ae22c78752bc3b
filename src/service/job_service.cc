#include "service/job_service.h"

#include <set>

#include "core/arn.h"
#include "engine/hyperparameters.h"
#include "service/compute_record.h"
#include "service/request_fields.h"
#include "service/s3_uri.h"

namespace lathe::service {
using nlohmann::json;

namespace {

Status Invalid(const std::string& field, const std::string& what) {
  return Status::InvalidArgument("1 validation error detected: Value at '" + field + "' failed to satisfy constraint: " + what);
}

store::MetadataStore::ListFilter ActiveJobs() {
  store::MetadataStore::ListFilter f;
  f.statuses = {"InProgress", "Stopping"};
  return f;
}

// An s3:// URI gets Bedrock's whole S3Uri rule (its pattern allows keys of letters, digits and
// -!_*'(). in '/'-separated parts: no spaces, '%' or other characters), so a request Bedrock
// refuses is refused here too; lathe's file:// URIs get the length only.
Status CheckS3UriPattern(const std::string& uri, const std::string& member) {
  return IsS3Uri(uri) ? CheckString(uri, member, rules::kS3Uri) : Status::Ok();
}

// What CreateModelCustomizationJob's members must be, per the service model: types, lengths and
// patterns (request_fields.h). Lathe resolves baseModelIdentifier and the s3Uris itself (model ids
// from its config, file:// URIs), so those get the model's lengths only (and s3:// URIs its pattern).
struct CheckedCreate {
  std::string job_name, model_name, role_arn, base, type, token;
  std::string train_uri, output_uri;
  std::vector<std::string> validator_uris;
  std::map<std::string, std::string> job_tags, model_tags;
};

Result<CheckedCreate> CheckCreateRequest(const json& req) {
  CheckedCreate c;
  LATHE_ASSIGN_OR_RETURN(c.job_name, RequireString(req, "jobName", rules::kJobName));
  LATHE_ASSIGN_OR_RETURN(c.model_name, RequireString(req, "customModelName", rules::kCustomModelName));
  LATHE_ASSIGN_OR_RETURN(c.role_arn, RequireString(req, "roleArn", rules::kRoleArn));
  LATHE_ASSIGN_OR_RETURN(c.base, RequireString(req, "baseModelIdentifier", rules::kBaseModelIdentifier, "",
                                                Check::kLengthOnly));
  LATHE_ASSIGN_OR_RETURN(auto token, OptionalString(req, "clientRequestToken", rules::kIdempotencyToken));
  c.token = token.value_or("");
  LATHE_ASSIGN_OR_RETURN(c.type, OptionalEnum(req, "customizationType",
                                              {"FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION",
                                               "REINFORCEMENT_FINE_TUNING", "IMPORTED"},
                                              "FINE_TUNING"));
  LATHE_ASSIGN_OR_RETURN(auto kms, OptionalString(req, "customModelKmsKeyId", rules::kKmsKeyId));
  (void)kms;  // lathe's model files are not encrypted; a well-formed key id is accepted and unused
  LATHE_ASSIGN_OR_RETURN(const json* train, RequireObject(req, "trainingDataConfig"));
  LATHE_ASSIGN_OR_RETURN(c.train_uri, RequireString(*train, "s3Uri", rules::kS3Uri, "trainingDataConfig",
                                                     Check::kLengthOnly));
  LATHE_RETURN_IF_ERROR(CheckS3UriPattern(c.train_uri, "trainingDataConfig.s3Uri"));
  LATHE_ASSIGN_OR_RETURN(const json* output, RequireObject(req, "outputDataConfig"));
  LATHE_ASSIGN_OR_RETURN(c.output_uri, RequireString(*output, "s3Uri", rules::kS3Uri, "outputDataConfig",
                                                      Check::kLengthOnly));
  LATHE_RETURN_IF_ERROR(CheckS3UriPattern(c.output_uri, "outputDataConfig.s3Uri"));
  LATHE_ASSIGN_OR_RETURN(const json* validation, OptionalObject(req, "validationDataConfig"));
  if (validation) {
    const std::string path = "validationDataConfig.validators";
    LATHE_ASSIGN_OR_RETURN(const json* validators, OptionalList(*validation, "validators", 10, "validationDataConfig"));
    if (!validators) return ValidationError(path, "must not be null");
    for (size_t i = 0; i < validators->size(); ++i) {
      const json& one = (*validators)[i];
      const std::string item = path + "." + std::to_string(i + 1) + ".member";
      if (!one.is_object()) return ValidationError(item, std::string("must be an object (found ") + one.type_name() + ")");
      LATHE_ASSIGN_OR_RETURN(auto uri, RequireString(one, "s3Uri", rules::kS3Uri, item, Check::kLengthOnly));
      LATHE_RETURN_IF_ERROR(CheckS3UriPattern(uri, item + ".s3Uri"));
      c.validator_uris.push_back(std::move(uri));
    }
  }
  LATHE_ASSIGN_OR_RETURN(c.job_tags, TagList(req, "jobTags"));
  LATHE_ASSIGN_OR_RETURN(c.model_tags, TagList(req, "customModelTags"));
  return c;
}

}  // namespace

json JobService::NewPhase(const std::string& status) {
  const std::string now = Iso8601(NowMillis());
  return {{"status", status}, {"creationTime", now}, {"lastModifiedTime", now}};
}

void JobService::SetPhase(json* doc, const char* phase, const std::string& status) {
  json& p = (*doc)["statusDetails"][phase];
  if (!p.contains("creationTime")) p = NewPhase(status);
  p["status"] = status;
  p["lastModifiedTime"] = Iso8601(NowMillis());
}

JobService::JobService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                       CustomModelService* custom_models, const DataLocations* locations)
    : config_(config), db_(db), catalog_(catalog), custom_models_(custom_models), locations_(locations), leases_(db) {}

JobService::~JobService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  if (runner_.joinable()) runner_.join();
}

void JobService::Start() {
  if (placed(ServiceConfig::JobPlacement::kWorkers)) {  // an API node: the workers run the jobs
    runner_ = std::thread([this] { RunQueueSweeper(); });
    return;
  }
  if (placed(ServiceConfig::JobPlacement::kWorker)) {
    runner_ = std::thread([this] { RunClaimLoop(); });
    return;
  }
  store::MetadataStore::ListFilter stopping;
  stopping.statuses = {"Stopping"};
  if (auto rows = db_->List(kJobKind, stopping); rows.ok())
    for (auto& r : *rows) Finish(&r, "Stopped", "");
  runner_ = std::thread([this] { RunLoop(); });
}

Status JobService::Save(const store::ResourceRow& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return SaveLocked(job);
}

Status JobService::SaveLocked(const store::ResourceRow& job) {
  if (placed(ServiceConfig::JobPlacement::kWorker)) return SaveClaimedLocked(job);
  store::ResourceRow copy = job;
  // A Stop that landed while the runner held this copy must not be undone by it.
  if (copy.status == "InProgress" && stop_requested_.count(copy.id)) copy.status = "Stopping";
  const std::string before = copy.doc.value("status", "");
  copy.doc["status"] = copy.status;
  copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
  // A status change and its event are one transaction: consumers never miss one after a crash.
  if (before != copy.status) return db_->UpdateAndPublish(copy, StateChangeEvent(copy));
  return db_->Update(copy);
}

store::OutboxEvent JobService::StateChangeEvent(const store::ResourceRow& job) const {
  // The fields of AWS's "Model Customization Job State Change" event (source aws.bedrock).
  store::OutboxEvent e;
  e.source = "aws.bedrock";
  e.detail_type = "Model Customization Job State Change";
  const std::string arn = job.arn;
  e.region = InRegion(config_.scope, ArnRegion(arn)).region;
  e.account = config_.scope.account;
  e.resources = {arn};
  e.time_ms = NowMillis();
  json d = {{"version", "0.0"}, {"jobName", job.name}, {"jobArn", arn}, {"jobStatus", job.status}};
  for (const char* key : {"outputModelName", "outputModelArn", "roleArn", "failureMessage", "creationTime",
                          "lastModifiedTime", "endTime", "baseModelArn", "hyperParameters", "trainingDataConfig",
                          "validationDataConfig", "outputDataConfig", "customizationType"})
    if (job.doc.contains(key)) d[key] = job.doc[key];
  e.detail = std::move(d);
  return e;
}

Result<json> JobService::Create(const json& req, const std::string& region) {
  auto checked = CheckCreateRequest(req);
  if (!checked.ok()) return checked.status();
  const CheckedCreate& c = *checked;
  const std::string& token = c.token;
  if (!token.empty()) {
    // A retry of a request that succeeded gets its job back, whatever has changed since.
    if (auto done = db_->Find(kJobKind, c.job_name); done.ok() && done->doc.value("clientRequestToken", "") == token)
      return json{{"jobArn", done->arn}};
  }
  LATHE_RETURN_IF_ERROR(CheckJobRole(config_.strict_roles, role_exists_, c.role_arn));
  const std::string& type = c.type;
  if (type != "FINE_TUNING" && type != "CONTINUED_PRE_TRAINING")
    return Invalid("customizationType", "lathe supports FINE_TUNING and CONTINUED_PRE_TRAINING, got " + type);

  // The base: a foundation model (or alias), or a custom model to customize further.
  const std::string& base = c.base;
  json priv = {{"_baseModelId", base}};
  std::string base_arn;
  // A custom or imported model first: a Bedrock id `lathe models add --bedrock-id` mapped to an
  // imported model means that model, not the catalog's.
  if (auto cm = custom_models_->FindServable(base); cm.ok()) {
    base_arn = cm->arn;
    priv["_baseDir"] = cm->doc.value("_dir", "");
    priv["_baseModelId"] = cm->doc.value("baseModelName", std::string(kDefaultModelId));
  } else if (auto fm = catalog_->Find(base); fm.ok()) {
    base_arn = catalog_->Arn(fm->id, region);
    priv["_baseLocalId"] = fm->local_id;
  } else {
    return Status::NotFound("The base model " + base + " was not found (a foundation model id, alias or custom model)");
  }

  // What the job fetches its data from when it runs (DataLocations): a checked local path, or an
  // s3:// URI whose bucket and object are looked at in the validation phase, as Bedrock does.
  // The names predate s3://: jobs stored by earlier versions resume with them.
  auto train = locations_->CheckInput(c.train_uri);
  if (!train.ok()) return Invalid("trainingDataConfig.s3Uri", train.status().message());
  priv["_trainFile"] = *train;
  json validators = json::array();
  for (const auto& uri : c.validator_uris) {
    auto f = locations_->CheckInput(uri);
    if (!f.ok()) return Invalid("validationDataConfig.validators.s3Uri", f.status().message());
    validators.push_back(*f);
  }
  priv["_validationFiles"] = validators;
  auto out = locations_->CheckOutput(c.output_uri);
  if (!out.ok()) return Invalid("outputDataConfig.s3Uri", out.status().message());
  priv["_outputDir"] = *out;
  // Whose buckets the job may use: the caller's account (lathe serves one).
  priv["_account"] = config_.scope.account;

  std::map<std::string, std::string> hp;
  if (req.contains("hyperParameters")) {
    if (!req["hyperParameters"].is_object()) return Invalid("hyperParameters", "Member must be a map of strings");
    for (const auto& [k, v] : req["hyperParameters"].items()) {
      if (!v.is_string()) return Invalid("hyperParameters." + k, "Member must be a string");
      hp[k] = v;
    }
  }
  if (auto parsed = engine::ParseHyperparameters(hp, engine::DefaultHyperparameterSpecs()); !parsed.ok())
    return Status::InvalidArgument(parsed.status().message());

  const std::string& model_name = c.model_name;
  if (custom_models_->FindServable(model_name).ok())
    return Status::Conflict("A custom or imported model named " + model_name + " already exists");

  // An import job in progress would record an imported model of the same name at its end.
  LATHE_RETURN_IF_ERROR(
      CheckNoJobIsMaking(db_, kImportJobKind, {"InProgress"}, "importedModelName", model_name, "Model import job"));

  if (auto rows = db_->List(kJobKind, ActiveJobs()); rows.ok()) {
    int active = 0;
    for (const auto& r : *rows) {
      const bool running = r.status == "InProgress" || r.status == "Stopping";
      active += running;
      if (running && r.doc.value("outputModelName", "") == model_name)  // it would fail only at the end
        return Status::Conflict("Job " + r.name + " is already making a custom model named " + model_name);
    }
    if (active >= config_.max_active_jobs)
      return Status::QuotaExceeded(std::to_string(active) + " jobs are already in progress or queued (maxActiveJobs " +
                                   std::to_string(config_.max_active_jobs) + " in the server's config)");
  }

  json validator_configs = json::array();
  for (const auto& uri : c.validator_uris) validator_configs.push_back({{"s3Uri", uri}});
  store::ResourceRow job;
  job.kind = kJobKind;
  job.id = NewResourceId();
  job.name = c.job_name;
  job.arn = BedrockArn(InRegion(config_.scope, region), "model-customization-job/" + priv["_baseModelId"].get<std::string>() + "/" + job.id);
  job.status = "InProgress";
  job.created_ms = NowMillis();
  job.doc = {{"jobArn", job.arn},
             {"jobName", job.name},
             {"outputModelName", c.model_name},
             {"roleArn", c.role_arn},
             {"status", "InProgress"},
             {"statusDetails", {{"validationDetails", NewPhase("NotStarted")},
                                {"dataProcessingDetails", NewPhase("NotStarted")},
                                {"trainingDetails", NewPhase("NotStarted")}}},
             {"creationTime", Iso8601(job.created_ms)},
             {"lastModifiedTime", Iso8601(job.created_ms)},
             {"baseModelArn", base_arn},
             {"hyperParameters", hp},
             // Only the members lathe understood are kept (a request's other members are not stored).
             {"trainingDataConfig", {{"s3Uri", c.train_uri}}},
             {"validationDataConfig", {{"validators", validator_configs}}},
             {"outputDataConfig", {{"s3Uri", c.output_uri}}},
             {"customizationType", type}};
  if (!token.empty()) job.doc["clientRequestToken"] = token;
  if (!c.model_tags.empty()) priv["_customModelTags"] = TagsToJson(c.model_tags);
  job.doc.update(priv);
  if (Status s = db_->InsertAndPublish(job, StateChangeEvent(job)); !s.ok()) {
    if (s.code() == Status::Code::kAlreadyExists)
      return Status::Conflict("A model customization job named " + job.name + " already exists");
    return s;
  }
  if (!c.job_tags.empty()) LATHE_RETURN_IF_ERROR(db_->SetTags(job.arn, c.job_tags));
  // On workers: queued now (the sweeper queues it later should this fail).
  if (placed(ServiceConfig::JobPlacement::kWorkers)) (void)Enqueue(job);
  wake_.notify_all();
  return json{{"jobArn", job.arn}};
}

json JobService::Public(const store::ResourceRow& job) const {
  json out = PublicFields(job.doc);
  out["status"] = job.status;
  if (job.doc.contains("_progress")) out["latheProgress"] = job.doc["_progress"];  // for `lathe jobs watch`; SDKs ignore it
  if (job.doc.contains("_worker")) out["latheWorker"] = job.doc["_worker"];  // which `lathe worker` ran it last
  if (json compute = PublicCompute(job.doc); !compute.is_null()) out["latheCompute"] = compute;  // `lathe costs`
  return out;
}

Result<json> JobService::Get(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "jobIdentifier", rules::kModelCustomizationJobIdentifier));
  auto row = db_->Find(kJobKind, identifier);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound)
      return Status::NotFound("Model customization job " + identifier + " not found");
    return row.status();
  }
  return Public(*row);
}

Result<json> JobService::List(const std::map<std::string, std::string>& query) {
  auto q = ParseListQuery(query, rules::kJobName);
  if (!q.ok()) return q.status();
  static const std::set<std::string> kStatuses = {"InProgress", "Completed", "Failed", "Stopping", "Stopped"};
  if (!q->status_equals.empty() && !kStatuses.count(q->status_equals))
    return Invalid("statusEquals", "Member must satisfy enum value set: [InProgress, Completed, Failed, Stopping, Stopped]");
  std::string next;
  auto rows = ListPage(db_, kJobKind, *q, {}, &next);
  if (!rows.ok()) return rows.status();
  json summaries = json::array();
  for (const auto& r : *rows) {
    json s = {{"jobArn", r.arn},
              {"baseModelArn", r.doc.value("baseModelArn", "")},
              {"jobName", r.name},
              {"status", r.status},
              {"statusDetails", r.doc.value("statusDetails", json::object())},
              {"lastModifiedTime", r.doc.value("lastModifiedTime", "")},
              {"creationTime", Iso8601(r.created_ms)},
              {"customModelName", r.doc.value("outputModelName", "")},
              {"customizationType", r.doc.value("customizationType", "FINE_TUNING")}};
    if (r.doc.contains("endTime")) s["endTime"] = r.doc["endTime"];
    if (r.doc.contains("outputModelArn")) s["customModelArn"] = r.doc["outputModelArn"];
    summaries.push_back(s);
  }
  json out = {{"modelCustomizationJobSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

bool JobService::UsesBaseModel(const std::string& model_arn) {
  auto rows = db_->List(kJobKind, ActiveJobs());
  if (!rows.ok()) return true;  // when unsure, keep the model
  for (const auto& r : *rows)
    if ((r.status == "InProgress" || r.status == "Stopping") && r.doc.value("baseModelArn", "") == model_arn) return true;
  return false;
}

Status JobService::Stop(const std::string& identifier) {
  // Under mu_ from the read to the write: the runner cannot pick the job up, save it or finish it
  // in between, so a Stop never overwrites a job that has just completed.
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "jobIdentifier", rules::kModelCustomizationJobIdentifier));
  std::lock_guard<std::mutex> lock(mu_);
  auto row = db_->Find(kJobKind, identifier);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound)
      return Status::NotFound("Model customization job " + identifier + " not found");
    return row.status();
  }
  if (row->status != "InProgress")
    return Status::Conflict("Model customization job " + row->name + " is " + row->status +
                            "; only an InProgress job can be stopped");
  if (placed(ServiceConfig::JobPlacement::kWorkers)) return StopOnWorkerLocked(&*row);
  if (row->id != running_id_) {  // still queued: nothing to interrupt
    FinishLocked(&*row, "Stopped", "");
    return Status::Ok();
  }
  stop_requested_.insert(row->id);
  LATHE_RETURN_IF_ERROR(SaveLocked(*row));
  wake_.notify_all();
  return Status::Ok();
}

}  // namespace lathe::service
