// Lambda functions run by `lathe worker`s (docs/scale-out.md, "Functions on workers"): an API node
// configured with "runJobsOn": "workers" runs no user code. Each invocation of a function's code
// — Invoke, a Step Functions Task state, an EventBridge target, a queued Event invocation — becomes
// a work item of the shared store ("lambda-invocation", store/work_leases.h) that a worker claims;
// the worker runs the function as the API node would (runtime.h) and leaves the outcome as a
// "lambda-result" row that the waiting API node reads and removes.
//
// The code travels through the artifact bucket: the API node uploads a function's zip once per
// code id as lambda-code/<code id>.zip (before the first invocation it hands out since it
// started, so functions created before the switch to workers work too); a worker downloads it,
// checks it against the function's CodeSha256 and unpacks it under its DATA_DIR/lambda/worker-code
// (at most kMaxWorkerCodeFolders kept, least recently used removed first).
//
// lathe's built-in functions stay on the API node: they start and watch jobs, which themselves
// run on workers. A worker that dies mid-invocation loses its lease and another runs the
// invocation again (at least once, as AWS's retries of asynchronous invocations).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "service/job_object_store.h"
#include "service/service_config.h"
#include "services/lambda/code_package.h"
#include "services/lambda/runtime.h"
#include "store/metadata_store.h"
#include "store/work_leases.h"

namespace lathe::lambda {

inline constexpr char kInvocationWorkKind[] = "lambda-invocation";
inline constexpr char kInvocationResultKind[] = "lambda-result";
// Bounds (docs/scale-out.md, Limits).
inline constexpr int64_t kMaxClaimWaitMs = 300000;      // queued and unclaimed this long: ServiceException
inline constexpr size_t kMaxWorkerCodeFolders = 32;     // a worker's unpacked functions
inline constexpr size_t kMaxWorkerInvocationSlots = 8;  // invocations one worker runs at once

// A function's code as the API node holds it.
struct HeldCode {
  std::string id, zip_path, sha256_b64;
};

// Where the code of a function runs when not in the API node's own process: LambdaOptions'
// `placement` (null: here).
class InvocationPlacement {
 public:
  virtual ~InvocationPlacement() = default;
  // Runs `fn` (its task_dir ignored) with `code` on `payload` somewhere else and waits for the
  // outcome. Errors are Lambda's (ServiceException when no worker took it, ...).
  virtual Result<InvocationOutcome> Invoke(const FunctionSpec& fn, const HeldCode& code, const std::string& payload,
                                           const std::string& request_id) = 0;
  // Makes `code` reachable where Invoke runs it (each code id once per process; a node that
  // lacks the zip assumes the node that had it shared it).
  virtual Status Share(const HeldCode& code) = 0;
  // The code is no function's any more (replaced, deleted, a failed create) and nothing runs it:
  // its shared copy goes (best effort).
  virtual void Forget(const std::string& code_id) = 0;
  // Waiting invocations end with a ServiceException (the server is stopping); Resume undoes it.
  virtual void Stop() = 0;
  virtual void Resume() = 0;
};

struct QueuedInvocationOptions {
  std::string account, bucket;  // the artifact bucket and who owns it
  int64_t claim_wait_ms = kMaxClaimWaitMs;
  int64_t lease_ms = 60000;     // the workers' leaseSeconds: how long a dead worker's item waits
  int64_t poll_ms = 200;        // how often the waiting API node reads the store
};

// The API node's side.
class QueuedInvocations : public InvocationPlacement {
 public:
  // `store` and `objects` outlive this.
  QueuedInvocations(store::MetadataStore* store, service::JobObjectStore* objects, QueuedInvocationOptions options);
  Result<InvocationOutcome> Invoke(const FunctionSpec& fn, const HeldCode& code, const std::string& payload,
                                   const std::string& request_id) override;
  Status Share(const HeldCode& code) override;
  void Forget(const std::string& code_id) override;
  void Stop() override;
  void Resume() override;
  // Removes results nobody came back for (their API node stopped while waiting), older than an hour.
  void SweepResults();

 private:
  store::MetadataStore* store_;
  service::JobObjectStore* objects_;
  store::WorkLeases leases_;
  QueuedInvocationOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<std::string> published_;  // code ids uploaded since this node started
};

// The object key of a code id's zip in the artifact bucket.
std::string CodeObjectKey(const std::string& code_id);

// A worker's side: `slots` threads claim invocations and run them with `runtime`.
class InvocationWorker {
 public:
  // `code_root`: where unpacked code is kept (DATA_DIR/lambda/worker-code; emptied at Start).
  InvocationWorker(store::MetadataStore* store, service::JobObjectStore* objects, FunctionRuntime* runtime,
                   std::string code_root, const service::ServiceConfig& config, ZipLimits limits = {});
  ~InvocationWorker();  // Stop
  Status Start(size_t slots);
  // Stops claiming, kills running invocations (their items go back to the queue) and joins.
  void Stop();
  // Claims and runs one invocation if one is queued (tests drive the worker with this).
  Result<bool> RunOne();

 private:
  void Loop();
  void Run(const store::Lease& lease);
  // Outcome of the item's invocation: the runtime's, or an error (code missing, unusable item).
  Result<InvocationOutcome> Execute(const nlohmann::json& doc, const std::string& request_id);
  // Unpacks the code (downloading it) unless kept, and marks it in use; Done releases it.
  Result<std::string> Acquire(const std::string& code_id, const std::string& sha256_b64);
  void Done(const std::string& code_id);

  store::MetadataStore* store_;
  service::JobObjectStore* objects_;
  FunctionRuntime* runtime_;
  const std::string code_root_;
  CodeStore code_;
  const service::ServiceConfig& config_;
  store::WorkLeases leases_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool shutting_down_ = false;
  std::vector<std::thread> threads_;
  std::mutex code_mu_;  // serialises installs; guards the two below
  std::map<std::string, int> in_use_;
  std::list<std::string> recent_;  // kept code ids, most recently used first
};

}  // namespace lathe::lambda
