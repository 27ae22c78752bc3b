// ExecutionStore (execution_store.h): Step Functions' executions, history and frames as tables in
// lathe.db, sharing MetadataStore's connection and lock so that a transition and its outbox event
// are one transaction.
#include "store/execution_store.h"

#include "store/object_index_sql.h"

namespace lathe::store {

using namespace index_sql;  // NOLINT: the shared Stmt helpers

namespace {

constexpr const char* kExecutionColumns = "arn, state_machine_arn, name, status, start_ms, stop_ms, parent_arn, doc";
constexpr const char* kFrameColumns = "id, parent_id, status, wake_at_ms, task_token, doc";

// Rows are copied out under the lock; their JSON is parsed after it.
struct RawExecution {
  ExecutionRecord r;
  std::string doc;
};
RawExecution ReadExecution(const Stmt& s) {
  RawExecution x;
  x.r.arn = s.ColText(0);
  x.r.state_machine_arn = s.ColText(1);
  x.r.name = s.ColText(2);
  x.r.status = s.ColText(3);
  x.r.start_ms = s.ColInt(4);
  x.r.stop_ms = s.ColInt(5);
  x.r.parent_arn = s.ColText(6);
  x.doc = s.ColText(7);
  return x;
}
std::vector<ExecutionRecord> FinishExecutions(std::vector<RawExecution> raw) {
  std::vector<ExecutionRecord> out;
  out.reserve(raw.size());
  for (auto& x : raw) {
    x.r.doc = Parse(x.doc);
    out.push_back(std::move(x.r));
  }
  return out;
}
Status CollectExecutions(Stmt& s, std::vector<RawExecution>* out, const char* what) {
  return ForEachRow(s, what, [out](const Stmt& row) { out->push_back(ReadExecution(row)); });
}

struct RawFrame {
  FrameRecord f;
  std::string doc;
};
RawFrame ReadFrame(const Stmt& s, int first) {
  RawFrame x;
  x.f.id = s.ColInt(first);
  x.f.parent_id = s.ColInt(first + 1);
  x.f.status = s.ColText(first + 2);
  x.f.wake_at_ms = s.ColInt(first + 3);
  x.f.task_token = s.ColText(first + 4);
  x.doc = s.ColText(first + 5);
  return x;
}
FrameRecord FinishFrame(RawFrame x) {
  x.f.doc = Parse(x.doc);
  return std::move(x.f);
}

struct RawHistory {
  HistoryRecord h;
  std::string details;
};
Result<std::vector<HistoryRecord>> CollectHistory(Stmt& s) {
  std::vector<RawHistory> raw;
  SqlQuery::Outcome rc;
  while ((rc = s.Step()) == SqlQuery::kRow) {
    RawHistory x;
    x.h.id = s.ColInt(0);
    x.h.previous_id = s.ColInt(1);
    x.h.type = s.ColText(2);
    x.h.timestamp_ms = s.ColInt(3);
    x.details = s.ColText(4);
    raw.push_back(std::move(x));
  }
  if (rc != SqlQuery::kDone) return s.Error("execution history");
  std::vector<HistoryRecord> out;
  out.reserve(raw.size());
  for (auto& x : raw) {
    x.h.details = Parse(x.details);
    out.push_back(std::move(x.h));
  }
  return out;
}

Result<int64_t> LastEventIdLocked(SqlDb& db, const std::string& arn) {
  Stmt s(db, "SELECT coalesce(max(id), 0) FROM sfn_history WHERE execution_arn = ?");
  s.Text(1, arn);
  if (s.Step() != SqlQuery::kRow) return s.Error("execution history");
  return s.ColInt(0);
}

Status InsertExecutionLocked(SqlDb& db, const ExecutionRecord& r) {
  if (r.arn.empty() || r.state_machine_arn.empty() || r.name.empty())
    return Status::InvalidArgument("an execution needs an ARN, a state machine ARN and a name");
  {
    Stmt s(db, "SELECT arn FROM sfn_executions WHERE arn = ?1 OR (state_machine_arn = ?2 AND name = ?3)");
    s.Text(1, r.arn).Text(2, r.state_machine_arn).Text(3, r.name);
    const SqlQuery::Outcome rc = s.Step();
    if (rc == SqlQuery::kRow) return Status::AlreadyExists("execution " + r.name + " already exists: " + s.ColText(0));
    if (rc != SqlQuery::kDone) return s.Error("insert execution");
  }
  Stmt s(db, std::string("INSERT INTO sfn_executions (") + kExecutionColumns + ") VALUES (?,?,?,?,?,?,?,?)");
  s.Text(1, r.arn).Text(2, r.state_machine_arn).Text(3, r.name).Text(4, r.status).Int(5, r.start_ms);
  s.Int(6, r.stop_ms).Text(7, r.parent_arn).Text(8, Dump(r.doc));
  // Another node may have inserted the same name between the SELECT and here (several API nodes
  // on one PostgreSQL store): the unique (state_machine_arn, name) says so, as the SELECT would.
  const SqlQuery::Outcome rc = s.Step();
  if (rc == SqlQuery::kConstraint) return Status::AlreadyExists("execution " + r.name + " already exists");
  if (rc != SqlQuery::kDone) return s.Error("insert execution");
  return Status::Ok();
}

Status UpdateExecutionLocked(SqlDb& db, const std::string& arn, const ExecutionRecord& r,
                             const std::string& expected_status) {
  Stmt s(db, expected_status.empty() ? "UPDATE sfn_executions SET status = ?2, stop_ms = ?3, doc = ?4 WHERE arn = ?1"
                                     : "UPDATE sfn_executions SET status = ?2, stop_ms = ?3, doc = ?4 "
                                       "WHERE arn = ?1 AND status = ?5");
  s.Text(1, arn).Text(2, r.status).Int(3, r.stop_ms).Text(4, Dump(r.doc));
  if (!expected_status.empty()) s.Text(5, expected_status);
  LATHE_RETURN_IF_ERROR(s.Run("update execution"));
  if (s.changes() == 1) return Status::Ok();
  Stmt q(db, "SELECT status FROM sfn_executions WHERE arn = ?");
  q.Text(1, arn);
  const SqlQuery::Outcome rc = q.Step();
  if (rc == SqlQuery::kDone) return Status::NotFound("no execution " + arn);
  if (rc != SqlQuery::kRow) return q.Error("update execution");
  return Status::Conflict("execution " + arn + " is " + q.ColText(0) + ", not " + expected_status);
}

Status AppendHistoryLocked(SqlDb& db, const std::string& arn, const std::vector<HistoryRecord>& history) {
  if (history.empty()) return Status::Ok();
  auto last = LastEventIdLocked(db, arn);
  if (!last.ok()) return last.status();
  int64_t expect = *last + 1;
  Stmt s(db,
         "INSERT INTO sfn_history (execution_arn, id, previous_id, type, timestamp_ms, details) VALUES (?,?,?,?,?,?)");
  for (const HistoryRecord& h : history) {
    if (h.id != expect)
      return Status::InvalidArgument("history event " + std::to_string(h.id) + " of " + arn + " does not follow " +
                                     std::to_string(expect - 1));
    ++expect;
    s.Text(1, arn).Int(2, h.id).Int(3, h.previous_id).Text(4, h.type).Int(5, h.timestamp_ms).Text(6, Dump(h.details));
    LATHE_RETURN_IF_ERROR(s.Run("append history"));
    s.Reset();
  }
  return Status::Ok();
}

Status UpsertFramesLocked(SqlDb& db, const std::string& arn, const std::vector<FrameRecord>& frames) {
  if (frames.empty()) return Status::Ok();
  Stmt s(db, std::string("INSERT INTO sfn_frames (execution_arn, ") + kFrameColumns +
                 ") VALUES (?,?,?,?,?,?,?) ON CONFLICT (execution_arn, id) DO UPDATE SET parent_id = excluded.parent_id, "
                 "status = excluded.status, wake_at_ms = excluded.wake_at_ms, task_token = excluded.task_token, "
                 "doc = excluded.doc");
  for (const FrameRecord& f : frames) {
    if (f.id <= 0) return Status::InvalidArgument("a frame id must be positive");
    s.Text(1, arn).Int(2, f.id).Int(3, f.parent_id).Text(4, f.status).Int(5, f.wake_at_ms).Text(6, f.task_token);
    s.Text(7, Dump(f.doc));
    LATHE_RETURN_IF_ERROR(s.Run("save frame"));
    s.Reset();
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ExecutionStore>> ExecutionStore::Open(MetadataStore* db) {
  // Its tables were made by MetadataStore::Open's migrations (lathe_db_schema.cc).
  return std::unique_ptr<ExecutionStore>(new ExecutionStore(db));
}

Status ExecutionStore::Commit(const ExecutionCommit& commit) {
  const std::string& arn = commit.execution_arn;
  if (arn.empty()) return Status::InvalidArgument("a commit names its execution");
  if (commit.insert && commit.insert->arn != arn)
    return Status::InvalidArgument("a commit inserts the execution it names");
  std::lock_guard<std::mutex> lock(db_->mu_);
  SqlDb& db = *db_->sql_;
  return InSqlTransaction(db, [&]() -> Status {
    if (commit.insert) LATHE_RETURN_IF_ERROR(InsertExecutionLocked(db, *commit.insert));
    if (commit.update) LATHE_RETURN_IF_ERROR(UpdateExecutionLocked(db, arn, *commit.update, commit.expected_status));
    LATHE_RETURN_IF_ERROR(AppendHistoryLocked(db, arn, commit.history));
    LATHE_RETURN_IF_ERROR(UpsertFramesLocked(db, arn, commit.upsert_frames));
    if (!commit.delete_frames.empty()) {
      Stmt s(db, "DELETE FROM sfn_frames WHERE execution_arn = ? AND id = ?");
      for (int64_t id : commit.delete_frames) {
        s.Text(1, arn).Int(2, id);
        LATHE_RETURN_IF_ERROR(s.Run("delete frame"));
        s.Reset();
      }
    }
    for (const OutboxEvent& e : commit.events) LATHE_RETURN_IF_ERROR(db_->PublishLocked(e));
    return Status::Ok();
  });
}

Result<ExecutionRecord> ExecutionStore::Get(const std::string& execution_arn) {
  std::vector<RawExecution> raw;
  {
    std::lock_guard<std::mutex> lock(db_->mu_);
    Stmt s(*db_->sql_, std::string("SELECT ") + kExecutionColumns + " FROM sfn_executions WHERE arn = ?");
    s.Text(1, execution_arn);
    LATHE_RETURN_IF_ERROR(CollectExecutions(s, &raw, "get execution"));
  }
  if (raw.empty()) return Status::NotFound("no execution " + execution_arn);
  return std::move(FinishExecutions(std::move(raw))[0]);
}

Result<ExecutionRecord> ExecutionStore::FindByName(const std::string& state_machine_arn, const std::string& name) {
  std::vector<RawExecution> raw;
  {
    std::lock_guard<std::mutex> lock(db_->mu_);
    Stmt s(*db_->sql_,
           std::string("SELECT ") + kExecutionColumns + " FROM sfn_executions WHERE state_machine_arn = ? AND name = ?");
    s.Text(1, state_machine_arn).Text(2, name);
    LATHE_RETURN_IF_ERROR(CollectExecutions(s, &raw, "find execution"));
  }
  if (raw.empty()) return Status::NotFound("no execution " + name + " of " + state_machine_arn);
  return std::move(FinishExecutions(std::move(raw))[0]);
}

Result<std::vector<ExecutionRecord>> ExecutionStore::List(const ExecutionFilter& filter) {
  if (filter.limit == 0) return std::vector<ExecutionRecord>{};
  std::vector<RawExecution> raw;
  std::lock_guard<std::mutex> lock(db_->mu_);
  SqlDb& db = *db_->sql_;
  std::string sql = std::string("SELECT ") + kExecutionColumns + " FROM sfn_executions WHERE TRUE";
  if (!filter.state_machine_arn.empty()) sql += " AND state_machine_arn = ?1";
  if (!filter.status.empty()) sql += " AND status = ?2";
  if (!filter.parent_arn.empty()) sql += " AND parent_arn = ?3";
  if (!filter.after.empty()) {
    int64_t after_start = 0;
    {
      Stmt q(db, "SELECT start_ms FROM sfn_executions WHERE arn = ?");
      q.Text(1, filter.after);
      const SqlQuery::Outcome rc = q.Step();
      // The page's last execution was deleted since: nothing sorts after a name we no longer have.
      if (rc == SqlQuery::kDone) return std::vector<ExecutionRecord>{};
      if (rc != SqlQuery::kRow) return q.Error("list executions");
      after_start = q.ColInt(0);
    }
    sql += " AND (start_ms, arn) < (?4, ?5)";
    sql += " ORDER BY start_ms DESC, arn DESC LIMIT ?6";
    Stmt s(db, sql);
    if (!filter.state_machine_arn.empty()) s.Text(1, filter.state_machine_arn);
    if (!filter.status.empty()) s.Text(2, filter.status);
    if (!filter.parent_arn.empty()) s.Text(3, filter.parent_arn);
    s.Int(4, after_start).Text(5, filter.after).Int(6, SqlLimit(filter.limit));
    LATHE_RETURN_IF_ERROR(CollectExecutions(s, &raw, "list executions"));
  } else {
    sql += " ORDER BY start_ms DESC, arn DESC LIMIT ?6";
    Stmt s(db, sql);
    if (!filter.state_machine_arn.empty()) s.Text(1, filter.state_machine_arn);
    if (!filter.status.empty()) s.Text(2, filter.status);
    if (!filter.parent_arn.empty()) s.Text(3, filter.parent_arn);
    s.Int(6, SqlLimit(filter.limit));
    LATHE_RETURN_IF_ERROR(CollectExecutions(s, &raw, "list executions"));
  }
  return FinishExecutions(std::move(raw));
}

Result<std::vector<std::string>> ExecutionStore::Running(size_t limit) {
  std::lock_guard<std::mutex> lock(db_->mu_);
  Stmt s(*db_->sql_, "SELECT arn FROM sfn_executions WHERE status = 'RUNNING' ORDER BY start_ms, arn LIMIT ?");
  s.Int(1, SqlLimit(limit));
  std::vector<std::string> out;
  LATHE_RETURN_IF_ERROR(ForEachRow(s, "running executions", [&out](const Stmt& row) { out.push_back(row.ColText(0)); }));
  return out;
}

Result<std::vector<HistoryRecord>> ExecutionStore::History(const std::string& execution_arn, int64_t after_id,
                                                           size_t limit) {
  std::lock_guard<std::mutex> lock(db_->mu_);
  Stmt s(*db_->sql_,
         "SELECT id, previous_id, type, timestamp_ms, details FROM sfn_history WHERE execution_arn = ? AND id > ? "
         "ORDER BY id LIMIT ?");
  s.Text(1, execution_arn).Int(2, after_id).Int(3, SqlLimit(limit));
  return CollectHistory(s);
}

Result<std::vector<HistoryRecord>> ExecutionStore::HistoryReverse(const std::string& execution_arn, int64_t before_id,
                                                                  size_t limit) {
  std::lock_guard<std::mutex> lock(db_->mu_);
  Stmt s(*db_->sql_,
         "SELECT id, previous_id, type, timestamp_ms, details FROM sfn_history WHERE execution_arn = ?1 "
         "AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
  s.Text(1, execution_arn).Int(2, before_id).Int(3, SqlLimit(limit));
  return CollectHistory(s);
}

Result<int64_t> ExecutionStore::LastEventId(const std::string& execution_arn) {
  std::lock_guard<std::mutex> lock(db_->mu_);
  return LastEventIdLocked(*db_->sql_, execution_arn);
}

Result<std::vector<FrameRecord>> ExecutionStore::Frames(const std::string& execution_arn) {
  std::vector<RawFrame> raw;
  {
    std::lock_guard<std::mutex> lock(db_->mu_);
    Stmt s(*db_->sql_, std::string("SELECT ") + kFrameColumns + " FROM sfn_frames WHERE execution_arn = ? ORDER BY id");
    s.Text(1, execution_arn);
    LATHE_RETURN_IF_ERROR(
        ForEachRow(s, "execution frames", [&raw](const Stmt& row) { raw.push_back(ReadFrame(row, 0)); }));
  }
  std::vector<FrameRecord> out;
  out.reserve(raw.size());
  for (auto& x : raw) out.push_back(FinishFrame(std::move(x)));
  return out;
}

Result<FrameRecord> ExecutionStore::Frame(const std::string& execution_arn, int64_t frame_id) {
  RawFrame raw;
  {
    std::lock_guard<std::mutex> lock(db_->mu_);
    Stmt s(*db_->sql_, std::string("SELECT ") + kFrameColumns + " FROM sfn_frames WHERE execution_arn = ? AND id = ?");
    s.Text(1, execution_arn).Int(2, frame_id);
    const SqlQuery::Outcome rc = s.Step();
    if (rc == SqlQuery::kDone) return Status::NotFound("no frame " + std::to_string(frame_id) + " in " + execution_arn);
    if (rc != SqlQuery::kRow) return s.Error("execution frame");
    raw = ReadFrame(s, 0);
  }
  return FinishFrame(std::move(raw));
}

Result<ExecutionStore::TokenOwner> ExecutionStore::FindTaskToken(const std::string& token) {
  if (token.empty()) return Status::NotFound("no task token given");
  std::string arn;
  RawFrame raw;
  {
    std::lock_guard<std::mutex> lock(db_->mu_);
    Stmt s(*db_->sql_, std::string("SELECT execution_arn, ") + kFrameColumns + " FROM sfn_frames WHERE task_token = ?");
    s.Text(1, token);
    const SqlQuery::Outcome rc = s.Step();
    if (rc == SqlQuery::kDone) return Status::NotFound("no task waits on this token");
    if (rc != SqlQuery::kRow) return s.Error("task token");
    arn = s.ColText(0);
    raw = ReadFrame(s, 1);
  }
  return TokenOwner{std::move(arn), FinishFrame(std::move(raw))};
}

Status ExecutionStore::Delete(const std::string& execution_arn) {
  std::lock_guard<std::mutex> lock(db_->mu_);
  SqlDb& db = *db_->sql_;
  return InSqlTransaction(db, [&]() -> Status {
    int64_t deleted = 0;  // by the last statement: the execution's row
    for (const char* sql : {"DELETE FROM sfn_history WHERE execution_arn = ?", "DELETE FROM sfn_frames WHERE execution_arn = ?",
                            "DELETE FROM sfn_executions WHERE arn = ?"}) {
      Stmt s(db, sql);
      s.Text(1, execution_arn);
      LATHE_RETURN_IF_ERROR(s.Run("delete execution"));
      deleted = s.changes();
    }
    return deleted == 1 ? Status::Ok() : Status::NotFound("no execution " + execution_arn);
  });
}

}  // namespace lathe::store
