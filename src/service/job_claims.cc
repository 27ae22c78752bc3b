// JobService on several machines (docs/scale-out.md): an API node queues jobs in the shared store
// and never trains; `lathe worker`s claim them with leases (store/work_leases.h), heartbeat while
// they train, upload each checkpoint to the artifact bucket, and give a job back when they shut
// down. A worker that dies stops heartbeating: its lease expires, another worker claims the job
// and resumes it from the uploaded checkpoint. Every write a worker makes is fenced: by its lease
// (lost: it stops and writes nothing more) and by a compare-and-swap on the job's status (a Stop
// written by the API node is never undone).
#include <chrono>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "engine/hyperparameters.h"
#include "service/job_service.h"

namespace lathe::service {
using nlohmann::json;

namespace {

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Ended(const std::string& status) { return status != "InProgress" && status != "Stopping"; }

// How often an API node makes sure every job in progress is queued (a queue entry lost to a
// failed write is made again), and how many jobs it looks at each time.
constexpr auto kSweepPeriod = std::chrono::seconds(10);
constexpr size_t kSweepBatch = 1000;

}  // namespace

void JobService::set_artifact_store(JobObjectStore* objects) {
  if (objects && placed(ServiceConfig::JobPlacement::kWorker))
    artifacts_ = std::make_unique<JobArtifacts>(objects, config_.artifact_bucket, config_.scope.account,
                                                config_.data_dir + "/jobs");
}

bool JobService::LeaseLost() {
  std::lock_guard<std::mutex> lock(mu_);
  return lease_lost_;
}

Status JobService::Enqueue(const store::ResourceRow& job) {
  store::WorkItem item;
  item.kind = kJobWorkKind;
  item.id = job.id;
  // What a worker must offer: a CPU per training process (the `workers` hyperparameter).
  item.needs.cpus = 1;
  if (auto hp = job.doc.find("hyperParameters"); hp != job.doc.end() && hp->is_object())
    if (auto w = hp->find("workers"); w != hp->end() && w->is_string())
      if (auto n = engine::ParseHyperparameters({{"workers", w->get<std::string>()}}, engine::DefaultHyperparameterSpecs());
          n.ok())
        item.needs.cpus = std::max<int64_t>(1, n->workers);
  item.doc = {{"jobArn", job.arn}, {"jobName", job.name}};
  Status s = leases_.Enqueue(item);
  if (s.code() == Status::Code::kAlreadyExists) return Status::Ok();
  if (!s.ok()) spdlog::warn("job {} ({}): not queued for the workers yet: {}", job.name, job.id, s.message());
  return s;
}

void JobService::RunQueueSweeper() {
  while (true) {
    store::MetadataStore::ListFilter active;
    active.statuses = {"InProgress", "Stopping"};
    active.limit = kSweepBatch;
    if (auto rows = db_->List(kJobKind, active); rows.ok())
      for (const auto& r : *rows) (void)Enqueue(r);
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) return;
    wake_.wait_for(lock, kSweepPeriod);
    if (shutting_down_) return;
  }
}

Status JobService::StopOnWorkerLocked(store::ResourceRow* row) {
  // Still waiting for a worker: taken out of the queue, it is Stopped at once.
  if (leases_.CancelQueued(kJobWorkKind, row->id).ok()) {
    FinishLocked(row, "Stopped", "");
    return Status::Ok();
  }
  // A worker has it: Stopping, which the worker sees within a few seconds (KeepLease). Swapped
  // only over the InProgress this read: a worker that ended the job meanwhile wins.
  store::ResourceRow copy = *row;
  copy.status = "Stopping";
  copy.doc["status"] = copy.status;
  copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
  store::WriteBatch batch;
  batch.expects.push_back({kJobKind, copy.id, "status", "InProgress"});
  batch.updates.push_back(copy);
  batch.events.push_back(StateChangeEvent(copy));
  Status s = db_->Write(batch);
  if (s.code() == Status::Code::kConflict)
    return Status::Conflict("Model customization job " + row->name + " ended meanwhile; only an InProgress job can be stopped");
  return s;
}

Status JobService::SaveClaimedLocked(store::ResourceRow copy) {
  if (lease_lost_) return Status::Conflict("the lease on job " + copy.id + " was lost: another worker has it");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto current = db_->Find(kJobKind, copy.id);
    if (!current.ok()) return current.status();
    if (Ended(current->status)) return Status::Conflict("job " + copy.id + " was ended elsewhere (" + current->status + ")");
    if (current->status == "Stopping") {  // the API node's Stop
      stop_requested_.insert(copy.id);
      if (copy.status == "InProgress") copy.status = "Stopping";
    }
    copy.doc["status"] = copy.status;
    copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
    store::WriteBatch batch;
    batch.expects.push_back({kJobKind, copy.id, "status", current->doc.value("status", json())});
    batch.updates.push_back(copy);
    if (current->status != copy.status) batch.events.push_back(StateChangeEvent(copy));
    Status s = db_->Write(batch);
    if (s.code() != Status::Code::kConflict) return s;  // Conflict: the status moved under us; read it again
  }
  return Status::Conflict("job " + copy.id + " keeps changing under this worker");
}

void JobService::KeepLease(store::Lease lease, const std::atomic<bool>& done) {
  const int64_t lease_ms = int64_t{config_.lease_seconds} * 1000;
  const int64_t beat_every_ms = std::max<int64_t>(1000, lease_ms / 4);
  int64_t last_beat = WallMillis();
  std::unique_lock<std::mutex> lock(mu_);
  while (!done) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (done) break;
    lock.unlock();
    Status beat = Status::Ok();
    const int64_t now = WallMillis();
    if (now - last_beat >= beat_every_ms) {
      beat = leases_.Heartbeat(lease, lease_ms);
      if (beat.ok()) last_beat = now;
      else spdlog::warn("job {}: heartbeat: {}", lease.item.id, beat.message());
    }
    auto row = db_->Find(kJobKind, lease.item.id);  // a Stop from the API node
    lock.lock();
    if (beat.code() == Status::Code::kConflict) {
      lease_lost_ = true;
      spdlog::warn("job {}: this worker's lease was lost; it stops without writing anything more", lease.item.id);
      wake_.notify_all();
      return;
    }
    if (beat.ok() && lease_) lease_->expires_ms = lease.expires_ms;
    if (row.ok() && row->status == "Stopping" && !stop_requested_.count(row->id)) {
      stop_requested_.insert(row->id);
      wake_.notify_all();
    }
  }
}

void JobService::UploadCheckpoints(const std::string& job_id, const std::atomic<bool>& done, int64_t* uploaded) {
  const std::string dir = config_.data_dir + "/jobs/" + job_id + "/run/checkpoint";
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(2));
      // Only while the lease holds (a worker cut off must not overwrite its successor's objects).
      if (lease_lost_ || !lease_ || WallMillis() >= lease_->expires_ms) return;
    }
    if (Status s = artifacts_->UploadCheckpoint(job_id, dir, uploaded); !s.ok())
      spdlog::warn("job {}: checkpoint upload: {}", job_id, s.message());
    if (done) return;  // after one last look: the trainer writes a checkpoint when interrupted
  }
}

void JobService::RunClaimLoop() {
  const int64_t lease_ms = int64_t{config_.lease_seconds} * 1000;
  int64_t last_error_log = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutting_down_) return;
    }
    auto claimed = leases_.Claim(config_.worker_id, config_.worker_capacity, lease_ms);
    if (claimed.ok() && claimed->has_value()) {
      RunClaimed(std::move(**claimed));
      continue;
    }
    if (!claimed.ok() && WallMillis() - last_error_log > 60000) {
      spdlog::error("worker {}: cannot claim work: {}", config_.worker_id, claimed.status().message());
      last_error_log = WallMillis();
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) return;
    wake_.wait_for(lock, std::chrono::seconds(2));
  }
}

void JobService::RunClaimed(store::Lease lease) {
  if (lease.item.kind != kJobWorkKind) {  // work of another kind: this loop runs jobs only
    (void)leases_.Release(lease);
    return;
  }
  auto row = db_->Find(kJobKind, lease.item.id);
  if (!row.ok() && row.status().code() != Status::Code::kNotFound) {
    (void)leases_.Release(lease);
    return;
  }
  if (!row.ok() || Ended(row->status)) {  // deleted, or ended by a worker that died before completing its lease
    (void)leases_.Complete(lease);
    return;
  }
  spdlog::info("worker {}: claimed job {} ({}), generation {}", config_.worker_id, row->name, row->id, lease.generation);
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = lease;
    lease_lost_ = false;
    running_id_ = row->id;
    if (row->status == "Stopping") stop_requested_.insert(row->id);
  }
  row->doc["_worker"] = config_.worker_id;
  std::atomic<bool> done{false};
  int64_t uploaded = 0;
  std::thread keeper([this, lease, &done] { KeepLease(lease, done); });
  std::thread uploader;
  if (artifacts_) uploader = std::thread([this, id = row->id, &done, &uploaded] { UploadCheckpoints(id, done, &uploaded); });
  try {
    RunJob(*row);
  } catch (const std::exception& e) {  // a bug must fail one job, not take the worker down
    Finish(&*row, "Failed", std::string("internal error: ") + e.what());
  }
  done = true;
  wake_.notify_all();
  keeper.join();
  if (uploader.joinable()) uploader.join();
  bool lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lost = lease_lost_;
    if (lease_) lease = *lease_;
    lease_.reset();
    running_id_.clear();
  }
  if (lost) return;
  if (!Ended(row->status)) {  // this worker is shutting down: another one resumes the job at once
    if (Status s = leases_.Release(lease); !s.ok()) spdlog::warn("job {}: release: {}", row->id, s.message());
    else spdlog::info("worker {}: gave job {} back to the queue", config_.worker_id, row->id);
    return;
  }
  // Ended and saved: the checkpoint can never be resumed, and the queue entry is done.
  if (artifacts_) (void)artifacts_->RemoveCheckpoint(row->id, uploaded);
  if (Status s = leases_.Complete(lease); !s.ok()) spdlog::warn("job {}: complete: {}", row->id, s.message());
}

}  // namespace lathe::service
