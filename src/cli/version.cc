#include "cli/version.h"

#include "lathe_version.h"  // generated into the build folder
#include "store/data_layout.h"
#include "store/migrations.h"

namespace lathe::cli {

const char* LatheVersion() { return LATHE_VERSION; }
const char* LatheGitCommit() { return LATHE_GIT_COMMIT; }
const char* LatheTorchVersion() { return LATHE_TORCH_VERSION; }

std::string VersionText() {
  return std::string("lathe ") + LATHE_VERSION + " (commit " + LATHE_GIT_COMMIT + ", libtorch " + LATHE_TORCH_VERSION +
         ")\nlathe.db schema version " + std::to_string(store::LatheDbSchemaVersion()) + ", data directory layout " +
         std::to_string(store::DataLayoutVersion());
}

}  // namespace lathe::cli
