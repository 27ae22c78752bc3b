// --model arguments: a model directory, or "lathe-default" for the built-in default model (built
// on first use, with a progress line on stderr).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace lathe::cli {

inline constexpr const char* kDefaultModelName = "lathe-default";

Result<std::string> ResolveModelDir(const std::string& model);

// Builds (or finds) the default model, drawing its stages as a progress line on stderr.
struct DefaultModelOptionsCli {
  std::string data_dir;
  uint64_t max_train_records = 0;  // 0: the built-in default
  std::string recipe;              // "": the default recipe (engine/default_model.h)
};
struct BuiltDefaultModel {
  std::string dir;
  bool built_now = false;
  double heldout_perplexity = 0;
};
Result<BuiltDefaultModel> EnsureDefaultModelWithProgress(const DefaultModelOptionsCli& options);

}  // namespace lathe::cli
