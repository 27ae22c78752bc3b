#include "cli/store_choice.h"

#include "core/env.h"
#include "engine/default_model.h"
#include "store/sql_db.h"

namespace lathe::cli {

std::string ChosenStore::shown() const { return shared ? store::RedactUrl(location) : location; }

Status CheckStoreFlag(const std::string& store) {
  // The config's bounds (service_config.cc): the URL is echoed in messages, so no terminal
  // control sequences and no megabytes.
  constexpr size_t kMaxStoreUrl = 2048;
  if (store.size() > kMaxStoreUrl) return Status::InvalidArgument("--store: a URL of at most 2048 characters");
  if (!store.empty() && !store::IsPostgresUrl(store))
    return Status::InvalidArgument("--store: expected a postgresql:// URL");
  for (unsigned char ch : store)
    if (ch < 0x20 || ch == 0x7f) return Status::InvalidArgument("--store: control characters are not allowed");
  return Status::Ok();
}

Result<ChosenStore> ChooseStore(const StoreFlags& flags, const service::ServiceConfig* loaded) {
  ChosenStore chosen;
  chosen.data_dir = flags.data_dir.empty() ? engine::DefaultDataDir() : flags.data_dir;
  LATHE_RETURN_IF_ERROR(CheckStoreFlag(flags.store));
  std::string url = flags.store;
  if (url.empty() && loaded) url = loaded->store_url;
  if (url.empty() && !loaded && !flags.config.empty()) {
    auto config = service::LoadServiceConfig(flags.config, service::ServiceConfig{});
    if (!config.ok()) return config.status();
    url = config->store_url;
  }
  chosen.shared = !url.empty();
  chosen.location = chosen.shared ? url : chosen.data_dir + "/lathe.db";
  return chosen;
}

Result<std::unique_ptr<store::MetadataStore>> OpenChosenStore(const StoreFlags& flags,
                                                              const service::ServiceConfig* loaded,
                                                              ChosenStore* chosen) {
  auto where = ChooseStore(flags, loaded);
  if (!where.ok()) return where.status();
  if (chosen) *chosen = *where;
  if (!where->shared && !Env::Default()->FileExists(where->location))
    return Status::NotFound("no lathe.db in " + where->data_dir +
                            " (is --data-dir right? `lathe serve` creates it; a shared store is named with --store "
                            "postgresql://...)");
  return store::MetadataStore::Open(where->location);
}

void AddStoreOptions(CLI::App* cmd, StoreFlags* flags, const char* config_help) {
  cmd->add_option("--store", flags->store, kStoreHelp);
  if (config_help) cmd->add_option("--config", flags->config, config_help)->check(CLI::ExistingFile);
}

}  // namespace lathe::cli
