#include "service/model_import_jobs.h"

#include "core/arn.h"
#include "service/job_service.h"
#include "service/request_fields.h"
#include "service/resource_json.h"
#include "service/s3_uri.h"

namespace lathe::service {
using nlohmann::json;

namespace {

constexpr size_t kMaxFailureMessage = 2048;  // ErrorMessage's max in Bedrock's model

// A folder URI lathe reads: s3://bucket[/prefix], or its extension file:///abs/folder (or /abs).
Status CheckSourceUri(const std::string& uri, bool have_s3) {
  const std::string member = "modelDataSource.s3DataSource.s3Uri";
  if (IsS3Uri(uri)) {
    LATHE_RETURN_IF_ERROR(CheckString(uri, member, rules::kS3Uri));
    if (auto parsed = ParseS3Uri(uri); !parsed.ok()) return ValidationError(member, parsed.status().message());
    if (!have_s3) return ValidationError(member, "s3:// needs lathe serve's S3 store, which this server has not");
    return Status::Ok();
  }
  if (uri.rfind("file:///", 0) == 0 || uri.rfind("/", 0) == 0) {
    for (unsigned char c : uri)
      if (c < 0x20 || c == 0x7f) return ValidationError(member, "must not contain control characters");
    return Status::Ok();
  }
  return ValidationError(member, "must be an s3:// URI (or, lathe's extension, a file:// folder under fileRoots)");
}

// Bedrock's VpcConfig: subnetIds (1-16 SubnetId) and securityGroupIds (1-5 SecurityGroupId), both
// required. Only those members are kept: the rest of a request's object is never stored or echoed.
Result<json> CheckVpcConfig(const json& vpc) {
  struct IdList {
    const char* key;
    const FieldRule& rule;
    size_t max_items;
  };
  json out = json::object();
  for (const IdList& l : {IdList{"subnetIds", rules::kSubnetId, 16}, IdList{"securityGroupIds", rules::kSecurityGroupId, 5}}) {
    auto ids = StringList(vpc, l.key, l.rule, l.max_items, "vpcConfig");
    if (!ids.ok()) return ids.status();
    if (ids->empty())
      return ValidationError(std::string("vpcConfig.") + l.key, "must have length greater than or equal to 1");
    out[l.key] = *ids;
  }
  return out;
}

// The folder's URI without trailing slashes, so "<uri>/<name>" names a file in it.
std::string FolderUri(std::string uri) {
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  return uri;
}

}  // namespace

ModelImportJobService::ModelImportJobService(const ServiceConfig& config, store::MetadataStore* db,
                                             ImportedModelService* models, const JobDataLocations* locations)
    : config_(config), db_(db), models_(models), locations_(locations) {}

ModelImportJobService::~ModelImportJobService() {
  stop_ = true;  // the import in progress ends soon, and its job stays InProgress
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (runner_.joinable()) runner_.join();
}

void ModelImportJobService::Start() {
  store::MetadataStore::ListFilter f;
  f.statuses = {"InProgress"};
  if (auto rows = db_->List(kImportJobKind, f); rows.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : *rows) queue_.push_back(r.id);
  }
  runner_ = std::thread([this] { RunLoop(); });
}

Result<json> ModelImportJobService::Create(const json& req, const std::string& region) {
  if (!req.is_object()) return ValidationError("body", "must be a JSON object");
  LATHE_ASSIGN_OR_RETURN(const std::string job_name, RequireString(req, "jobName", rules::kJobName));
  LATHE_ASSIGN_OR_RETURN(const std::string model_name, RequireString(req, "importedModelName", rules::kImportedModelName));
  LATHE_ASSIGN_OR_RETURN(const std::string role_arn, RequireString(req, "roleArn", rules::kRoleArn));
  LATHE_ASSIGN_OR_RETURN(const json* source, RequireObject(req, "modelDataSource"));
  LATHE_ASSIGN_OR_RETURN(const json* s3, RequireObject(*source, "s3DataSource", "modelDataSource"));
  LATHE_ASSIGN_OR_RETURN(const std::string uri, RequireString(*s3, "s3Uri", rules::kS3Uri, "modelDataSource.s3DataSource",
                                                             Check::kLengthOnly));
  LATHE_RETURN_IF_ERROR(CheckSourceUri(uri, locations_ && locations_->object_store()));
  LATHE_ASSIGN_OR_RETURN(const auto job_tags, TagList(req, "jobTags"));
  LATHE_ASSIGN_OR_RETURN(const auto model_tags, TagList(req, "importedModelTags"));
  LATHE_ASSIGN_OR_RETURN(const auto token, OptionalString(req, "clientRequestToken", rules::kIdempotencyToken));
  // Accepted and unused: lathe's files are not encrypted and it has no VPCs (docs/compatibility.md).
  LATHE_ASSIGN_OR_RETURN(const auto kms, OptionalString(req, "importedModelKmsKeyId", rules::kKmsKeyId));
  (void)kms;
  LATHE_ASSIGN_OR_RETURN(const json* vpc, OptionalObject(req, "vpcConfig"));
  json vpc_config;
  if (vpc) {
    LATHE_ASSIGN_OR_RETURN(vpc_config, CheckVpcConfig(*vpc));
  }

  LATHE_RETURN_IF_ERROR(CheckJobRole(config_.strict_roles, role_exists_, role_arn));

  store::ResourceRow job;
  job.kind = kImportJobKind;
  job.id = NewResourceId();
  if (token) {
    // A retry of a request that was answered gets its job back.
    auto first = db_->RememberToken(kImportJobKind, *token, job.id);
    if (!first.ok()) return first.status();
    if (*first != job.id) {
      if (auto existing = db_->Find(kImportJobKind, *first); existing.ok()) return json{{"jobArn", existing->arn}};
      job.id = *first;  // its first request was refused: this one makes the job the token names
    }
  }
  if (db_->Find(kImportJobKind, job_name).ok())
    return Status::Conflict("A model import job named " + job_name + " already exists");
  LATHE_RETURN_IF_ERROR(models_->CheckNewName(model_name));
  // A customization job in progress would record a custom model of the same name at its end.
  LATHE_RETURN_IF_ERROR(CheckNoJobIsMaking(db_, kJobKind, {"InProgress", "Stopping"}, "outputModelName", model_name,
                                           "Model customization job"));
  store::MetadataStore::ListFilter active;
  active.statuses = {"InProgress"};
  auto running = db_->List(kImportJobKind, active);
  if (!running.ok()) return running.status();
  for (const auto& r : *running)
    if (r.doc.value("importedModelName", "") == model_name)
      return Status::Conflict("Model import job " + r.name + " is already importing a model named " + model_name);
  if (running->size() >= static_cast<size_t>(config_.max_active_jobs))
    return Status::QuotaExceeded(std::to_string(running->size()) + " model import jobs are already in progress "
                                 "(maxActiveJobs " + std::to_string(config_.max_active_jobs) + " in the server's config)");

  job.name = job_name;
  job.arn = BedrockArn(InRegion(config_.scope, region), "model-import-job/" + job.id);
  job.status = "InProgress";
  job.created_ms = NowMillis();
  job.doc = {{"jobArn", job.arn},
             {"jobName", job_name},
             {"importedModelName", model_name},
             {"roleArn", role_arn},
             {"modelDataSource", {{"s3DataSource", {{"s3Uri", uri}}}}},
             {"status", "InProgress"},
             {"creationTime", Iso8601(job.created_ms)},
             {"lastModifiedTime", Iso8601(job.created_ms)},
             {"_modelId", NewResourceId()},
             {"_region", region},
             {"_modelTags", TagsToJson(model_tags)}};
  if (vpc) job.doc["vpcConfig"] = vpc_config;
  store::WriteBatch batch;
  batch.inserts.push_back(job);
  if (!job_tags.empty()) batch.tags.push_back({job.arn, job_tags});
  if (Status s = db_->Write(batch); !s.ok()) {
    if (s.code() == Status::Code::kAlreadyExists)
      return Status::Conflict("A model import job named " + job_name + " already exists");
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(job.id);
  }
  wake_.notify_all();
  return json{{"jobArn", job.arn}};
}

Result<json> ModelImportJobService::Get(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckString(identifier, "jobIdentifier", rules::kModelImportJobIdentifier));
  auto row = db_->Find(kImportJobKind, identifier);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound)
      return Status::NotFound("Model import job " + identifier + " not found");
    return row.status();
  }
  return PublicFields(row->doc);
}

Result<json> ModelImportJobService::List(const std::map<std::string, std::string>& query) {
  if (auto s = query.find("statusEquals"); s != query.end() && s->second != "InProgress" &&
                                           s->second != "Completed" && s->second != "Failed")
    return ValidationError("statusEquals", "must satisfy enum value set: [InProgress, Completed, Failed]");
  auto q = ParseListQuery(query, rules::kJobName);
  if (!q.ok()) return q.status();
  std::string next;
  auto rows = ListPage(db_, kImportJobKind, *q, {}, &next);
  if (!rows.ok()) return rows.status();
  json summaries = json::array();
  for (const auto& r : *rows) {
    json s = {{"jobArn", r.arn}, {"jobName", r.name}, {"status", r.status}, {"creationTime", Iso8601(r.created_ms)}};
    for (const char* key : {"lastModifiedTime", "endTime", "importedModelArn", "importedModelName"})
      if (r.doc.contains(key)) s[key] = r.doc[key];
    summaries.push_back(std::move(s));
  }
  json out = {{"modelImportJobSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

FetchFile ModelImportJobService::FetcherFor(const std::string& uri, const std::string& account, Status* setup) const {
  if (IsS3Uri(uri)) {
    auto parsed = ParseS3Uri(uri);
    JobObjectStore* objects = locations_ ? locations_->object_store() : nullptr;
    if (!parsed.ok()) *setup = parsed.status();
    else if (!objects) *setup = Status::Unsupported("this server has no S3 store");
    else if (Status s = objects->CheckBucket(account, parsed->bucket); !s.ok())
      *setup = Status::InvalidArgument("Could not access Amazon S3 bucket " + parsed->bucket + ": " + s.message());
    if (!setup->ok()) return {};
    S3Uri folder = *parsed;
    if (!folder.key.empty() && folder.key.back() != '/') folder.key += '/';
    return [objects, account, folder](const std::string& name, const std::string& dest, uint64_t max_bytes) -> Status {
      S3Uri object{folder.bucket, folder.key + name};
      Status s = objects->Download(account, object, dest, max_bytes);
      if (s.aws_code() == "NoSuchKey") return Status::NotFound(name + " is missing");
      if (!s.ok() && s.code() != Status::Code::kInvalidArgument)
        return Status::IOError(object.ToString() + ": " + s.message());
      return s;
    };
  }
  const LocalDataLocations* local = locations_ ? locations_->local() : nullptr;
  if (!local) {
    *setup = Status::Unsupported("this server reads no local files");
    return {};
  }
  const std::string folder = FolderUri(uri);
  const std::atomic<bool>* stop = &stop_;
  return [local, folder, stop](const std::string& name, const std::string& dest, uint64_t max_bytes) -> Status {
    // Each file under the jobs' file rules: outside fileRoots reads as missing, as for jobs.
    auto path = local->FileForReading(folder + "/" + name);
    if (!path.ok()) return Status::NotFound(name + " is missing");
    return CopyLocalFile(*path, dest, max_bytes, stop);
  };
}

void ModelImportJobService::RunLoop() {
  for (;;) {
    std::string id;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
    }
    Run(id);
  }
}

void ModelImportJobService::Run(const std::string& job_id) {
  auto found = db_->Find(kImportJobKind, job_id);
  if (!found.ok() || found->status != "InProgress") return;
  store::ResourceRow job = std::move(*found);
  const std::string model_id = job.doc.value("_modelId", "");
  Result<store::ResourceRow> model = Status::Internal("not run");
  // A restart after the model was recorded but before the job was: the job is done.
  if (auto done = models_->Find(model_id); !model_id.empty() && done.ok()) {
    model = std::move(done);
  } else {
    ImportRequest request;
    request.model_name = job.doc.value("importedModelName", "");
    request.source_uri = job.doc["modelDataSource"]["s3DataSource"].value("s3Uri", "");
    request.job_name = job.name;
    request.job_arn = job.arn;
    request.region = job.doc.value("_region", "");
    request.tags = TagsFromJson(job.doc.value("_modelTags", json::array()));
    request.id = model_id;
    Status setup;
    FetchFile fetch = FetcherFor(request.source_uri, config_.scope.account, &setup);
    model = setup.ok() ? models_->Import(request, fetch, &stop_) : Result<store::ResourceRow>(setup);
  }
  if (!model.ok() && stop_) return;  // interrupted: the next start runs it again
  const std::string now = Iso8601(NowMillis());
  job.doc["lastModifiedTime"] = job.doc["endTime"] = now;
  if (model.ok()) {
    job.status = "Completed";
    job.doc["importedModelArn"] = model->arn;
  } else {
    job.status = "Failed";
    std::string why = model.status().message();
    if (why.size() > kMaxFailureMessage) why = why.substr(0, kMaxFailureMessage - 3) + "...";
    job.doc["failureMessage"] = why;
  }
  job.doc["status"] = job.status;
  (void)db_->Update(job);
}

}  // namespace lathe::service
