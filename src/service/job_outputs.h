// A finished job's outputs (its metrics, in Bedrock's layout) copied to the job's output location.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace lathe::service {

// Copies the folders `subdirs` of `run_dir` that exist (recursively, file by file in chunks) to
// `out_dir`/<subdir>. Everything is written into a staging folder beside out_dir first and renamed
// into place at the end, so out_dir ends complete or absent; when out_dir already exists only
// out_dir/<subdir> for each named subdir is replaced (removed when run_dir has none), whatever
// else it holds is kept (an earlier evaluation job's <jobId> folder under a reused job name): a full disk or any failed write leaves no truncated
// CSV behind, and the error (naming the file) is returned. Files go through `env`; the folders
// are listed with std::filesystem.
Status CopyJobOutputs(Env* env, const std::string& run_dir, const std::vector<std::string>& subdirs,
                      const std::string& out_dir);

}  // namespace lathe::service
