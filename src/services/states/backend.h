// Step Functions' semantics without a wire format: state machines (MetadataStore rows of kind
// "states-machine", their definition and revisions in the document), executions (the
// ExecutionStore, run by the Executor), history paging, task callbacks, TestState and tags, per
// account and region. StartExecution, EventBridge's StatesTargetDeliverer and the
// states:startExecution integration all start executions here, so the name rules, the input
// checks and the idempotency are the same whoever starts one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "asl/definition.h"
#include "core/status.h"
#include "services/events/clock.h"
#include "services/states/executor.h"
#include "store/execution_store.h"
#include "store/metadata_store.h"

namespace lathe::states {

inline constexpr const char* kMachineKind = "states-machine";
inline constexpr size_t kMaxStateMachinesPerAccount = 10000;  // AWS's quota
inline constexpr size_t kMaxTagsPerResource = 50;
inline constexpr size_t kMaxPageSize = 1000;        // maxResults, as the model allows
inline constexpr size_t kDefaultPageSize = 100;     // maxResults 0 or absent
inline constexpr size_t kMaxTraceHeaderBytes = 256;
inline constexpr size_t kMaxTaskTokenBytes = 2048;
inline constexpr size_t kMaxErrorBytes = 256;
inline constexpr size_t kMaxCauseBytes = 32768;

// Whose resources: the caller's account and the region the request was signed for.
struct Scope {
  std::string account;
  std::string region;
};

struct Tag {
  std::string key, value;
};

struct StateMachineInfo {
  std::string arn, name, definition, role_arn;
  std::string type = "STANDARD";
  std::string status = "ACTIVE";  // ACTIVE | DELETING
  std::string description;
  std::string revision_id;
  int64_t created_ms = 0, updated_ms = 0;
  nlohmann::json logging = nlohmann::json::object();  // loggingConfiguration, as given (kept, unused)
  nlohmann::json tracing = nlohmann::json::object();  // tracingConfiguration, likewise
};

struct CreateStateMachineInput {
  std::string name, definition, role_arn;
  std::string type;  // "" = STANDARD
  nlohmann::json logging = nlohmann::json::object(), tracing = nlohmann::json::object();
  std::vector<Tag> tags;
};

struct UpdateStateMachineInput {
  std::string arn;
  std::optional<std::string> definition, role_arn;
  std::optional<nlohmann::json> logging, tracing;
};

struct ValidateResult {
  std::string result;  // OK | FAIL
  std::vector<asl::Diagnostic> diagnostics;
  bool truncated = false;
};

struct StartExecutionInput {
  std::string state_machine_arn;
  std::string name;             // "" = a generated one
  std::optional<std::string> input;  // absent = "{}"
  std::string trace_header;
  std::string parent_arn;  // states:startExecution's caller
};

struct StartExecutionResult {
  std::string execution_arn;
  int64_t start_ms = 0;
};

struct PageRequest {
  std::string next_token;
  size_t limit = kDefaultPageSize;  // 1..kMaxPageSize
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;  // "" on the last page
};

struct HistoryRequest {
  PageRequest page;
  bool reverse = false;
  bool include_data = true;
};

class StatesBackend {
 public:
  // All outlive the backend. `executor` may be null (tests of the state machines alone):
  // operations on executions then answer an internal error.
  StatesBackend(store::MetadataStore* db, store::ExecutionStore* executions, Executor* executor, events::Clock* clock)
      : db_(db), executions_(executions), executor_(executor), clock_(clock) {}

  // State machines.
  Result<StateMachineInfo> CreateStateMachine(const Scope& scope, const CreateStateMachineInput& input);
  // `severity` filters the diagnostics ("ERROR" = errors only, "WARNING" = both; "" = ERROR).
  Result<ValidateResult> ValidateStateMachineDefinition(const std::string& definition, const std::string& type,
                                                        const std::string& severity, size_t max_results);
  Result<StateMachineInfo> DescribeStateMachine(const Scope& scope, const std::string& arn);
  Result<Page<StateMachineInfo>> ListStateMachines(const Scope& scope, const PageRequest& page);
  Result<StateMachineInfo> UpdateStateMachine(const Scope& scope, const UpdateStateMachineInput& input);
  // Marks it DELETING, stops its running executions, then removes it. A machine that does not
  // exist is no error (as AWS).
  Status DeleteStateMachine(const Scope& scope, const std::string& arn);
  bool StateMachineExists(const std::string& arn);

  // Executions.
  Result<StartExecutionResult> StartExecution(const Scope& scope, const StartExecutionInput& input);
  Result<store::ExecutionRecord> DescribeExecution(const Scope& scope, const std::string& arn);
  Result<Page<store::ExecutionRecord>> ListExecutions(const Scope& scope, const std::string& machine_arn,
                                                      const std::string& status_filter, const PageRequest& page);
  Result<int64_t> StopExecution(const Scope& scope, const std::string& arn, const std::string& error,
                                const std::string& cause);  // the stop time
  Result<Page<store::HistoryRecord>> GetExecutionHistory(const Scope& scope, const std::string& arn,
                                                         const HistoryRequest& request);
  // The state machine as the execution runs it (its definition at the execution's start).
  Result<StateMachineInfo> DescribeStateMachineForExecution(const Scope& scope, const std::string& arn);

  // TestState: `definition` is one state (or a whole machine with `state_name`).
  Result<Executor::TestResult> TestState(const Scope& scope, const std::string& definition, const std::string& input,
                                         const std::string& state_name);

  // Task callbacks.
  Status SendTaskSuccess(const std::string& token, const std::string& output);
  Status SendTaskFailure(const std::string& token, const std::string& error, const std::string& cause);
  Status SendTaskHeartbeat(const std::string& token);

  // Tags of state machines.
  Status TagResource(const Scope& scope, const std::string& arn, const std::vector<Tag>& tags);
  Status UntagResource(const Scope& scope, const std::string& arn, const std::vector<std::string>& keys);
  Result<std::vector<Tag>> ListTagsForResource(const Scope& scope, const std::string& arn);

 private:
  Result<store::ResourceRow> ReadMachine(const Scope& scope, const std::string& arn);
  Result<store::ExecutionRecord> ReadExecution(const Scope& scope, const std::string& arn);
  // The parsed definition of a machine's current revision, parsed once.
  Result<std::shared_ptr<const asl::StateMachine>> Parsed(const std::string& definition);
  Status NeedExecutor() const;

  store::MetadataStore* db_;
  store::ExecutionStore* executions_;
  Executor* executor_;
  events::Clock* clock_;
  std::mutex mu_;  // read-modify-write of state machines is one step
  std::mutex cache_mu_;
  std::map<std::string, std::shared_ptr<const asl::StateMachine>> parsed_;  // definition hash -> tree
};

// The machine's wire form as DescribeStateMachine answers it (also used for executions).
StateMachineInfo MachineFromRow(const store::ResourceRow& row);

}  // namespace lathe::states
