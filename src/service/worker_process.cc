#include "service/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace lathe::service {
namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t Millis(const timeval& t) { return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_usec / 1000; }

}  // namespace

Result<WorkerProcess> WorkerProcess::Start(const std::vector<std::string>& argv, const std::string& log_path,
                                           int nice) {
  WorkerProcess w;
  w.log_path_ = log_path;
  w.started_ms_ = SteadyMillis();
  w.log_fd_ = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (w.log_fd_ < 0) return Status::IOError("cannot open " + log_path + ": " + std::strerror(errno));
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::IOError(std::string("cannot start the worker: ") + std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status::IOError(std::string("cannot start the worker: ") + std::strerror(errno));
  }
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the server died between fork and prctl
    ::setpgid(0, 0);                          // Ctrl-C at the server's terminal is the server's alone
    ::setpriority(PRIO_PROCESS, 0, nice);
    // The server blocks SIGINT/SIGTERM (a thread of its own takes them), and whatever it embeds
    // may ignore SIGPIPE; both would be inherited through exec, and a worker that never sees
    // SIGINT can only be killed, losing the metrics of its last steps.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(out[1], 1);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(out[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  w.output_fd_ = out[0];
  w.pid_ = pid;
  return w;
}

WorkerProcess::WorkerProcess(WorkerProcess&& other) noexcept { *this = std::move(other); }

WorkerProcess& WorkerProcess::operator=(WorkerProcess&& other) noexcept {
  if (this == &other) return *this;
  if (output_fd_ >= 0) ::close(output_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
  pid_ = std::exchange(other.pid_, -1);
  output_fd_ = std::exchange(other.output_fd_, -1);
  log_fd_ = std::exchange(other.log_fd_, -1);
  log_path_ = std::move(other.log_path_);
  log_error_ = std::move(other.log_error_);
  tail_ = std::move(other.tail_);
  exit_code_ = other.exit_code_;
  signal_ = other.signal_;
  done_ = other.done_;
  started_ms_ = other.started_ms_;
  usage_ = other.usage_;
  return *this;
}

WorkerProcess::~WorkerProcess() {
  if (output_fd_ >= 0) ::close(output_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void WorkerProcess::Drain() {
  char buf[1 << 14];
  while (output_fd_ >= 0) {
    ssize_t n = ::read(output_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {  // EOF: the worker (and anything it started) closed its end
      ::close(output_fd_);
      output_fd_ = -1;
      return;
    }
    tail_.append(buf, static_cast<size_t>(n));
    if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
    // The log is a convenience: once a write fails (full disk), it stops, and the tail is all.
    for (size_t done = 0; log_error_.empty() && done < static_cast<size_t>(n);) {
      ssize_t w = ::write(log_fd_, buf + done, static_cast<size_t>(n) - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) log_error_ = "cannot write " + log_path_ + ": " + std::strerror(errno);
      else done += static_cast<size_t>(w);
    }
  }
}

bool WorkerProcess::Poll() {
  if (done_) return true;
  Drain();
  int status = 0;
  struct rusage ru {};
  pid_t r = ::wait4(pid_, &status, WNOHANG, &ru);
  if (r == 0) return false;
  done_ = true;
  usage_.wall_ms = SteadyMillis() - started_ms_;
  if (r > 0) usage_.cpu_ms = Millis(ru.ru_utime) + Millis(ru.ru_stime);
  if (r > 0 && WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (r > 0 && WIFSIGNALED(status)) signal_ = WTERMSIG(status);
  // What it wrote just before it ended is in the pipe already (nothing else writes to it).
  Drain();
  return true;
}

void WorkerProcess::Signal(int sig) const {
  if (!done_ && pid_ > 0) ::kill(pid_, sig);
}

std::string WorkerProcess::LastLine(const std::string& prefix) const {
  std::string last;
  for (size_t p = 0; p < tail_.size();) {
    size_t q = tail_.find('\n', p);
    if (q == std::string::npos) q = tail_.size();
    std::string_view line(tail_.data() + p, q - p);
    // Progress bars rewrite their line with '\r': only the text after the last one counts.
    if (size_t cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
    if (line.substr(0, prefix.size()) == prefix) last = line.substr(prefix.size());
    p = q + 1;
  }
  return last;
}

}  // namespace lathe::service
