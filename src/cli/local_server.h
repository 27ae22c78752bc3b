// A `lathe serve` started as a child process on a free loopback port, for `lathe demo` (and
// tests): the demo talks to it over HTTP exactly as a user's boto3 code would.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::cli {

class LocalServer {
 public:
  // Runs `<this lathe> serve --listen 127.0.0.1:0 <extra_args>` with its log in log_path, and
  // waits for the line that gives its address.
  static Result<LocalServer> Start(const std::vector<std::string>& extra_args, const std::string& log_path);
  LocalServer(LocalServer&& o) noexcept : pid_(o.pid_), stdout_fd_(o.stdout_fd_), url_(std::move(o.url_)) {
    o.pid_ = -1;
    o.stdout_fd_ = -1;
  }
  LocalServer& operator=(LocalServer&&) = delete;
  ~LocalServer();  // SIGTERM, then waits for it to exit

  const std::string& url() const { return url_; }  // "http://127.0.0.1:PORT"

 private:
  LocalServer() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // kept open: the server must not die of SIGPIPE when it prints more
  std::string url_;
};

}  // namespace lathe::cli
