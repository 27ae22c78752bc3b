#include "service/bedrock_service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "service/request_fields.h"
#include "service/resource_json.h"
#include "store/data_layout.h"

namespace lathe::service {
using nlohmann::json;

namespace {

bool IsReadOnlyError(int err) { return err == EROFS || err == EACCES || err == EPERM; }

// The folders that hold what lathe.db describes; a fresh store beside them would hide it all.
Status CheckStoreBesideData(const std::string& data_dir) {
  const std::string db = data_dir + "/lathe.db";
  std::error_code ec;
  const bool missing = !std::filesystem::exists(db, ec);
  if (!missing && std::filesystem::file_size(db, ec) != 0) return Status::Ok();
  for (const char* folder : {"jobs", "custom-models", "imported-models"}) {
    const std::string dir = data_dir + "/" + folder;
    if (std::filesystem::is_directory(dir, ec) && !std::filesystem::is_empty(dir, ec))
      return Status::Corruption(
          db + (missing ? " is missing" : " is empty (0 bytes)") + ", but " + dir +
          " holds earlier work: starting would show no jobs, custom models or provisioned throughput. "
          "Restore lathe.db from a backup (with lathe.db-wal if there is one), or to start fresh move " + data_dir +
          "/jobs and " + data_dir + "/custom-models elsewhere; lathe serve has not started");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<BedrockService>> BedrockService::Open(const ServiceConfig& config, bool start) {
  std::unique_ptr<BedrockService> s(new BedrockService(config));
  std::error_code ec;
  // files/: the drop folder for jobs' data, among the default fileRoots.
  std::filesystem::create_directories(config.data_dir + "/files", ec);
  if (ec) return Status::IOError("cannot create the data directory " + config.data_dir + ": " + ec.message());
  // One server per data directory: two would both resume the same job into the same folder.
  // The lock is the kernel's, so it goes away with the process however it ends.
  const std::string lock_path = config.data_dir + "/serve.lock";
  s->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd_ < 0) {
    const int err = errno;
    return Status::IOError(std::string(IsReadOnlyError(err) ? "the data directory " + config.data_dir +
                                                                  " is read-only to this user or file system ("
                                                            : "cannot use the data directory " + config.data_dir + " (") +
                           "cannot open " + lock_path + ": " + std::strerror(err) +
                           "); lathe serve writes its database and jobs there: make it writable or pass another --data-dir");
  }
  if (::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status::Conflict("another lathe serve is using " + config.data_dir + " (" + lock_path +
                            " is locked); stop it or pass another --data-dir");
  // (A shared store lives elsewhere: the folders beside an absent lathe.db are not orphans then.)
  if (config.store_url.empty()) LATHE_RETURN_IF_ERROR(CheckStoreBesideData(config.data_dir));
  // The folders' layout first, then lathe.db's schema (MetadataStore::Open): either refuses a
  // data directory a newer lathe wrote before anything in it changes.
  if (auto layout = store::UpgradeDataLayout(config.data_dir, store::DataLayoutMigrations()); !layout.ok())
    return layout.status();
  // A shared PostgreSQL store (docs/scale-out.md) when configured; DATA_DIR/lathe.db otherwise.
  auto db = store::MetadataStore::Open(config.store_url.empty() ? config.data_dir + "/lathe.db" : config.store_url);
  if (!db.ok()) return db.status();
  s->db_ = std::move(*db);
  {
    // The region and account this server makes ARNs in, for tools that open lathe.db without its
    // config (`lathe registry`), so the ARNs they make are the server's.
    store::ResourceRow scope;
    scope.kind = "lathe-settings";
    scope.id = scope.name = "scope";
    scope.status = "current";
    scope.doc = {{"region", s->config_.scope.region}, {"account", s->config_.scope.account}};
    Status saved = s->db_->Insert(scope);
    if (saved.code() == Status::Code::kAlreadyExists) saved = s->db_->Update(scope);
    if (!saved.ok()) return saved;
  }
  s->catalog_ = std::make_unique<ModelCatalog>(s->config_);
  s->imported_models_ = std::make_unique<ImportedModelService>(s->config_, s->db_.get());
  s->custom_models_ = std::make_unique<CustomModelService>(s->config_, s->db_.get());
  s->custom_models_->set_imported_models(s->imported_models_.get());
  s->model_memory_ = std::make_unique<ModelMemory>(s->config_.model_memory_bytes);
  s->model_memory_->set_continuous_batching(s->config_.continuous_batching);
  s->throughput_ = std::make_unique<ThroughputService>(s->config_, s->db_.get(), s->catalog_.get(),
                                                       s->custom_models_.get(), s->model_memory_.get());
  s->deployments_ = std::make_unique<DeploymentService>(s->config_, s->db_.get(), s->catalog_.get(),
                                                       s->custom_models_.get(), s->model_memory_.get());
  s->deployments_->set_throughput(s->throughput_.get());
  s->runtime_ = std::make_unique<RuntimeService>(s->config_, s->catalog_.get(), s->custom_models_.get(),
                                                 s->throughput_.get(), s->model_memory_.get());
  s->runtime_->set_deployments(s->deployments_.get());
  // A deleted model's on-demand pool goes with it, and its share of modelMemoryBytes.
  RuntimeService* runtime = s->runtime_.get();
  auto drop_pool = [runtime](const std::string& dir) { runtime->DropOnDemand(dir); };
  s->imported_models_->set_on_deleted(drop_pool);
  s->custom_models_->set_on_deleted(drop_pool);
  s->usage_ = std::make_unique<UsageMeter>(s->db_.get());
  s->usage_->Start();
  s->runtime_->set_usage_meter(s->usage_.get());
  s->jobs_ = std::make_unique<JobService>(s->config_, s->db_.get(), s->catalog_.get(), s->custom_models_.get(), &s->job_locations_);
  s->evaluations_ = std::make_unique<EvaluationJobService>(s->config_, s->db_.get(), s->catalog_.get(),
                                                           s->custom_models_.get(), &s->job_locations_);
  s->import_jobs_ = std::make_unique<ModelImportJobService>(s->config_, s->db_.get(), s->imported_models_.get(),
                                                            &s->job_locations_);
  if (start) s->Start();
  return s;
}

void BedrockService::Start() {
  if (config_.job_placement == ServiceConfig::JobPlacement::kWorker) {  // `lathe worker`: jobs only, no serving
    jobs_->Start();
    evaluations_->Start();
    return;
  }
  if (config_.build_default_at_start) catalog_->StartBuildingDefault();
  throughput_->Start();
  deployments_->Start();
  jobs_->Start();
  evaluations_->Start();
  import_jobs_->Start();
}

bool BedrockService::ModelInUse(const std::string& arn) {
  return throughput_->Serves(arn) || deployments_->Serves(arn) || jobs_->UsesBaseModel(arn) ||
         evaluations_->UsesModel(arn);
}

BedrockService::~BedrockService() {
  // First: a default-model build stops at its next step, and whatever waits for it (a loader
  // thread of a provisioned throughput or a deployment) gives up instead of holding the joins
  // below for minutes.
  if (catalog_) catalog_->RequestStop();  // null when Open returned early (another server holds the data dir)
  import_jobs_.reset();  // the runners first: they may still write to the store
  jobs_.reset();
  evaluations_.reset();
  runtime_.reset();
  deployments_.reset();  // its follower calls throughput_
  throughput_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<json> BedrockService::ListFoundationModels(const std::map<std::string, std::string>& query,
                                                  const std::string& region) {
  json summaries = json::array();
  for (const auto& m : catalog_->List()) {
    json d = catalog_->Describe(m, region);
    bool keep = true;
    for (const auto& [key, field] : std::map<std::string, std::string>{{"byCustomizationType", "customizationsSupported"},
                                                                        {"byOutputModality", "outputModalities"},
                                                                        {"byInferenceType", "inferenceTypesSupported"}}) {
      auto q = query.find(key);
      if (q == query.end()) continue;
      bool found = false;
      for (const auto& v : d[field]) found |= v == q->second;
      keep &= found;
    }
    if (auto p = query.find("byProvider"); p != query.end()) {
      std::string a = d["providerName"], b = p->second;
      for (auto* s : {&a, &b})
        for (auto& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      keep &= a == b;
    }
    d.erase("hyperParameters");  // summaries stay summaries; GetFoundationModel has the ranges
    if (keep) summaries.push_back(d);
  }
  return json{{"modelSummaries", summaries}};
}

Result<json> BedrockService::GetFoundationModel(const std::string& id, const std::string& region) {
  LATHE_RETURN_IF_ERROR(CheckLength(id, "modelIdentifier", rules::kGetFoundationModelIdentifier));
  auto m = catalog_->Find(id);
  if (!m.ok()) return m.status();
  return json{{"modelDetails", catalog_->Describe(*m, region)}};
}

Status BedrockService::CheckTaggable(const std::string& arn) {
  for (const char* kind : {kJobKind, kCustomModelKind, kThroughputKind, kEvaluationJobKind, kDeploymentKind,
                           kImportJobKind, kImportedModelKind})
    if (db_->Find(kind, arn).ok()) return Status::Ok();
  return Status::NotFound("Resource " + arn + " not found");
}

Status BedrockService::TagResource(const json& request) {
  LATHE_ASSIGN_OR_RETURN(const std::string arn, RequireString(request, "resourceARN", rules::kTaggableResourcesArn));
  LATHE_ASSIGN_OR_RETURN(const auto tags, TagList(request, "tags"));
  if (!request.contains("tags")) return ValidationError("tags", "must not be null");
  LATHE_RETURN_IF_ERROR(CheckTaggable(arn));
  auto existing = db_->Tags(arn);
  if (!existing.ok()) return existing.status();
  size_t total = existing->size();
  for (const auto& [k, v] : tags) total += existing->count(k) ? 0 : 1;
  LATHE_RETURN_IF_ERROR(CheckTagCount(total, arn));
  return db_->SetTags(arn, tags);
}

Status BedrockService::UntagResource(const json& request) {
  LATHE_ASSIGN_OR_RETURN(const std::string arn, RequireString(request, "resourceARN", rules::kTaggableResourcesArn));
  LATHE_ASSIGN_OR_RETURN(const auto keys, StringList(request, "tagKeys", rules::kTagKey, kMaxTags));
  if (!request.contains("tagKeys")) return ValidationError("tagKeys", "must not be null");
  LATHE_RETURN_IF_ERROR(CheckTaggable(arn));
  return db_->RemoveTags(arn, keys);
}

Result<json> BedrockService::ListTagsForResource(const json& request) {
  LATHE_ASSIGN_OR_RETURN(const std::string arn, RequireString(request, "resourceARN", rules::kTaggableResourcesArn));
  LATHE_RETURN_IF_ERROR(CheckTaggable(arn));
  auto tags = db_->Tags(arn);
  if (!tags.ok()) return tags.status();
  return json{{"tags", TagsToJson(*tags)}};
}

}  // namespace lathe::service
