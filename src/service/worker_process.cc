#include "service/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace lathe::service {

Result<WorkerProcess> WorkerProcess::Start(const std::vector<std::string>& argv, const std::string& log_path,
                                           int nice) {
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return Status::IOError("cannot open " + log_path + ": " + std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return Status::IOError(std::string("cannot start the worker: ") + std::strerror(errno));
  }
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the server died between fork and prctl
    ::setpgid(0, 0);                          // Ctrl-C at the server's terminal is the server's alone
    ::setpriority(PRIO_PROCESS, 0, nice);
    // The server blocks SIGINT/SIGTERM (a thread of its own takes them) and httplib ignores
    // SIGPIPE; both would be inherited through exec, and a worker that never sees SIGINT can only
    // be killed, losing the metrics of its last steps.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log);
  WorkerProcess w;
  w.pid_ = pid;
  return w;
}

bool WorkerProcess::Poll() {
  if (done_) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return false;
  done_ = true;
  if (r < 0) return true;  // not our child any more: treat as ended
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) signal_ = WTERMSIG(status);
  return true;
}

void WorkerProcess::Signal(int sig) const {
  if (!done_ && pid_ > 0) ::kill(pid_, sig);
}

std::string LastLogLine(const std::string& log_path, const std::string& prefix) {
  std::ifstream in(log_path);
  std::string line, last;
  while (std::getline(in, line)) {
    // Progress bars rewrite their line with '\r': only the text after the last one counts.
    if (size_t cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);
    if (line.rfind(prefix, 0) == 0) last = line.substr(prefix.size());
  }
  return last;
}

}  // namespace lathe::service
