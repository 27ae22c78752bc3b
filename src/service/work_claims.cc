#include "service/work_claims.h"

#include <chrono>
#include <spdlog/spdlog.h>

#include "core/arn.h"

namespace lathe::service {
using nlohmann::json;

namespace {

bool Ended(const std::string& status) { return status != "InProgress" && status != "Stopping"; }

// How many jobs in progress an API node looks at each time it re-queues.
constexpr size_t kSweepBatch = 1000;

}  // namespace

Status QueueForWorkers(store::WorkLeases& leases, const WorkKinds& kinds, const store::ResourceRow& job,
                       store::Capacity needs) {
  store::WorkItem item;
  item.kind = kinds.work;
  item.id = job.id;
  item.needs = needs;
  item.needs.cpus = std::max<int64_t>(1, needs.cpus);
  item.doc = {{"arn", job.arn}, {"name", job.name}};
  Status s = leases.Enqueue(item);
  if (s.code() == Status::Code::kAlreadyExists) return Status::Ok();
  if (!s.ok()) spdlog::warn("{} {} ({}): not queued for the workers yet: {}", kinds.row, job.name, job.id, s.message());
  return s;
}

void QueueAllInProgress(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                        const std::function<store::Capacity(const store::ResourceRow&)>& needs) {
  store::MetadataStore::ListFilter active;
  active.statuses = {"InProgress", "Stopping"};
  active.limit = kSweepBatch;
  if (auto rows = db->List(kinds.row, active); rows.ok())
    for (const auto& r : *rows)
      if (!Ended(r.status)) (void)QueueForWorkers(leases, kinds, r, needs(r));
}

Result<bool> StopOnWorker(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                          const store::ResourceRow& row, const StateChangeEventFn& event) {
  if (leases.CancelQueued(kinds.work, row.id).ok()) return true;
  store::ResourceRow copy = row;
  copy.status = "Stopping";
  copy.doc["status"] = copy.status;
  copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
  store::WriteBatch batch;
  batch.expects.push_back({kinds.row, copy.id, "status", "InProgress"});
  batch.updates.push_back(copy);
  if (event) batch.events.push_back(event(copy));
  Status s = db->Write(batch);
  if (s.code() == Status::Code::kConflict)
    return Status::Conflict(row.name + " ended meanwhile; only an InProgress job can be stopped");
  if (!s.ok()) return s;
  return false;
}

void ClaimLoop(store::WorkLeases& leases, const ServiceConfig& config, const WorkKinds& kinds, std::mutex& mu,
               std::condition_variable& wake, const bool& shutting_down, const std::function<void(store::Lease)>& run,
               std::chrono::milliseconds idle) {
  const int64_t lease_ms = int64_t{config.lease_seconds} * 1000;
  auto last_error_log = std::chrono::steady_clock::time_point{};
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (shutting_down) return;
    }
    auto claimed = leases.Claim(config.worker_id, config.worker_capacity, lease_ms, kinds.work);
    if (claimed.ok() && claimed->has_value()) {
      run(std::move(**claimed));
      continue;
    }
    if (!claimed.ok() && std::chrono::steady_clock::now() - last_error_log > std::chrono::minutes(1)) {
      spdlog::error("worker {}: cannot claim {} work: {}", config.worker_id, kinds.work, claimed.status().message());
      last_error_log = std::chrono::steady_clock::now();
    }
    std::unique_lock<std::mutex> lock(mu);
    if (shutting_down) return;
    wake.wait_for(lock, idle);
  }
}

std::optional<store::ResourceRow> ClaimedRow(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                                             const store::Lease& lease) {
  auto row = db->Find(kinds.row, lease.item.id);
  if (!row.ok() && row.status().code() != Status::Code::kNotFound) {
    (void)leases.Release(lease);
    return std::nullopt;
  }
  if (!row.ok() || Ended(row->status)) {  // deleted, or ended by a worker that died before completing its item
    (void)leases.Complete(lease);
    return std::nullopt;
  }
  spdlog::info("worker {}: claimed {} {} ({}), generation {}", lease.worker_id, kinds.row, row->name, row->id,
               lease.generation);
  return std::move(*row);
}

bool EndClaim(store::WorkLeases& leases, const store::Lease& lease, bool lost, const store::ResourceRow& row) {
  if (lost) return false;
  if (!Ended(row.status)) {
    if (Status s = leases.Release(lease); !s.ok()) spdlog::warn("{}: release: {}", row.id, s.message());
    else spdlog::info("worker {}: gave {} back to the queue", lease.worker_id, row.id);
    return false;
  }
  if (Status s = leases.Complete(lease); !s.ok()) spdlog::warn("{}: complete: {}", row.id, s.message());
  return true;
}

Status SaveClaimed(store::MetadataStore* db, const std::string& row_kind, store::ResourceRow copy,
                   const StateChangeEventFn& event, bool* stopping) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto current = db->Find(row_kind, copy.id);
    if (!current.ok()) return current.status();
    if (Ended(current->status)) return Status::Conflict(copy.id + " was ended elsewhere (" + current->status + ")");
    if (current->status == "Stopping") {  // the API node's Stop
      *stopping = true;
      if (copy.status == "InProgress") copy.status = "Stopping";
    }
    copy.doc["status"] = copy.status;
    copy.doc["lastModifiedTime"] = Iso8601(NowMillis());
    store::WriteBatch batch;
    batch.expects.push_back({row_kind, copy.id, "status", current->doc.value("status", json())});
    batch.updates.push_back(copy);
    if (event && current->status != copy.status) batch.events.push_back(event(copy));
    Status s = db->Write(batch);
    if (s.code() != Status::Code::kConflict) return s;  // Conflict: the status moved under us; read it again
  }
  return Status::Conflict(copy.id + " keeps changing under this worker");
}

LeaseKeeper::LeaseKeeper(store::WorkLeases* leases, store::MetadataStore* db, std::string row_kind, store::Lease lease,
                         int64_t lease_ms, std::function<void()> wake)
    : leases_(leases), db_(db), row_kind_(std::move(row_kind)), lease_ms_(lease_ms), wake_(std::move(wake)),
      lease_(std::move(lease)) {
  thread_ = std::thread([this] { Run(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  done_cv_.notify_all();
  thread_.join();
}

bool LeaseKeeper::HoldsNow() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !lost_ && std::chrono::steady_clock::now() < lease_.local_deadline;
}

store::Lease LeaseKeeper::lease() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lease_;
}

void LeaseKeeper::Run() {
  const auto beat_every = std::chrono::milliseconds(std::max<int64_t>(1000, lease_ms_ / 4));
  auto last_beat = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    done_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; });
    if (done_) return;
    store::Lease renewed = lease_;
    lock.unlock();
    Status beat = Status::Ok();
    bool beat_now = std::chrono::steady_clock::now() - last_beat >= beat_every;
    if (beat_now) {
      beat = leases_->Heartbeat(renewed, lease_ms_);
      if (beat.ok()) last_beat = std::chrono::steady_clock::now();
      else spdlog::warn("{} {}: heartbeat: {}", row_kind_, renewed.item.id, beat.message());
    }
    Result<store::ResourceRow> row = Status::NotFound("no row watched");
    if (db_) row = db_->Find(row_kind_, renewed.item.id);  // a Stop from the API node
    lock.lock();
    if (beat.code() == Status::Code::kConflict) {
      lost_ = true;
      spdlog::warn("{} {}: this worker's lease was taken over; it stops without writing anything more", row_kind_,
                   renewed.item.id);
      if (wake_) wake_();
      return;
    }
    if (beat_now && beat.ok()) lease_ = renewed;
    if (row.ok() && row->status == "Stopping" && !stopping_) {
      stopping_ = true;
      if (wake_) wake_();
    }
  }
}

void StartKeeping(const ClaimSlot& slot, store::WorkLeases* leases, store::MetadataStore* db,
                  const std::string& row_kind, int64_t lease_ms, const store::Lease& lease,
                  const store::ResourceRow& row) {
  std::lock_guard<std::mutex> lock(slot.mu);
  std::condition_variable* wake = &slot.wake;
  slot.keeper = std::make_unique<LeaseKeeper>(leases, db, row_kind, lease, lease_ms, [wake] { wake->notify_all(); });
  slot.running_id = row.id;
  if (row.status == "Stopping") slot.stop_requested.insert(row.id);
}

bool StopKeeping(const ClaimSlot& slot, store::Lease* lease) {
  std::unique_ptr<LeaseKeeper> keeper;
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    keeper = std::move(slot.keeper);
    slot.running_id.clear();
  }
  const bool lost = keeper->lost();
  *lease = keeper->lease();
  keeper.reset();  // joins its thread outside `mu`: the join may wait for a store read in flight
  return lost;
}

}  // namespace lathe::service
