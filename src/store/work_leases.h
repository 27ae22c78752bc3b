// Work that workers claim with leases (lathe worker, docs/scale-out.md): fine-tuning jobs,
// evaluation runs, batch work, Step Functions task steps, each an item (kind, id) with the
// capacity it needs. A worker claims the oldest queued item that fits its capacity and holds it
// while it heartbeats; a worker that dies stops heartbeating, its lease expires and another
// worker claims the item again. Every claim raises the item's generation: the fencing token a
// worker shows to heartbeat, release or complete, so a worker whose lease expired (paused, cut
// off) cannot finish an item someone else now holds.
//
// On PostgreSQL a claim is one UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED`: concurrent
// workers on many machines never wait on each other's rows and never get the same item. On
// SQLite it is the same statement in one IMMEDIATE transaction (one writer at a time).
//
// Times (expiry, queueing order) are on the store's clock: PostgreSQL's own, which every machine
// sharing the store reads alike, so a worker whose clock is ahead does not take over leases that
// have not run out, and one whose clock is behind does not keep its own past the end. A SQLite
// store is one machine's, and its clock is that machine's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::store {

// What an item needs, and what a worker offers: an item fits a worker when every need is at most
// the worker's.
struct Capacity {
  int64_t cpus = 0, gpus = 0, memory_bytes = 0;
};

struct WorkItem {
  std::string kind;  // "fine-tuning-job", "evaluation-job", "batch", "sfn-task"
  std::string id;
  Capacity needs;
  nlohmann::json doc = nlohmann::json::object();  // what the worker needs to start it
};

// A claim: the item, its fencing token and when the lease ends unless renewed.
struct Lease {
  WorkItem item;
  std::string worker_id;
  int64_t generation = 0;
  int64_t expires_ms = 0;  // on the store's clock
  // When the lease ends by this machine's steady clock: counted from before the statement that
  // set expires_ms, so never later than the store's end, whatever this machine's wall clock says.
  // A holder checks it before each write it must not make once another worker may hold the item.
  std::chrono::steady_clock::time_point local_deadline{};
};

struct QueueDepth {
  int64_t queued = 0, leased = 0, done = 0;
};

// An item as `lathe status` shows it. state: "queued", "leased" (also when its lease expired and
// nobody claimed it again yet: expires_ms <= now) or "done".
struct WorkItemRow {
  std::string kind, id, state, worker_id;
  Capacity needs;
  int64_t generation = 0, expires_ms = 0, enqueued_ms = 0;
};

// List returns at most this many items.
inline constexpr size_t kMaxListedWorkItems = 10000;

class WorkLeases {
 public:
  // Over the store's database (its table is made by the store's migrations).
  explicit WorkLeases(MetadataStore* store) : store_(store) {}
  // The store's clock in ms since the epoch, instead of the database's: tests move it to expire
  // leases without sleeping.
  void set_clock(std::function<int64_t()> now_ms) { now_ms_ = std::move(now_ms); }
  // This machine's wall clock (the system clock unless set): what a SQLite store goes by; tests
  // skew it to show that a PostgreSQL store does not.
  void set_machine_clock(std::function<int64_t()> now_ms) { machine_ms_ = std::move(now_ms); }
  // The store's clock now (see set_clock).
  Result<int64_t> Now();

  // Queues an item; AlreadyExists when (kind, id) was queued before (even if done).
  Status Enqueue(const WorkItem& item);
  // The oldest queued item (or one whose lease expired) that fits `capacity`, of `kind` unless
  // that is "", leased to `worker_id` for `lease_ms`; nullopt when none fits.
  Result<std::optional<Lease>> Claim(const std::string& worker_id, const Capacity& capacity, int64_t lease_ms,
                                     const std::string& kind = "");
  // Extends the lease to now + lease_ms. Conflict when the lease was lost (expired and claimed
  // again, released, completed): the worker must stop working on the item.
  Status Heartbeat(Lease& lease, int64_t lease_ms);
  // Gives the item back to the queue (a worker shutting down). Conflict as for Heartbeat.
  Status Release(const Lease& lease);
  // Marks the item done. Conflict when the lease was lost: someone else owns the item now.
  // An expired lease that nobody claimed since still completes: the work was done.
  Status Complete(const Lease& lease);
  Result<QueueDepth> Depth();
  // Marks a queued item done before any worker claims it (a job stopped while it waits). Conflict
  // when it is not queued: a worker holds it (or its lease expired unclaimed), or it ended; the
  // caller must then tell the holder instead.
  Status CancelQueued(const std::string& kind, const std::string& id);
  // The same per kind (kinds with no item are absent).
  Result<std::map<std::string, QueueDepth>> DepthByKind();
  // Items not done (leased first, then queued; oldest first within each), and done ones too when
  // `include_done`; at most `limit` (1 to kMaxListedWorkItems).
  Result<std::vector<WorkItemRow>> List(size_t limit, bool include_done = false);

 private:
  // Runs `sql` (binding first(the store's now), then worker, generation, kind, id) and maps "no
  // row changed" to Conflict: the fence.
  Status Fenced(const std::string& what, const Lease& lease, const std::string& sql,
                const std::function<int64_t(int64_t now)>& first);
  // Now(), with store_->mu_ held.
  Result<int64_t> NowLocked();
  MetadataStore* store_;
  std::function<int64_t()> now_ms_, machine_ms_;
};

}  // namespace lathe::store
