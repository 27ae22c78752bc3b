// Lambda's semantics without a wire format: functions of an account and region, persisted in
// the metadata store so they survive a restart, their code unpacked on disk (code_package.h),
// run in child processes (runtime.h), with lathe's built-ins beside them (builtins.h):
//   "lambda-function"    one row per function (id = name = ARN), its configuration in the
//                        document; a built-in whose configuration was updated has a row too
//                        (doc "builtin": true, no code)
//   "lambda-invocation"  one row per queued Event invocation, run by a worker thread and removed
//                        when done; after a crash the worker runs what is left (at least once,
//                        as AWS's asynchronous invocations are)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/status.h"
#include "services/lambda/builtins.h"
#include "services/lambda/code_package.h"
#include "services/lambda/runtime.h"
#include "services/lambda/worker_invocations.h"
#include "store/metadata_store.h"

namespace lathe::lambda {

inline constexpr char kFunctionKind[] = "lambda-function";
inline constexpr char kInvocationKind[] = "lambda-invocation";

// Bounds (docs/serve.md, Limits).
inline constexpr size_t kMaxFunctionsPerRegion = 1000;
inline constexpr size_t kMaxEnvironmentBytes = 4096;  // AWS: 4 KB of variables
inline constexpr size_t kMaxQueuedEvents = 10000;
inline constexpr int kMaxTimeoutSeconds = 900;
inline constexpr int kMinMemoryMb = 128, kMaxMemoryMb = 10240;
// A CreateFunction or UpdateFunctionCode body: a 50 MB zip, base64-encoded, in JSON.
inline constexpr size_t kMaxCodeRequestBytes = 69905067;  // AWS's own figure

// Who asks: functions live in the caller's account and region.
struct Scope {
  std::string account, region;
};

struct InvokeInput {
  std::string function_name;                        // name, partial ARN or ARN (":qualifier" allowed)
  std::string qualifier;                            // the Qualifier parameter
  std::string invocation_type = "RequestResponse";  // Event, DryRun
  std::string log_type;                             // "Tail": the log's last 4 KB in log_result
  std::string payload;                              // JSON text ("" = {})
};

struct InvokeOutput {
  int status_code = 200;        // 200, 202 (Event), 204 (DryRun)
  std::string payload;
  std::string function_error;   // "Unhandled" when the function failed
  std::string error_type;       // the error object's errorType then
  std::string log_result;       // base64 of the log's tail (LogType Tail)
  std::string executed_version = "$LATEST";
  std::string request_id;       // the invocation's (its log's START line names it)
};

struct LambdaOptions {
  std::string root;  // DATA_DIR/lambda
  ZipLimits zip;
  size_t max_concurrent_invocations = 8;  // beyond: TooManyRequestsException, as AWS throttles
  RuntimeOptions runtime;                 // root filled in from `root` when empty
  // false: queued Event invocations wait for StartEventWorker (the server: until functions have
  // their endpoint and credentials) or RunQueuedEvents (tests).
  bool run_event_worker = true;
  // Where functions' code runs: null = here, in child processes; else on lathe workers
  // (worker_invocations.h). Built-ins always run here. Outlives the backend.
  InvocationPlacement* placement = nullptr;
};

class LambdaBackend {
 public:
  // `store` and `builtins` (may be null: no built-ins) outlive the backend.
  LambdaBackend(store::MetadataStore* store, BuiltinFunctions* builtins, LambdaOptions options);
  ~LambdaBackend();  // stops the Event worker

  // Writes the runtime's bootstrap, removes code folders no function refers to, and starts the
  // worker that runs queued Event invocations when options.run_event_worker.
  Status Start();
  // Starts that worker (again after Stop; nothing when it runs). An event left queued by the last
  // run starts at once, so the runtime's base environment (AWS_ENDPOINT_URL, the keys) must be set
  // first: without it boto3 in the function would find the host's own AWS configuration.
  void StartEventWorker();
  // Stops the worker and kills running invocations (an Event invocation cut short stays queued).
  void Stop();

  // The operations, with AWS's request and response members (FunctionConfiguration, ...).
  Result<nlohmann::json> CreateFunction(const Scope& scope, const nlohmann::json& request);
  Result<nlohmann::json> GetFunction(const Scope& scope, const std::string& function_name, const std::string& qualifier);
  Result<nlohmann::json> GetFunctionConfiguration(const Scope& scope, const std::string& function_name,
                                                  const std::string& qualifier);
  // Sorted by name; `marker` from a previous page's NextMarker, `max_items` 1..10000 (50).
  Result<nlohmann::json> ListFunctions(const Scope& scope, const std::string& marker, const std::string& max_items);
  Result<nlohmann::json> UpdateFunctionCode(const Scope& scope, const std::string& function_name,
                                            const nlohmann::json& request);
  Result<nlohmann::json> UpdateFunctionConfiguration(const Scope& scope, const std::string& function_name,
                                                     const nlohmann::json& request);
  Status DeleteFunction(const Scope& scope, const std::string& function_name, const std::string& qualifier);
  Result<InvokeOutput> Invoke(const Scope& scope, const InvokeInput& input);

  FunctionRuntime& runtime() { return runtime_; }
  // Runs queued Event invocations now (the worker does this; tests call it directly).
  size_t RunQueuedEvents(size_t limit);

 private:
  struct Resolved {
    bool builtin = false;  // no user function: a built-in (doc from its row or its defaults)
    bool has_row = false;
    store::ResourceRow row;
    nlohmann::json doc;
  };
  Result<Resolved> Resolve(const Scope& scope, const std::string& function_name, const std::string& qualifier);
  Result<nlohmann::json> ApplyConfiguration(const nlohmann::json& request, nlohmann::json doc, bool creating);
  nlohmann::json Configuration(const Scope& scope, const nlohmann::json& doc) const;
  nlohmann::json BuiltinDoc(const Scope& scope, const BuiltinInfo& info) const;
  Result<InvokeOutput> Run(const Scope& scope, const nlohmann::json& doc, const std::string& payload,
                           const std::string& request_id, bool tail);
  // Run with the function's code already held (code_in_use_) by the caller; releases it.
  Result<InvokeOutput> RunHeld(const Scope& scope, const nlohmann::json& doc, const std::string& payload,
                               const std::string& request_id, bool tail);
  Status CheckRevision(const std::optional<std::string>& revision, const nlohmann::json& current);
  void Retire(const std::string& code_id);
  // Removes a code folder nothing uses any more, and its copy for the workers.
  void DropCode(const std::string& code_id);
  // New code handed to the workers at once (placement set), so that any API node can run it.
  void ShareCode(const CodeStore::Stored& code);
  // An Event invocation queued (event_queue.cc).
  Result<InvokeOutput> Enqueue(const Scope& scope, const nlohmann::json& doc, const std::string& payload);
  Status CheckFunctionCount(const Scope& scope);
  void WorkerLoop();

  store::MetadataStore* store_;
  BuiltinFunctions* builtins_;
  int64_t started_ms_;  // built-ins' LastModified until their configuration is updated
  LambdaOptions options_;
  CodeStore code_;
  FunctionRuntime runtime_;

  std::mutex mu_;  // read-modify-write of function rows; the fields below
  std::map<std::string, int> code_in_use_;  // code id -> invocations running on it
  std::set<std::string> code_retired_;      // replaced or deleted: removed once unused
  size_t running_ = 0;

  std::mutex worker_mu_;
  std::condition_variable worker_wake_;
  bool worker_stop_ = false, worker_poke_ = false;
  std::thread worker_;
};

}  // namespace lathe::lambda
