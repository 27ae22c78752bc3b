// A child process that runs long work (training) outside the server: its crash or OOM kill cannot
// take the API down, it runs at a lower CPU priority, and it dies with the server (so a restarted
// server can resume the job without two trainers on one folder).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::service {

class WorkerProcess {
 public:
  // argv[0] is the executable. stdout and stderr go to log_path (appended).
  static Result<WorkerProcess> Start(const std::vector<std::string>& argv, const std::string& log_path, int nice);

  pid_t pid() const { return pid_; }
  // True once the process has ended; then exit_code() (or signal()) says how.
  bool Poll();
  int exit_code() const { return exit_code_; }  // -1 when killed by a signal
  int signal() const { return signal_; }
  void Signal(int sig) const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1, signal_ = 0;
  bool done_ = false;
};

// The last line of a log that starts with `prefix` (e.g. "lathe: error: "), without the prefix.
std::string LastLogLine(const std::string& log_path, const std::string& prefix);

}  // namespace lathe::service
