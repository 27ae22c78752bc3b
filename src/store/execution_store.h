// Step Functions' durable state: state machines' executions, their history events and the frames
// an execution is running (the top level, each Parallel branch, each Map iteration), as SQLite
// tables in lathe.db. Each transition of an execution is one Commit: its history events, its
// frames and its status change (and any outbox event, e.g. "Step Functions Execution Status
// Change") in one transaction, so a crash leaves every execution at a transition it recorded.
// Thread-safe (the MetadataStore's lock).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::store {

struct ExecutionRecord {
  std::string arn;  // arn:aws:states:<region>:<account>:execution:<machine>:<name>
  std::string state_machine_arn;
  std::string name;
  std::string status;  // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
  int64_t start_ms = 0, stop_ms = 0;  // stop_ms 0 while RUNNING
  std::string parent_arn;  // the execution whose states:startExecution started this one, or ""
  // The service's document: input, output, error, cause, the definition it runs (an
  // UpdateStateMachine does not change running executions), role, trace header, ... .
  nlohmann::json doc = nlohmann::json::object();
};

struct HistoryRecord {
  int64_t id = 0;           // 1, 2, ... within the execution, as GetExecutionHistory numbers them
  int64_t previous_id = 0;  // the event this one follows (0 for the first)
  std::string type;         // "ExecutionStarted", "TaskStateEntered", ...
  int64_t timestamp_ms = 0;
  nlohmann::json details = nlohmann::json::object();  // the "<type>EventDetails" member's value
};

// What an execution is doing at one place of its definition. The executor owns the document;
// the columns are what it looks up by.
struct FrameRecord {
  int64_t id = 0;         // unique within the execution; 1 = the top level
  int64_t parent_id = 0;  // the frame whose Parallel or Map state spawned it, 0 for the top
  std::string status;     // the executor's: "ENTER", "RUN", "WAITING", "TASK", "TOKEN", "DONE", ...
  int64_t wake_at_ms = 0;  // WAITING: when to go on (Wait states, retry intervals, polls)
  std::string task_token;  // waitForTaskToken: the token SendTask* name; "" otherwise
  nlohmann::json doc = nlohmann::json::object();
};

struct ExecutionCommit {
  std::string execution_arn;
  std::optional<ExecutionRecord> insert;  // a new execution (its name unique per state machine)
  std::optional<ExecutionRecord> update;  // status, stop_ms and doc of an existing one
  std::string expected_status;            // with update: only while the status is this ("" = any)
  std::vector<HistoryRecord> history;     // appended; ids must continue the execution's
  std::vector<FrameRecord> upsert_frames;
  std::vector<int64_t> delete_frames;
  std::vector<OutboxEvent> events;        // published in the same transaction
};

struct ExecutionFilter {
  std::string state_machine_arn;  // "" = any
  std::string status;             // "" = any
  std::string parent_arn;         // "" = any
  // Paging: newest first (start_ms, then arn, descending); `after` is the last arn of the page
  // before ("" = from the newest).
  std::string after;
  size_t limit = 100;
};

class ExecutionStore {
 public:
  // Creates the tables in `db`'s database if needed.
  static Result<std::unique_ptr<ExecutionStore>> Open(MetadataStore* db);

  // All of it or nothing. AlreadyExists for an insert whose (state machine, name) exists;
  // Conflict when expected_status does not hold; NotFound for an update of a missing execution.
  Status Commit(const ExecutionCommit& commit);

  Result<ExecutionRecord> Get(const std::string& execution_arn);
  // The execution of that name under a state machine (StartExecution's idempotency), or NotFound.
  Result<ExecutionRecord> FindByName(const std::string& state_machine_arn, const std::string& name);
  Result<std::vector<ExecutionRecord>> List(const ExecutionFilter& filter);
  // Executions still RUNNING (the executor resumes them at start-up), oldest first; at most `limit`.
  Result<std::vector<std::string>> Running(size_t limit = SIZE_MAX);

  // History events with id > after_id (reverse: id < before_id, newest first; before_id 0 =
  // from the last), at most `limit`.
  Result<std::vector<HistoryRecord>> History(const std::string& execution_arn, int64_t after_id, size_t limit);
  Result<std::vector<HistoryRecord>> HistoryReverse(const std::string& execution_arn, int64_t before_id, size_t limit);
  // The id of the execution's last history event (0 when it has none).
  Result<int64_t> LastEventId(const std::string& execution_arn);

  Result<std::vector<FrameRecord>> Frames(const std::string& execution_arn);
  Result<FrameRecord> Frame(const std::string& execution_arn, int64_t frame_id);
  // Which execution and frame wait on a task token (SendTaskSuccess ...), or NotFound.
  struct TokenOwner {
    std::string execution_arn;
    FrameRecord frame;
  };
  Result<TokenOwner> FindTaskToken(const std::string& token);

  // Removes an ended execution with its history and frames (retention; DeleteStateMachine).
  Status Delete(const std::string& execution_arn);

 private:
  explicit ExecutionStore(MetadataStore* db) : db_(db) {}
  MetadataStore* db_;
};

}  // namespace lathe::store
