#include "cli/local_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lathe::cli {

Result<LocalServer> LocalServer::Start(const std::vector<std::string>& extra_args, const std::string& log_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) return Status::IOError("cannot open " + log_path + ": " + std::strerror(errno));
  std::vector<std::string> argv = {"/proc/self/exe", "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the demo
    ::dup2(out[1], 1);
    ::dup2(log, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log);
  if (pid < 0) {
    ::close(out[0]);
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  LocalServer s;
  s.pid_ = pid;
  // The first line: "lathe serve: http://127.0.0.1:PORT  (data: ...)". The rest of stdout (keys)
  // is not needed: clients read the credentials file.
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  s.stdout_fd_ = out[0];
  const size_t at = line.find("http://");
  if (at == std::string::npos)
    return Status::IOError("lathe serve did not start (see " + log_path + ")");
  s.url_ = line.substr(at, line.find(' ', at) - at);
  return s;
}

LocalServer::~LocalServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

}  // namespace lathe::cli
