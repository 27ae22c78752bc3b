#include "store/work_leases.h"

#include <chrono>

#include "store/sql_db.h"

namespace lathe::store {
namespace {

constexpr const char* kItemColumns = "kind, id, cpus, gpus, memory_bytes, doc, worker_id, generation, expires_ms";

// Bounds of what a caller passes: ids are lathe's own, but a lease length decides how long a
// dead worker's item waits, so it must be sane.
constexpr int64_t kMaxLeaseMs = 24LL * 3600 * 1000;
constexpr size_t kMaxIdBytes = 1024;

Lease ReadLease(const SqlQuery& q) {
  Lease l;
  l.item.kind = q.Text(0);
  l.item.id = q.Text(1);
  l.item.needs = {q.Int(2), q.Int(3), q.Int(4)};
  l.item.doc = nlohmann::json::parse(q.Text(5), nullptr, /*allow_exceptions=*/false);
  l.worker_id = q.Text(6);
  l.generation = q.Int(7);
  l.expires_ms = q.Int(8);
  return l;
}

Status CheckLeaseMs(int64_t lease_ms) {
  if (lease_ms <= 0 || lease_ms > kMaxLeaseMs)
    return Status::InvalidArgument("a lease lasts 1 ms to 24 h, not " + std::to_string(lease_ms) + " ms");
  return Status::Ok();
}

}  // namespace

Result<int64_t> WorkLeases::Now() {
  std::lock_guard<std::mutex> lock(store_->mu_);
  return NowLocked();
}

Result<int64_t> WorkLeases::NowLocked() {
  if (now_ms_) return now_ms_();
  SqlDb& db = *store_->sql_;
  if (db.dialect() == SqlDialect::kSqlite) {
    if (machine_ms_) return machine_ms_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // clock_timestamp(), not now(): inside a transaction now() is the transaction's start.
  SqlQuery q(db, "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)");
  if (q.Step() != SqlQuery::kRow) return q.Error("read the store's clock");
  return q.Int(0);
}

Status WorkLeases::Enqueue(const WorkItem& item) {
  if (item.kind.empty() || item.id.empty() || item.kind.size() > kMaxIdBytes || item.id.size() > kMaxIdBytes)
    return Status::InvalidArgument("a work item has a kind and an id of 1 to 1024 bytes");
  if (item.needs.cpus < 0 || item.needs.gpus < 0 || item.needs.memory_bytes < 0)
    return Status::InvalidArgument("a work item's needs are not negative");
  std::lock_guard<std::mutex> lock(store_->mu_);
  auto now = NowLocked();
  if (!now.ok()) return now.status();
  SqlQuery q(*store_->sql_,
             "INSERT INTO work_items (kind, id, cpus, gpus, memory_bytes, state, worker_id, generation, expires_ms, "
             "enqueued_ms, doc) VALUES (?, ?, ?, ?, ?, 'queued', '', 0, 0, ?, ?)");
  q.Bind(1, item.kind).Bind(2, item.id).Bind(3, item.needs.cpus).Bind(4, item.needs.gpus);
  q.Bind(5, item.needs.memory_bytes).Bind(6, *now);
  q.Bind(7, item.doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const SqlQuery::Outcome o = q.Step();
  if (o == SqlQuery::kConstraint) return Status::AlreadyExists(item.kind + " " + item.id + " is already queued");
  return o == SqlQuery::kDone ? Status::Ok() : q.Error("enqueue " + item.kind);
}

Result<std::optional<Lease>> WorkLeases::Claim(const std::string& worker_id, const Capacity& capacity,
                                               int64_t lease_ms, const std::string& kind) {
  LATHE_RETURN_IF_ERROR(CheckLeaseMs(lease_ms));
  if (worker_id.empty() || worker_id.size() > kMaxIdBytes)
    return Status::InvalidArgument("a worker id has 1 to 1024 bytes");
  const auto sent = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlDb& db = *store_->sql_;
  // The inner SELECT picks (and on PostgreSQL locks, skipping rows other claimers hold) the
  // oldest item that fits; the UPDATE takes it in the same statement.
  const std::string sql =
      std::string("UPDATE work_items SET state = 'leased', worker_id = ?, generation = generation + 1, "
                  "expires_ms = ? WHERE (kind, id) = (SELECT kind, id FROM work_items "
                  "WHERE (state = 'queued' OR (state = 'leased' AND expires_ms <= ?)) "
                  "AND cpus <= ? AND gpus <= ? AND memory_bytes <= ? AND (? = '' OR kind = ?) "
                  "ORDER BY enqueued_ms, kind, id LIMIT 1") +
      ForUpdateSkipLockedSql(db.dialect()) + ") RETURNING " + kItemColumns;
  std::optional<Lease> claimed;
  Status s = InSqlTransaction(db, [&]() -> Status {
    auto now = NowLocked();
    if (!now.ok()) return now.status();
    SqlQuery q(db, sql);
    q.Bind(1, worker_id).Bind(2, *now + lease_ms).Bind(3, *now);
    q.Bind(4, capacity.cpus).Bind(5, capacity.gpus).Bind(6, capacity.memory_bytes).Bind(7, kind).Bind(8, kind);
    const SqlQuery::Outcome o = q.Step();
    if (o == SqlQuery::kRow) {
      claimed = ReadLease(q);
      claimed->local_deadline = sent + std::chrono::milliseconds(lease_ms);
    } else if (o != SqlQuery::kDone) return q.Error("claim work");
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return claimed;
}

Status WorkLeases::Fenced(const std::string& what, const Lease& lease, const std::string& sql,
                          const std::function<int64_t(int64_t now)>& first) {
  std::lock_guard<std::mutex> lock(store_->mu_);
  auto now = NowLocked();
  if (!now.ok()) return now.status();
  SqlQuery q(*store_->sql_, sql);
  q.Bind(1, first(*now)).Bind(2, lease.worker_id).Bind(3, lease.generation).Bind(4, lease.item.kind).Bind(5, lease.item.id);
  LATHE_RETURN_IF_ERROR(q.Run(what));
  if (q.changes() == 0)
    return Status::Conflict("the lease of " + lease.item.kind + " " + lease.item.id + " (generation " +
                            std::to_string(lease.generation) + ") was lost: another worker holds it or it ended");
  return Status::Ok();
}

// Every fenced change matches the worker and the generation it claimed; a later claim raised
// the generation, so a stale worker's change matches no row.
Status WorkLeases::Heartbeat(Lease& lease, int64_t lease_ms) {
  LATHE_RETURN_IF_ERROR(CheckLeaseMs(lease_ms));
  const auto sent = std::chrono::steady_clock::now();
  int64_t until = 0;
  LATHE_RETURN_IF_ERROR(Fenced("heartbeat", lease,
                               "UPDATE work_items SET expires_ms = ? WHERE state = 'leased' AND worker_id = ? "
                               "AND generation = ? AND kind = ? AND id = ?",
                               [&](int64_t now) { return until = now + lease_ms; }));
  lease.expires_ms = until;
  lease.local_deadline = sent + std::chrono::milliseconds(lease_ms);
  return Status::Ok();
}

Status WorkLeases::Release(const Lease& lease) {
  return Fenced("release", lease,
                "UPDATE work_items SET state = 'queued', worker_id = '', expires_ms = ? WHERE state = 'leased' "
                "AND worker_id = ? AND generation = ? AND kind = ? AND id = ?",
                [](int64_t) { return int64_t{0}; });
}

Status WorkLeases::Complete(const Lease& lease) {
  return Fenced("complete", lease,
                "UPDATE work_items SET state = 'done', expires_ms = ? WHERE state = 'leased' AND worker_id = ? "
                "AND generation = ? AND kind = ? AND id = ?",
                [](int64_t now) { return now; });
}

Result<QueueDepth> WorkLeases::Depth() {
  auto by_kind = DepthByKind();
  if (!by_kind.ok()) return by_kind.status();
  QueueDepth d;
  for (const auto& [kind, k] : *by_kind) {
    d.queued += k.queued;
    d.leased += k.leased;
    d.done += k.done;
  }
  return d;
}

Status WorkLeases::CancelQueued(const std::string& kind, const std::string& id) {
  std::lock_guard<std::mutex> lock(store_->mu_);
  auto now = NowLocked();
  if (!now.ok()) return now.status();
  SqlQuery q(*store_->sql_, "UPDATE work_items SET state = 'done', expires_ms = ? WHERE state = 'queued' AND kind = ? "
                            "AND id = ?");
  q.Bind(1, *now).Bind(2, kind).Bind(3, id);
  LATHE_RETURN_IF_ERROR(q.Run("cancel " + kind));
  if (q.changes() == 0) return Status::Conflict(kind + " " + id + " is not waiting in the queue");
  return Status::Ok();
}

Result<std::map<std::string, QueueDepth>> WorkLeases::DepthByKind() {
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlQuery q(*store_->sql_, "SELECT kind, state, COUNT(*) FROM work_items GROUP BY kind, state");
  std::map<std::string, QueueDepth> depth;
  SqlQuery::Outcome o;
  while ((o = q.Step()) == SqlQuery::kRow) {
    QueueDepth& d = depth[q.Text(0)];
    const std::string state = q.Text(1);
    (state == "queued" ? d.queued : state == "leased" ? d.leased : d.done) += q.Int(2);
  }
  if (o != SqlQuery::kDone) return q.Error("queue depth");
  return depth;
}

Result<std::vector<WorkItemRow>> WorkLeases::List(size_t limit, bool include_done) {
  if (limit == 0 || limit > kMaxListedWorkItems)
    return Status::InvalidArgument("a work item listing holds 1 to " + std::to_string(kMaxListedWorkItems) + " items");
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlQuery q(*store_->sql_,
             std::string("SELECT kind, id, state, worker_id, cpus, gpus, memory_bytes, generation, expires_ms, "
                         "enqueued_ms FROM work_items") +
                 (include_done ? "" : " WHERE state != 'done'") +
                 " ORDER BY CASE state WHEN 'leased' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, enqueued_ms, kind, id "
                 "LIMIT ?");
  q.Bind(1, static_cast<int64_t>(limit));
  std::vector<WorkItemRow> items;
  SqlQuery::Outcome o;
  while ((o = q.Step()) == SqlQuery::kRow) {
    WorkItemRow r;
    r.kind = q.Text(0);
    r.id = q.Text(1);
    r.state = q.Text(2);
    r.worker_id = q.Text(3);
    r.needs = {q.Int(4), q.Int(5), q.Int(6)};
    r.generation = q.Int(7);
    r.expires_ms = q.Int(8);
    r.enqueued_ms = q.Int(9);
    items.push_back(std::move(r));
  }
  if (o != SqlQuery::kDone) return q.Error("list work items");
  return items;
}

}  // namespace lathe::store
