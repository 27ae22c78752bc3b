// --model arguments: a model directory, or "lathe-default" for the built-in default model (built
// on first use, with a progress line on stderr).
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::cli {

inline constexpr const char* kDefaultModelName = "lathe-default";

Result<std::string> ResolveModelDir(const std::string& model);

}  // namespace lathe::cli
