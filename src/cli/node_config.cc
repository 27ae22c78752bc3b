#include "cli/node_config.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "cli/store_choice.h"
#include "engine/default_model.h"

namespace lathe::cli {

bool ParseListen(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  std::string p = colon == std::string::npos ? s : s.substr(colon + 1);
  if (colon != std::string::npos && colon > 0) *host = s.substr(0, colon);
  char* end = nullptr;
  long n = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end || n < 0 || n > 65535) return false;
  *port = static_cast<int>(n);
  return true;
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "lathe";
}

Result<service::ServiceConfig> LoadNodeConfig(const std::string& data_dir, const std::string& config_path,
                                              const std::string& store) {
  service::ServiceConfig config;
  config.data_dir = data_dir.empty() ? engine::DefaultDataDir() : data_dir;
  config.model_aliases = service::DefaultModelAliases();
  config.worker_binary = SelfExe();
  // Where jobs' file:// data may be: the data dir's drop folder and where the operator started
  // the node; "fileRoots" in the config replaces both (docs/serve.md).
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  config.file_roots = {(std::filesystem::absolute(config.data_dir, ec) / "files").string()};
  if (!cwd.empty()) config.file_roots.push_back(cwd.string());
  if (!config_path.empty()) {
    auto loaded = service::LoadServiceConfig(config_path, config);
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  LATHE_RETURN_IF_ERROR(CheckStoreFlag(store));
  if (!store.empty()) config.store_url = store;
  return config;
}

}  // namespace lathe::cli
