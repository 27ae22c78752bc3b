// EvaluationJobService on several machines (docs/scale-out.md): like fine-tuning jobs (job_claims.cc)
// an API node queues evaluation jobs and `lathe worker`s claim and run them, over work_claims.h.
// A run needs no checkpoint: one taken over from a worker that died runs again from the start
// (a run is deterministic: same cases, settings and seed) and publishes to the same names.
#include <spdlog/spdlog.h>

#include "service/evaluation_jobs.h"

namespace lathe::service {
namespace {

const WorkKinds kKinds{kEvaluationJobKind, kEvaluationWorkKind};

}  // namespace

void EvaluationJobService::RunQueueSweeper() {
  while (true) {
    QueueAllInProgress(db_, leases_, kKinds, [](const store::ResourceRow&) { return store::Capacity{1, 0, 0}; });
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) return;
    wake_.wait_for(lock, std::chrono::seconds(10));
    if (shutting_down_) return;
  }
}

Status EvaluationJobService::StopOnWorkerLocked(store::ResourceRow* row) {
  auto cancelled = StopOnWorker(db_, leases_, kKinds, *row, nullptr);
  if (!cancelled.ok())
    return cancelled.status().code() == Status::Code::kConflict
               ? Status::Conflict("Evaluation job " + cancelled.status().message())
               : cancelled.status();
  if (*cancelled) {  // it was still waiting for a worker
    row->status = "Stopped";
    return SaveLocked(*row);
  }
  return Status::Ok();
}

Status EvaluationJobService::SaveClaimedLocked(const store::ResourceRow& copy) {
  if (keeper_ && keeper_->lost())
    return Status::Conflict("the lease on evaluation job " + copy.id + " was taken over by another worker");
  bool stopping = false;
  Status s = SaveClaimed(db_, kEvaluationJobKind, copy, nullptr, &stopping);
  if (stopping) stop_requested_.insert(copy.id);
  return s;
}

void EvaluationJobService::RunClaimed(store::Lease lease) {
  std::optional<store::ResourceRow> row = ClaimedRow(db_, leases_, kKinds, lease);
  if (!row) return;
  const ClaimSlot slot{mu_, wake_, keeper_, running_id_, stop_requested_};
  StartKeeping(slot, &leases_, db_, kEvaluationJobKind, int64_t{config_.lease_seconds} * 1000, lease, *row);
  row->doc["_worker"] = config_.worker_id;
  try {
    RunJob(*row);
  } catch (const std::exception& e) {  // a bug must fail one job, not take the worker down
    Finish(&*row, "Failed", {std::string("internal error: ") + e.what()});
  }
  const bool lost = StopKeeping(slot, &lease);
  EndClaim(leases_, lease, lost, *row);
}

}  // namespace lathe::service
