// A child process that runs long work (training) outside the server: its crash or OOM kill cannot
// take the API down, it runs at a lower CPU priority, and it dies with the server (so a restarted
// server can resume the job without two trainers on one folder).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::service {

class WorkerProcess {
 public:
  // argv[0] is the executable. Its stdout and stderr come to the server through a pipe, which
  // Poll() drains into log_path (appended) and into a tail kept in memory: on a full disk the
  // log cannot be written, and the worker's last words (why it failed) must still be heard.
  static Result<WorkerProcess> Start(const std::vector<std::string>& argv, const std::string& log_path, int nice);
  WorkerProcess(WorkerProcess&& other) noexcept;
  WorkerProcess& operator=(WorkerProcess&& other) noexcept;
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  ~WorkerProcess();

  pid_t pid() const { return pid_; }
  // Drains the worker's output; true once the process has ended and all of its output is in.
  // Then exit_code() (or signal()) says how.
  bool Poll();
  int exit_code() const { return exit_code_; }  // -1 when killed by a signal
  int signal() const { return signal_; }
  void Signal(int sig) const;
  // The last line of the worker's output that starts with `prefix` (e.g. "lathe: error: "),
  // without the prefix; "" when none.
  std::string LastLine(const std::string& prefix) const;
  // What the worker used, once Poll() says it ended: its wall time from Start, and the CPU time
  // (user + system) of it and every descendant it waited for, from wait4's rusage. What `lathe
  // costs` reports as lathe's compute (docs/costs.md).
  struct Usage {
    int64_t wall_ms = 0, cpu_ms = 0;
  };
  const Usage& usage() const { return usage_; }
  // Why the log could not be written ("" when it could).
  const std::string& log_error() const { return log_error_; }

  // The worker's output kept in memory: its last bytes.
  static constexpr size_t kTailBytes = 64 << 10;
  const std::string& output_tail() const { return tail_; }

 private:
  WorkerProcess() = default;
  void Drain();  // reads what the pipe holds now; at EOF closes it

  pid_t pid_ = -1;
  int output_fd_ = -1, log_fd_ = -1;
  std::string log_path_, log_error_, tail_;
  int exit_code_ = -1, signal_ = 0;
  bool done_ = false;
  int64_t started_ms_ = 0;  // steady clock
  Usage usage_;
};

}  // namespace lathe::service
