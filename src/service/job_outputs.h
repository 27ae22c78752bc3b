// A finished job's outputs (its metrics, in Bedrock's layout) copied to the job's output location.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace lathe::service {

// Copies the folders `subdirs` of `run_dir` that exist (recursively) to `out_dir`/<subdir>.
// Everything is written into a staging folder beside out_dir first and renamed into place at the
// end, so out_dir ends complete or absent: a full disk or any failed write leaves no truncated
// CSV behind, and the error (naming the file) is returned. Files go through `env`; the folders
// are listed with std::filesystem.
Status CopyJobOutputs(Env* env, const std::string& run_dir, const std::vector<std::string>& subdirs,
                      const std::string& out_dir);

}  // namespace lathe::service
