// JobService on several machines (docs/scale-out.md): an API node queues jobs in the shared store
// and never trains; `lathe worker`s claim them with leases (work_claims.h), upload each checkpoint
// to the artifact bucket while they train, and give a job back when they shut down. A worker that
// dies stops heartbeating: its lease expires, another worker claims the job and resumes it from the
// uploaded checkpoint.
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "engine/hyperparameters.h"
#include "engine/training_memory.h"
#include "service/job_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"

namespace lathe::service {
using nlohmann::json;

namespace {

const WorkKinds kKinds{kJobKind, kJobWorkKind};

// What a job needs of a worker: a CPU per training process (the `workers` hyperparameter) and the
// memory those processes take (engine/training_memory.h), from the base model's config (a custom
// model's folder, or what the catalog plans for a foundation model, built or not). A base whose
// config cannot be read here (a custom model made on a worker and not fetched on this node) needs
// no stated memory: any worker may claim it.
store::Capacity NeedsOf(ModelCatalog* catalog, const store::ResourceRow& job) {
  std::map<std::string, std::string> hp;
  if (auto given = job.doc.find("hyperParameters"); given != job.doc.end() && given->is_object())
    for (const auto& [k, v] : given->items())
      if (v.is_string()) hp[k] = v.get<std::string>();
  auto h = engine::ParseHyperparameters(hp, engine::DefaultHyperparameterSpecs());
  if (!h.ok()) return {1, 0, 0};
  store::Capacity needs{h->workers, 0, 0};
  Result<engine::ModelConfig> config = Status::NotFound("no base model");
  if (const std::string dir = job.doc.value("_baseDir", ""); !dir.empty()) config = ReadModelConfig(dir);
  else if (auto planned = catalog->Plan(job.doc.value("_baseLocalId", std::string(kDefaultModelId))); planned.ok())
    config = planned->config;
  if (config.ok()) needs.memory_bytes = h->workers * engine::EstimateTrainingMemory(*config, *h);
  return needs;
}

}  // namespace

void JobService::set_artifact_store(JobObjectStore* objects) {
  if (objects && placed(ServiceConfig::JobPlacement::kWorker))
    artifacts_ = std::make_unique<JobArtifacts>(objects, config_.artifact_bucket, config_.scope.account,
                                                config_.data_dir + "/jobs");
}

bool JobService::LeaseLost() {
  std::lock_guard<std::mutex> lock(mu_);
  return LeaseLostLocked();
}

Status JobService::Enqueue(const store::ResourceRow& job) {
  return QueueForWorkers(leases_, kKinds, job, NeedsOf(catalog_, job));
}

void JobService::RunQueueSweeper() {
  while (true) {
    QueueAllInProgress(db_, leases_, kKinds, [this](const store::ResourceRow& job) { return NeedsOf(catalog_, job); });
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) return;
    wake_.wait_for(lock, std::chrono::seconds(10));
    if (shutting_down_) return;
  }
}

Status JobService::StopOnWorkerLocked(store::ResourceRow* row) {
  auto cancelled = StopOnWorker(db_, leases_, kKinds, *row, [this](const store::ResourceRow& r) { return StateChangeEvent(r); });
  if (!cancelled.ok()) return Status(cancelled.status().code() == Status::Code::kConflict
                                         ? Status::Conflict("Model customization job " + cancelled.status().message())
                                         : cancelled.status());
  if (*cancelled) FinishLocked(row, "Stopped", "");  // it was still waiting for a worker
  return Status::Ok();
}

Status JobService::SaveClaimedLocked(const store::ResourceRow& copy) {
  if (LeaseLostLocked()) return Status::Conflict("the lease on job " + copy.id + " was taken over by another worker");
  bool stopping = false;
  Status s = SaveClaimed(db_, kJobKind, copy, [this](const store::ResourceRow& r) { return StateChangeEvent(r); }, &stopping);
  if (stopping) stop_requested_.insert(copy.id);
  return s;
}

void JobService::UploadCheckpoints(const std::string& job_id, const std::atomic<bool>& done, int64_t* uploaded) {
  const std::string dir = config_.data_dir + "/jobs/" + job_id + "/run/checkpoint";
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(2));
      // Only while the lease holds: a worker cut off must not overwrite its successor's objects.
      if (!keeper_ || !keeper_->HoldsNow()) return;
    }
    if (Status s = artifacts_->UploadCheckpoint(job_id, dir, uploaded); !s.ok())
      spdlog::warn("job {}: checkpoint upload: {}", job_id, s.message());
    if (done) return;  // after one last look: the trainer writes a checkpoint when interrupted
  }
}

void JobService::RunClaimLoop() {
  ClaimLoop(leases_, config_, kKinds, mu_, wake_, shutting_down_, [this](store::Lease lease) { RunClaimed(std::move(lease)); });
}

void JobService::RunClaimed(store::Lease lease) {
  std::optional<store::ResourceRow> row = ClaimedRow(db_, leases_, kKinds, lease);
  if (!row) return;
  const ClaimSlot slot{mu_, wake_, keeper_, running_id_, stop_requested_};
  StartKeeping(slot, &leases_, db_, kJobKind, int64_t{config_.lease_seconds} * 1000, lease, *row);
  row->doc["_worker"] = config_.worker_id;
  std::atomic<bool> done{false};
  int64_t uploaded = 0;
  std::thread uploader;
  if (artifacts_) uploader = std::thread([this, id = row->id, &done, &uploaded] { UploadCheckpoints(id, done, &uploaded); });
  try {
    RunJob(*row);
  } catch (const std::exception& e) {  // a bug must fail one job, not take the worker down
    Finish(&*row, "Failed", std::string("internal error: ") + e.what());
  }
  done = true;
  wake_.notify_all();
  if (uploader.joinable()) uploader.join();
  const bool lost = StopKeeping(slot, &lease);
  // Ended and saved: the checkpoint can never be resumed.
  if (!lost && row->status != "InProgress" && row->status != "Stopping" && artifacts_)
    (void)artifacts_->RemoveCheckpoint(row->id, uploaded);
  EndClaim(leases_, lease, lost, *row);
}

}  // namespace lathe::service
