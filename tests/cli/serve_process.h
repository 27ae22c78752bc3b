// `lathe serve` (build/lathe) as a child process of a test, on a free port of 127.0.0.1.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>

namespace lathe::testing {

struct ServeOptions {
  std::string data_dir;  // --data-dir; the log (its stderr) goes to data_dir + "-serve.log"
  std::string config;    // --config
  // The server's keys (LATHE_ACCESS_KEY_ID / LATHE_SECRET_ACCESS_KEY); both empty: --no-auth.
  std::string access_key_id = "", secret_access_key = "";
  // > 0: no file of the server or its workers may grow past it (RLIMIT_FSIZE, its signal
  // ignored): writes fail as on a full disk, without needing one.
  rlim_t max_file_bytes = 0;
};

// Started by the constructor, which waits for the first line; stopped with SIGTERM (and waited
// for) by the destructor. url() is empty when it did not start: the log says why.
class ServeProcess {
 public:
  explicit ServeProcess(const ServeOptions& options);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  const std::string& url() const { return url_; }
  // What the running server has mapped (/proc/PID/maps): which libraries it has loaded.
  std::string Maps() const;

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string url_;
};

}  // namespace lathe::testing
