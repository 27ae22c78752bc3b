// Runs one invocation of a function in a child process, as Lambda's sandbox would:
//   python3.x  the local python3 runs bootstrap.py (embedded in lathe, written to
//              DATA_DIR/lambda/runtime/ at start-up), which imports the handler's module from the
//              code folder, passes the event (stdin) and a context object, and answers on fd 3;
//   provided*  the executable the handler names in the code folder, else its `bootstrap`: the
//              event on stdin, the result on stdout (stderr is the log).
// The child runs in the code folder, in a process group of its own (a timeout SIGKILLs the whole
// group), with RLIMIT_AS = the function's memory, the function's environment variables plus
// Lambda's own (AWS_LAMBDA_FUNCTION_NAME, ...). The group dies with the server, SIGKILL included:
// its leader is a small keeper process that starts the function and, told of the server's death
// by PR_SET_PDEATHSIG, kills the group.
// Every invocation's log is kept, bounded, under DATA_DIR/lambda/logs/<function uid>/.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/status.h"

namespace lathe::lambda {

// AWS's payload bounds.
inline constexpr size_t kMaxSyncPayloadBytes = 6291456;       // request and response: 6 MB
inline constexpr size_t kMaxResponsePayloadBytes = 6291556;   // as AWS's error message states it
inline constexpr size_t kMaxAsyncPayloadBytes = 262144;       // Event invocations: 256 KB

// What runs: a function's configuration as the runtime needs it.
struct FunctionSpec {
  std::string name, arn, uid;  // uid: the function's own folder name under logs/
  std::string runtime;         // "python3.12", "provided.al2023", ...
  std::string handler;
  std::string version = "$LATEST";
  std::string task_dir;        // the unpacked code
  int timeout_seconds = 3;
  int memory_mb = 128;
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::string region;
};

struct InvocationOutcome {
  std::string payload;           // the result, or the error object (JSON)
  bool function_error = false;   // X-Amz-Function-Error: Unhandled
  std::string error_type;        // the error object's errorType when function_error
  std::string log_tail;          // the log's last 4 KB (X-Amz-Log-Result, base64'd by the caller)
  std::string log_path;          // the whole (bounded) log
};

struct RuntimeOptions {
  std::string root;                 // DATA_DIR/lambda: runtime/ and logs/ live here
  std::string python = "python3";   // resolved on PATH at first use
  size_t max_log_bytes = 1 << 20;   // per invocation; past it the log says it was cut
  size_t max_logs_per_function = 100;  // older invocation logs are removed
  // Variables every function sees beneath its own (AWS_ENDPOINT_URL, credentials, region).
  std::map<std::string, std::string> base_environment;
};

inline constexpr size_t kLogTailBytes = 4096;

// Creates `path` (and its parents) and makes it 0700: Lambda's folders hold code, logs and what
// functions print, for the server's user alone.
Status MakePrivateDir(const std::string& path);

class FunctionRuntime {
 public:
  explicit FunctionRuntime(RuntimeOptions options) : options_(std::move(options)) {}
  // Writes bootstrap.py under root/runtime (atomically).
  Status Prepare();
  // Sets variables every function sees (the server's URL is known only once it listens).
  void SetBaseVariable(const std::string& name, const std::string& value);

  // Runs the function on `payload` (JSON text) and waits for it (at most its timeout). A runtime
  // that cannot start (no python3, no executable) is an InvalidRuntimeException/ServiceException;
  // everything the function itself does wrong is a function error in the outcome.
  Result<InvocationOutcome> Invoke(const FunctionSpec& fn, const std::string& payload, const std::string& request_id);

  // Kills every running invocation (their callers get a ServiceException) and refuses new ones:
  // the server is stopping, and a function must not hold it for up to its 900 s timeout.
  void KillAll();
  void Resume() { stopping_ = false; }
  bool stopping() const { return stopping_.load(); }

  // Whether lathe can run `runtime` ("python3.*", "provided", "provided.al2", "provided.al2023").
  static bool Supported(const std::string& runtime);
  static bool IsPython(const std::string& runtime) { return runtime.rfind("python3.", 0) == 0; }
  std::string LogDir(const std::string& uid) const { return options_.root + "/logs/" + uid; }

 private:
  std::string PythonPath();
  void PruneLogs(const std::string& dir);
  RuntimeOptions options_;
  std::mutex mu_;
  std::string python_resolved_;
  std::set<pid_t> running_;  // process groups of running invocations
  std::atomic<bool> stopping_{false};
};

}  // namespace lathe::lambda
