// What the services whose jobs run on `lathe worker`s share (docs/scale-out.md): fine-tuning
// (JobService) and evaluation (EvaluationJobService). The API node queues each job as a work item
// of the shared store (store/work_leases.h) and stops jobs across nodes; a worker claims an item,
// keeps its lease while it runs the job, and saves the job's row only while it holds the lease and
// only over the status it read (a compare-and-swap), so a Stop from the API node is never undone
// and a job is ended once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/service_config.h"
#include "store/metadata_store.h"
#include "store/work_leases.h"

namespace lathe::service {

// The "... State Change" event a status change publishes; may be empty (no event).
using StateChangeEventFn = std::function<store::OutboxEvent(const store::ResourceRow&)>;

// One kind of job and its kind of work item.
struct WorkKinds {
  std::string row;   // the store's row kind ("job", "evaluation-job")
  std::string work;  // the work item's kind ("fine-tuning-job", "evaluation-job")
};

// The API node's side.
// Queues `job`, needing `needs` of a worker (at least one CPU; OK when it was queued before: an
// item is its job's, once).
Status QueueForWorkers(store::WorkLeases& leases, const WorkKinds& kinds, const store::ResourceRow& job,
                       store::Capacity needs);
// Queues every job in progress that has no item (one a failed write left out, or one created
// before the switch to workers); `needs` says what each needs.
void QueueAllInProgress(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                        const std::function<store::Capacity(const store::ResourceRow&)>& needs);
// A Stop of a job that waits for or runs on a worker: true when it was taken out of the queue
// (the caller ends it Stopped at once); false when Stopping was written (swapped over the
// InProgress `row` holds), which the worker holding it sees within seconds. Conflict when it ended
// meanwhile.
Result<bool> StopOnWorker(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                          const store::ResourceRow& row, const StateChangeEventFn& event);

// A worker's side.
// Claims items of `kinds.work` (those that fit `config`'s worker capacity) and hands each to `run`,
// until `shutting_down` (read under `mu`); between empty claims it waits `idle` on `wake` (jobs
// run for minutes: 2 s; a function's caller waits for it: less).
void ClaimLoop(store::WorkLeases& leases, const ServiceConfig& config, const WorkKinds& kinds, std::mutex& mu,
               std::condition_variable& wake, const bool& shutting_down, const std::function<void(store::Lease)>& run,
               std::chrono::milliseconds idle = std::chrono::seconds(2));
// The row of a claimed item's job when the worker should run it; nullopt when the claim is
// settled already (the job is gone or ended: the item is completed; the store cannot be read: the
// item goes back to the queue).
std::optional<store::ResourceRow> ClaimedRow(store::MetadataStore* db, store::WorkLeases& leases, const WorkKinds& kinds,
                                             const store::Lease& lease);
// After the job ran: nothing when the lease was lost; the item back to the queue when the job is
// still in progress (the worker is shutting down: another resumes it at once); else completed.
// Returns whether the job ended here.
bool EndClaim(store::WorkLeases& leases, const store::Lease& lease, bool lost, const store::ResourceRow& row);

// A worker's save of the job it holds: over the status the store has (read first), never over an
// end another node wrote (Conflict). When the store says Stopping (the API node's Stop), an
// InProgress `copy` is saved as Stopping and *stopping is set.
Status SaveClaimed(store::MetadataStore* db, const std::string& row_kind, store::ResourceRow copy,
                   const StateChangeEventFn& event, bool* stopping);

// A worker's hold on one claimed item while it runs the job: a thread that heartbeats every
// quarter of the lease and reads the job's row (`row_kind`, the item's id) in `db` each second (a
// Stop from the API node); with a null `db` there is no row to watch (a function invocation), and
// `row_kind` only names the item in the log. `wake` is called when either changes, so the
// runner's waits end at once.
class LeaseKeeper {
 public:
  LeaseKeeper(store::WorkLeases* leases, store::MetadataStore* db, std::string row_kind, store::Lease lease,
              int64_t lease_ms, std::function<void()> wake);
  ~LeaseKeeper();  // stops the thread

  // The lease was taken over (expired and claimed by another worker): stop, write nothing more.
  bool lost() const { return lost_; }
  // The store says Stopping.
  bool stopping() const { return stopping_; }
  // Whether the lease holds now (Lease::local_deadline: this machine's steady clock, so a skewed
  // wall clock does not matter); uploads stop before it runs out.
  bool HoldsNow() const;
  // The lease as last renewed (to release or complete it).
  store::Lease lease() const;

 private:
  void Run();

  store::WorkLeases* leases_;
  store::MetadataStore* db_;
  const std::string row_kind_;
  const int64_t lease_ms_;
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  store::Lease lease_;
  bool done_ = false;
  std::atomic<bool> lost_{false}, stopping_{false};
  std::thread thread_;
};

// What a service keeps about the claimed job its worker runs, all guarded by `mu` (the service's
// own mutex, which its runner and its Stop also hold).
struct ClaimSlot {
  std::mutex& mu;
  std::condition_variable& wake;  // notified when the keeper sees a lost lease or a Stop
  std::unique_ptr<LeaseKeeper>& keeper;
  std::string& running_id;
  std::set<std::string>& stop_requested;
};

// Starts holding `lease` for `row`: a LeaseKeeper in the slot, the row as the one running, and a
// Stop the store has already as requested.
void StartKeeping(const ClaimSlot& slot, store::WorkLeases* leases, store::MetadataStore* db,
                  const std::string& row_kind, int64_t lease_ms, const store::Lease& lease,
                  const store::ResourceRow& row);
// Stops the keeper (no more heartbeats: what the caller does next ends the lease) and clears the
// slot. Sets *lease to the lease as last renewed; returns whether it was lost.
bool StopKeeping(const ClaimSlot& slot, store::Lease* lease);

}  // namespace lathe::service
