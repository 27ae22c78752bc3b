// What `lathe serve` and `lathe worker` read the same way: the data directory, the config file
// (docs/serve.md) and --store, into the services' config.
#pragma once

#include <string>

#include "core/status.h"
#include "service/service_config.h"

namespace lathe::cli {

// Defaults (the data dir: `data_dir`, else $LATHE_HOME or ~/.local/share/lathe; fileRoots: its
// files/ folder and the current folder; this executable trains), then the config file's keys
// (when `config_path` is not ""), then `store` (a postgresql:// URL; "" keeps the config's).
Result<service::ServiceConfig> LoadNodeConfig(const std::string& data_dir, const std::string& config_path,
                                              const std::string& store);

// "127.0.0.1:8080", ":8080", "8080" -> host (unchanged when not given), port.
bool ParseListen(const std::string& s, std::string* host, int* port);

// The running executable, which job workers run as.
std::string SelfExe();

}  // namespace lathe::cli
