// The version of the data directory's on-disk layout: the folders and files lathe owns beside
// lathe.db (s3/blobs, jobs/<id>/, custom-models/, imported-models/, evaluation-jobs/, lambda/,
// sns/, tls/, credentials.json, ...). lathe.db's tables have their own version (migrations.h).
//
// DATA_DIR/layout-version holds one number and a newline; no file = a data directory made before
// versions existed, which is layout 1. At start-up lathe serve runs each missing layout
// migration in order and rewrites the file (atomically) after each one, so a crash between
// steps resumes at the first step not recorded: a layout migration must be idempotent (e.g.
// "move X to Y if X exists"), since file systems have no transactions. A layout newer than the
// binary is refused.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::store {

struct LayoutMigration {
  int version;          // 1, 2, 3, ... in order
  const char* summary;  // for users: docs/CHANGELOG.md
  std::function<Status(const std::string& data_dir)> apply;  // idempotent
};

// The data directory's recorded layout version; 0 when it has no layout-version file.
Result<int> ReadDataLayoutVersion(const std::string& data_dir);

// Brings data_dir to the last migration's layout (above). Returns the version it found.
Result<int> UpgradeDataLayout(const std::string& data_dir, const std::vector<LayoutMigration>& migrations);

// lathe's own layout migrations (data_layout.cc) and the version they end at.
const std::vector<LayoutMigration>& DataLayoutMigrations();
int DataLayoutVersion();

// "layout-version": the file's name inside the data directory.
inline constexpr const char* kLayoutVersionFile = "layout-version";

}  // namespace lathe::store
