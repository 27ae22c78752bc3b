#include "services/lambda/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/arn.h"
#include "core/env.h"
#include "core/json_nesting.h"
#include "services/lambda/code_package.h"
#include "services/lambda/errors.h"

namespace lathe::lambda {
namespace {

// services/lambda/bootstrap.py, embedded by CMake (src/services/CMakeLists.txt).
constexpr const char kBootstrapPy[] =
#include "services/lambda/bootstrap_py.inc"
    ;

using Clock = std::chrono::steady_clock;

// Closes every descriptor from `first` up: close_range, or where it fails (a kernel before 5.9, a
// seccomp filter that refuses it) each descriptor below the limit on open files in turn, so that
// no descriptor of the server's (a socket, the database) reaches a function. Async-signal-safe.
void CloseFrom(unsigned first) {
  if (::close_range(first, ~0u, 0) == 0) return;
  struct rlimit files{};
  rlim_t last = 1u << 20;  // the kernel's default nr_open, when the limit is unlimited or unknown
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY && files.rlim_cur < last)
    last = files.rlim_cur;
  for (rlim_t fd = first; fd < last; ++fd) ::close(static_cast<int>(fd));
}

// The function's side: only async-signal-safe calls between fork and exec.
[[noreturn]] void RunFunction(pid_t keeper, int stdin_fd, int stdout_fd, int stderr_fd, int result_fd,
                              const char* cwd, uint64_t memory_bytes, char* const* argv, char* const* envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != keeper) ::_exit(127);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  // Sources are >= 3 (0-2 are open in the server), so these copies cannot clobber one another.
  ::dup2(stdin_fd, 0);
  ::dup2(stdout_fd, 1);
  ::dup2(stderr_fd, 2);
  if (result_fd >= 0) {
    if (result_fd == 3) ::fcntl(3, F_SETFD, 0);
    else ::dup2(result_fd, 3);
  }
  CloseFrom(result_fd >= 0 ? 4 : 3);
  if (::chdir(cwd) != 0) ::_exit(126);
  struct rlimit as{memory_bytes, memory_bytes};
  ::setrlimit(RLIMIT_AS, &as);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

void KillOwnGroup(int) { ::kill(0, SIGKILL); }

// The keeper, a child subreaper, after the function ended: what the function left running has
// become the keeper's child (orphans come to it), those that left the group with setsid() or
// setpgid() too, where the group's SIGKILL does not reach them. Each child listed in
// /proc/<pid>/task/<pid>/children is killed and reaped until none is left (its own children come
// to the keeper as it dies). Async-signal-safe: no allocation, no stdio.
void KillDescendants() {
  char path[64] = "/proc/self/task/";
  size_t len = 16;
  char digits[16];
  size_t n = 0;
  for (pid_t p = ::getpid(); p > 0 && n < sizeof digits; p /= 10) digits[n++] = static_cast<char>('0' + p % 10);
  while (n > 0) path[len++] = digits[--n];
  for (const char* tail = "/children"; *tail; ++tail) path[len++] = *tail;
  path[len] = '\0';
  for (int round = 0; round < 100000; ++round) {
    bool killed = false;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[4096];
      pid_t pid = 0;
      ssize_t got;
      while ((got = ::read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; ++i) {
          if (buf[i] >= '0' && buf[i] <= '9') {
            pid = pid * 10 + (buf[i] - '0');
          } else if (pid > 0) {
            ::kill(pid, SIGKILL);
            killed = true;
            pid = 0;
          }
        }
      }
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
      ::close(fd);
    }
    int status;
    const pid_t reaped = ::waitpid(-1, &status, killed ? 0 : WNOHANG);
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped <= 0) return;  // no child left (ECHILD), or none listed and none ended
  }
}

// The server's child: the leader of a new process group, which starts the function in it and
// waits for it, ending as the function ended (so the server's wait4 sees the function's status
// and, the function being waited for, its rusage). It exists for the server's death: SIGKILL
// gives the server no chance to kill the group, and PR_SET_PDEATHSIG reaches only one process,
// so the kernel tells this one (SIGTERM) and it kills the whole group - nothing the function
// started outlives lathe. A timeout still kills the group from the server.
[[noreturn]] void RunChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd, int result_fd,
                           const char* cwd, uint64_t memory_bytes, char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  struct sigaction on_term{};
  on_term.sa_handler = KillOwnGroup;
  sigemptyset(&on_term.sa_mask);
  ::sigaction(SIGTERM, &on_term, nullptr);
  ::signal(SIGCHLD, SIG_DFL);  // so that waitpid below sees the function end
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // what the function leaves behind comes to this process
  if (::getppid() != parent) ::kill(0, SIGKILL);  // the server died before prctl
  const pid_t keeper = ::getpid();
  const pid_t fn = ::fork();
  if (fn < 0) ::_exit(127);
  if (fn == 0) RunFunction(keeper, stdin_fd, stdout_fd, stderr_fd, result_fd, cwd, memory_bytes, argv, envp);
  CloseFrom(0);  // the server's descriptors and the function's pipes are not this one's to hold
  int status = 0;
  while (::waitpid(fn, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(127);
  }
  KillDescendants();
  if (WIFSIGNALED(status)) {
    struct rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(WTERMSIG(status), SIG_DFL);
    ::kill(keeper, WTERMSIG(status));
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}

std::string ErrorJson(const std::string& type, const std::string& message) {
  return nlohmann::json{{"errorMessage", message}, {"errorType", type}}.dump();
}

// An invocation's log: the file (bounded) and the tail kept in memory.
class InvocationLog {
 public:
  InvocationLog(const std::string& path, size_t max_bytes) : max_(max_bytes) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  ~InvocationLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Add(std::string_view s) {
    tail_.append(s);
    if (tail_.size() > 2 * kLogTailBytes) tail_.erase(0, tail_.size() - kLogTailBytes);
    if (fd_ < 0) return;
    if (written_ + s.size() > max_) {
      if (!cut_) {
        std::string note = "\n[lathe: the rest of this log was cut at " + std::to_string(max_) + " bytes]\n";
        (void)!::write(fd_, s.data(), max_ - written_);
        (void)!::write(fd_, note.data(), note.size());
        cut_ = true;
      }
      written_ = max_;
      return;
    }
    (void)!::write(fd_, s.data(), s.size());
    written_ += s.size();
  }
  std::string Tail() const {
    return tail_.size() > kLogTailBytes ? tail_.substr(tail_.size() - kLogTailBytes) : tail_;
  }

 private:
  int fd_ = -1;
  size_t max_, written_ = 0;
  bool cut_ = false;
  std::string tail_;
};

struct Pipe {
  int r = -1, w = -1;
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

Status MakePipe(Pipe* p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ServiceError(std::string("cannot make a pipe: ") + std::strerror(errno));
  p->r = fds[0];
  p->w = fds[1];
  ::fcntl(p->r, F_SETFL, O_NONBLOCK);
  return Status::Ok();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string Timestamp() {
  std::string t = Iso8601(NowMillis());  // 2026-11-28T09:15:02.123Z
  std::string out;
  for (char c : t.substr(0, 19))
    if (c != '-' && c != ':') out.push_back(c);
  return out;  // 20261128T091502
}

}  // namespace

bool FunctionRuntime::Supported(const std::string& runtime) {
  return IsPython(runtime) || runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023";
}

Status MakePrivateDir(const std::string& path) {
  // Logs hold what functions print (secrets among it), code what users uploaded: the server's
  // user alone reads them, whatever the umask.
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(path));
  if (::chmod(path.c_str(), 0700) != 0) return ServiceError("cannot make " + path + " private: " + std::strerror(errno));
  return Status::Ok();
}

Status FunctionRuntime::Prepare() {
  LATHE_RETURN_IF_ERROR(MakePrivateDir(options_.root));
  LATHE_RETURN_IF_ERROR(MakePrivateDir(options_.root + "/runtime"));
  LATHE_RETURN_IF_ERROR(MakePrivateDir(options_.root + "/logs"));
  return WriteFileAtomically(Env::Default(), options_.root + "/runtime/bootstrap.py", kBootstrapPy);
}

void FunctionRuntime::KillAll() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  for (pid_t pgid : running_) ::kill(-pgid, SIGKILL);
}

void FunctionRuntime::SetBaseVariable(const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.base_environment[name] = value;
}

std::string FunctionRuntime::PythonPath() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!python_resolved_.empty()) return python_resolved_;
  std::string found;
  if (options_.python.find('/') != std::string::npos) {
    found = options_.python;
  } else if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t colon = p.find(':', start);
      if (colon == std::string::npos) colon = p.size();
      std::string candidate = p.substr(start, colon - start) + "/" + options_.python;
      if (colon > start && IsExecutableFile(candidate)) {
        found = candidate;
        break;
      }
      start = colon + 1;
    }
  }
  // A launcher (pyenv's shim, a wrapper script) would run, and cost its start-up, on every
  // invocation, and may depend on variables functions do not get: ask it for the interpreter once.
  if (!found.empty()) {
    std::string quoted = "'";
    for (char c : found) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    if (FILE* p = ::popen((quoted + " -c 'import sys; print(sys.executable)' 2>/dev/null").c_str(), "r")) {
      char buf[4096];
      std::string real;
      if (std::fgets(buf, sizeof buf, p)) real = buf;
      ::pclose(p);
      while (!real.empty() && (real.back() == '\n' || real.back() == '\r')) real.pop_back();
      if (!real.empty() && real[0] == '/' && IsExecutableFile(real)) found = real;
    }
  }
  python_resolved_ = found;
  return found;
}

void FunctionRuntime::PruneLogs(const std::string& dir) {
  std::vector<std::string> names;
  if (!Env::Default()->GetChildren(dir, &names).ok() || names.size() <= options_.max_logs_per_function) return;
  std::sort(names.begin(), names.end());  // names start with the invocation's time
  for (size_t i = 0; i + options_.max_logs_per_function < names.size(); ++i) ::unlink((dir + "/" + names[i]).c_str());
}

Result<InvocationOutcome> FunctionRuntime::Invoke(const FunctionSpec& fn, const std::string& payload,
                                                  const std::string& request_id) {
  InvocationOutcome out;
  const bool python = IsPython(fn.runtime);
  std::vector<std::string> argv;
  if (python) {
    std::string py = PythonPath();
    if (py.empty())
      return InvalidRuntime("The runtime parameter of " + fn.runtime + " needs python3, which lathe cannot find on PATH");
    argv = {py, "-u", options_.root + "/runtime/bootstrap.py"};
  } else {
    std::string exe;
    if (!fn.handler.empty() && CheckEntryName(fn.handler, ZipLimits{}).ok() &&
        IsExecutableFile(fn.task_dir + "/" + fn.handler))
      exe = fn.task_dir + "/" + fn.handler;
    else if (IsExecutableFile(fn.task_dir + "/bootstrap"))
      exe = fn.task_dir + "/bootstrap";
    if (exe.empty()) {
      out.function_error = true;
      out.error_type = "Runtime.InvalidEntrypoint";
      out.payload = ErrorJson(out.error_type, "RequestId: " + request_id +
                                                  " Error: Couldn't find valid bootstrap(s): [" + fn.task_dir +
                                                  "/bootstrap]");
      return out;
    }
    argv = {exe};
  }

  // The environment: the server's base, the function's variables, then Lambda's reserved ones.
  const int64_t deadline_ms = NowMillis() + int64_t{fn.timeout_seconds} * 1000;
  std::map<std::string, std::string> env;
  {
    std::lock_guard<std::mutex> lock(mu_);
    env = options_.base_environment;
  }
  if (const char* path = std::getenv("PATH")) env["PATH"] = path;
  env["LANG"] = "en_US.UTF-8";
  env["TZ"] = ":UTC";
  env["MALLOC_ARENA_MAX"] = "2";  // glibc's per-thread arenas would eat RLIMIT_AS in address space alone
  for (const auto& [k, v] : fn.environment) env[k] = v;
  const std::string log_stream = Iso8601(NowMillis()).substr(0, 10) + "/[" + fn.version + "]" + request_id;
  env["_HANDLER"] = fn.handler;
  env["AWS_REGION"] = fn.region;
  env["AWS_DEFAULT_REGION"] = fn.region;
  env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.runtime;
  env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name;
  env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(fn.memory_mb);
  env["AWS_LAMBDA_FUNCTION_VERSION"] = fn.version;
  env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand";
  env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name;
  env["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream;
  env["LAMBDA_TASK_ROOT"] = fn.task_dir;
  env["LAMBDA_RUNTIME_DIR"] = options_.root + "/runtime";
  env["_LATHE_DEADLINE_MS"] = std::to_string(deadline_ms);
  env["_LATHE_REQUEST_ID"] = request_id;
  env["_LATHE_INVOKED_FUNCTION_ARN"] = fn.arn;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv_c, envp_c;
  for (auto& a : argv) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  for (auto& e : env_strings) envp_c.push_back(e.data());
  envp_c.push_back(nullptr);

  // The event as a memory file: the child reads it at its own pace, the server never blocks on it.
  int event_fd = ::memfd_create("lambda-event", MFD_CLOEXEC);
  if (event_fd < 0) return ServiceError(std::string("cannot hold the event: ") + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } event_closer{event_fd};
  for (size_t off = 0; off < payload.size();) {
    ssize_t w = ::write(event_fd, payload.data() + off, payload.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return ServiceError(std::string("cannot hold the event: ") + std::strerror(errno));
    off += static_cast<size_t>(w);
  }
  ::lseek(event_fd, 0, SEEK_SET);

  const std::string log_dir = LogDir(fn.uid);
  LATHE_RETURN_IF_ERROR(MakePrivateDir(log_dir));
  PruneLogs(log_dir);
  out.log_path = log_dir + "/" + Timestamp() + "-" + request_id + ".log";
  InvocationLog log(out.log_path, options_.max_log_bytes);
  log.Add("START RequestId: " + request_id + " Version: " + fn.version + "\n");

  Pipe logs, result;
  LATHE_RETURN_IF_ERROR(MakePipe(&logs));
  LATHE_RETURN_IF_ERROR(MakePipe(&result));
  const uint64_t memory_bytes = uint64_t(fn.memory_mb) << 20;
  const auto started = Clock::now();
  const pid_t parent = ::getpid();
  std::unique_lock<std::mutex> running_lock(mu_);  // so KillAll sees every child it must kill
  if (stopping_) return ServiceError("lathe is stopping: the function was not run");
  pid_t pid = ::fork();
  if (pid < 0) return ServiceError(std::string("cannot start the function: ") + std::strerror(errno));
  if (pid == 0) {
    if (python)
      RunChild(parent, event_fd, logs.w, logs.w, result.w, fn.task_dir.c_str(), memory_bytes, argv_c.data(),
               envp_c.data());
    RunChild(parent, event_fd, result.w, logs.w, -1, fn.task_dir.c_str(), memory_bytes, argv_c.data(), envp_c.data());
  }
  ::setpgid(pid, pid);
  running_.insert(pid);
  running_lock.unlock();
  // The keeper's end, to wait for without spinning (Linux 5.3; -1 before: a sleep loop instead).
  // It is this process's unwaited child, so the pid cannot have been reused.
  struct PidFd {
    int fd;
    ~PidFd() {
      if (fd >= 0) ::close(fd);
    }
  } keeper_fd{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};
  ::close(logs.w);
  logs.w = -1;
  ::close(result.w);
  result.w = -1;

  const auto deadline = started + std::chrono::seconds(fn.timeout_seconds);
  std::string answer;
  bool answer_too_big = false, timed_out = false, exited = false;
  int wait_status = 0;
  struct rusage usage{};
  std::vector<char> buf(64 << 10);
  bool logs_open = true, result_open = true;
  while (logs_open || result_open) {
    const auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    if (!exited && ::wait4(pid, &wait_status, WNOHANG, &usage) == pid) {
      exited = true;
      ::kill(-pid, SIGKILL);  // what the function left running would hold the pipes open
    }
    pollfd fds[2];
    int n = 0;
    if (logs_open) fds[n++] = {logs.r, POLLIN, 0};
    if (result_open) fds[n++] = {result.r, POLLIN, 0};
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int rc = ::poll(fds, n, static_cast<int>(std::min<int64_t>(wait_ms + 1, 100)));
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      const bool is_logs = fds[i].fd == logs.r;
      if (got <= 0) {
        (is_logs ? logs_open : result_open) = false;
        continue;
      }
      if (is_logs) {
        log.Add(std::string_view(buf.data(), static_cast<size_t>(got)));
      } else if (answer.size() + static_cast<size_t>(got) <= kMaxResponsePayloadBytes + 1) {
        answer.append(buf.data(), static_cast<size_t>(got));
      } else {
        answer_too_big = true;  // keep draining, so the function is not stuck writing
      }
    }
  }
  // The pipes close as the function ends; its keeper ends right after, with the function's
  // status and rusage, so it is waited for (up to the deadline) before the group is killed.
  while (!exited && !timed_out) {
    const pid_t r = ::wait4(pid, &wait_status, WNOHANG, &usage);
    if (r == pid || (r < 0 && errno != EINTR)) {
      exited = r == pid;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    if (keeper_fd.fd >= 0) {
      pollfd ended{keeper_fd.fd, POLLIN, 0};
      (void)::poll(&ended, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    } else {
      ::usleep(static_cast<useconds_t>(std::min<int64_t>(left_ms, 50)) * 1000);
    }
  }
  ::kill(-pid, SIGKILL);
  if (!exited) ::wait4(pid, &wait_status, 0, &usage);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(pid);
    if (stopping_ && !timed_out) return ServiceError("lathe stopped while the function ran");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  if (timed_out) {
    const std::string what = "Task timed out after " + FormatSeconds(fn.timeout_seconds) + " seconds";
    log.Add("\n" + Iso8601(NowMillis()) + " " + request_id + " " + what + "\n");
    out.function_error = true;
    out.error_type = "Sandbox.Timedout";
    out.payload = ErrorJson(out.error_type, "RequestId: " + request_id + " Error: " + what);
  } else if (answer_too_big || answer.size() > kMaxResponsePayloadBytes + (python ? 1 : 0)) {
    out.function_error = true;
    out.error_type = "Function.ResponseSizeTooLarge";
    out.payload = ErrorJson(out.error_type, "Response payload size exceeded maximum allowed payload size (" +
                                                std::to_string(kMaxResponsePayloadBytes) + " bytes).");
  } else if (python && !answer.empty() && (answer[0] == 'R' || answer[0] == 'E')) {
    out.payload = answer.substr(1);
    if (answer[0] == 'E') {
      out.function_error = true;
      // Measured before it is parsed: the function wrote it, and '[' x 3M would overflow the stack.
      if (!JsonNestingWithin(out.payload, kMaxRequestJsonDepth)) {
        out.error_type = "Runtime.MarshalError";
        out.payload = ErrorJson(out.error_type, "Unable to marshal response: the error object nests deeper than " +
                                                    std::to_string(kMaxRequestJsonDepth) + " levels");
      } else {
        nlohmann::json e = nlohmann::json::parse(out.payload, nullptr, false);
        out.error_type = e.is_object() ? e.value("errorType", "Unhandled") : "Unhandled";
      }
    }
  } else if (!python && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
    out.payload = answer;
  } else {
    std::string how = WIFEXITED(wait_status) ? "exit status " + std::to_string(WEXITSTATUS(wait_status))
                      : WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL
                          ? std::string("signal: killed")
                          : "signal: " + std::string(strsignal(WTERMSIG(wait_status)));
    // The memory limit: an allocation refused under RLIMIT_AS ends a runtime that cannot recover.
    const bool near_limit = uint64_t(usage.ru_maxrss) * 1024 >= memory_bytes * 9 / 10;
    out.function_error = true;
    out.error_type = near_limit ? "Runtime.OutOfMemory" : "Runtime.ExitError";
    out.payload = ErrorJson(out.error_type, "RequestId: " + request_id + " Error: Runtime exited with error: " + how);
    log.Add("RequestId: " + request_id + " Error: Runtime exited with error: " + how + "\n" + out.error_type + "\n");
  }
  char report[256];
  std::snprintf(report, sizeof report, "\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %d MB\tMax Memory Used: %ld MB\t\n",
                seconds * 1000, static_cast<long long>(seconds * 1000) + 1, fn.memory_mb, usage.ru_maxrss / 1024);
  log.Add("END RequestId: " + request_id + "\nREPORT RequestId: " + request_id + report);
  out.log_tail = log.Tail();
  return out;
}

}  // namespace lathe::lambda
