// Which metadata store a command that reads it directly opens (`lathe status`, `lathe registry`,
// `lathe events`, `lathe iam`, `lathe costs`, `lathe notifications`, `lathe deployments stats`,
// `lathe cleanup`, `lathe doctor`, `lathe backup`): --store (a postgresql:// URL), else the
// "store" of lathe serve's --config, else the data directory's lathe.db. The same choice
// `lathe serve` makes (node_config.h), so a tool reads what the servers of a scale-out deployment
// write (docs/scale-out.md, Operations).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::cli {

struct StoreFlags {
  std::string store;     // --store: a postgresql:// URL; "" = not given
  std::string config;    // --config: lathe serve's JSON config; "" = none
  std::string data_dir;  // --data-dir; "" = $LATHE_HOME or ~/.local/share/lathe
};

struct ChosenStore {
  std::string location;  // what MetadataStore::Open takes: the URL, or DATA_DIR/lathe.db
  std::string data_dir;  // the data directory, resolved (its files are still this machine's)
  bool shared = false;   // a PostgreSQL store
  // For messages and output: the URL with its password replaced by ***, or the path.
  std::string shown() const;
};

// InvalidArgument unless `store` is "" or a postgresql:// (postgres://) URL of at most 2048
// characters without control characters; the config's "store" is checked the same way by
// LoadServiceConfig.
Status CheckStoreFlag(const std::string& store);

// The choice above. `loaded` is flags.config already loaded by the caller (who needs its other
// keys); when null, flags.config is loaded here. A lathe.db need not exist yet.
Result<ChosenStore> ChooseStore(const StoreFlags& flags, const service::ServiceConfig* loaded = nullptr);

// ChooseStore, then the store opened. A lathe.db that does not exist is NotFound, naming the data
// directory: opening would create an empty one, and a mistyped --data-dir would quietly answer
// "nothing". A PostgreSQL store that cannot be reached is the store's error (no password in it).
Result<std::unique_ptr<store::MetadataStore>> OpenChosenStore(const StoreFlags& flags,
                                                              const service::ServiceConfig* loaded = nullptr,
                                                              ChosenStore* chosen = nullptr);

// Adds --store to a command, and --config with `config_help` unless that is null (the command
// adds its own). Each command keeps its own --data-dir.
void AddStoreOptions(CLI::App* cmd, StoreFlags* flags, const char* config_help);

// --store's help.
inline constexpr const char* kStoreHelp =
    "A shared store's postgresql:// URL (default: the config's \"store\", else DATA_DIR/lathe.db)";
// The help of a --config read for its "store" only.
inline constexpr const char* kConfigForStoreHelp = "lathe serve's JSON config, for its \"store\"";

}  // namespace lathe::cli
