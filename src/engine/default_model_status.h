// The default model build's progress file (data_dir/models/lathe-default.progress.json): what a
// build writes as it goes, so that other processes (`lathe models status`, a `lathe demo` waiting
// for the server's build, the server's throttling messages) can tell how far it is. Torch-free.
#pragma once

#include <cstdint>
#include <string>

#include "engine/default_model.h"

namespace lathe::engine {

std::string DefaultModelProgressPath(const std::string& root);
std::string DefaultModelLockPath(const std::string& root);
// Rewrites the file (atomically) with `p`; the build started at started_ms (wall clock).
void WriteDefaultModelProgress(const std::string& root, const DefaultModelProgress& p, int64_t started_ms);
// The file's contents; false when there is none or it does not parse. *started_ms: as written.
bool ReadDefaultModelProgress(const std::string& root, DefaultModelProgress* p, int64_t* started_ms);

}  // namespace lathe::engine
