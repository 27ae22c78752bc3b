#include "serve_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "test_util.h"

namespace lathe::testing {

ServeProcess::ServeProcess(const ServeOptions& options) {
  const bool no_auth = options.access_key_id.empty() && options.secret_access_key.empty();
  // The default model is built at its first use: these tests must not spend minutes building it.
  std::vector<std::string> args = {LATHE_BINARY, "serve", "--listen", "127.0.0.1:0", "--default-build", "first-use"};
  if (no_auth) args.push_back("--no-auth");
  args.insert(args.end(), {"--data-dir", options.data_dir, "--config", options.config});
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log_path = options.data_dir + "-serve.log";

  int out[2];
  if (::pipe(out) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    if (options.max_file_bytes > 0) {
      const rlimit limit{options.max_file_bytes, options.max_file_bytes};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      ::signal(SIGXFSZ, SIG_IGN);
    }
    ::dup2(out[1], STDOUT_FILENO);
    if (std::FILE* log = std::fopen(log_path.c_str(), "w")) ::dup2(fileno(log), STDERR_FILENO);
    ::close(out[0]);
    if (!no_auth) {
      ::setenv("LATHE_ACCESS_KEY_ID", options.access_key_id.c_str(), 1);
      ::setenv("LATHE_SECRET_ACCESS_KEY", options.secret_access_key.c_str(), 1);
    }
    ::execv(LATHE_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // "lathe serve: http://127.0.0.1:PORT  (data: ...)": the URL is the third word. The pipe
  // stays open until the server is gone, so that a later print cannot kill it with SIGPIPE.
  stdout_ = out[0];
  std::string line;
  char c;
  while (::read(stdout_, &c, 1) == 1 && c != '\n') line += c;
  const std::string prefix = "lathe serve: ";
  if (line.rfind(prefix, 0) == 0) url_ = line.substr(prefix.size(), line.find(' ', prefix.size()) - prefix.size());
}

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  ::close(stdout_);
}

std::string ServeProcess::Maps() const { return ReadFile("/proc/" + std::to_string(pid_) + "/maps"); }

}  // namespace lathe::testing
