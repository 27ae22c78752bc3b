// `lathe doctor`'s checks (doctor_cmd.cc prints them): each looks at one part of the machine or
// the data directory and says what it found and, when something is wrong, what to do. None
// changes anything: the database is opened read-only and never migrated, the port is bound and
// released, nothing is downloaded (the clock is compared with a URL only when one is given).
#pragma once

#include <string>
#include <vector>

namespace lathe::cli {

struct Finding {
  enum class Level { kOk, kInfo, kWarning, kError };
  Level level = Level::kOk;
  std::string area;  // "cpu", "blas", "threads", "disk", "port", "permissions", "store", "model", "clock", ...
  std::string what;  // what was found
  std::string fix;   // what to do; "" when nothing
};

struct DoctorOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";  // lathe serve's --listen
  std::string config;                     // lathe serve's --config, "" = none
  std::string store;                      // lathe serve's --store, "" = the config's or DATA_DIR/lathe.db
  std::string clock_url;                  // compare the clock with this URL's Date header; "" = not checked
};

std::vector<Finding> CheckCpuAndThreads();
std::vector<Finding> CheckBlas();
std::vector<Finding> CheckDataDirectory(const DoctorOptions& o);  // exists, writable, free disk, permissions
std::vector<Finding> CheckPort(const DoctorOptions& o);
// Schema and layout versions; lathe.db's integrity (a shared store's schema version only).
std::vector<Finding> CheckStore(const DoctorOptions& o);
std::vector<Finding> CheckModels(const DoctorOptions& o);         // the default model, the config's models
std::vector<Finding> CheckClock(const DoctorOptions& o);

const char* LevelName(Finding::Level level);

}  // namespace lathe::cli
