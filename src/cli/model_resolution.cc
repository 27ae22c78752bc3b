#include "cli/model_resolution.h"

#include <cstdio>

#include "engine/default_model.h"

namespace lathe::cli {

Result<std::string> ResolveModelDir(const std::string& model) {
  if (model != kDefaultModelName) return model;
  engine::DefaultModelOptions o;
  std::string last;
  o.progress = [&](const std::string& stage, double f, const std::string& detail) {
    if (stage != last && !last.empty()) std::fprintf(stderr, "\n");
    last = stage;
    std::fprintf(stderr, "\rbuilding the default model: %-12s %3.0f%% %s   ", stage.c_str(), 100 * f, detail.c_str());
    std::fflush(stderr);
  };
  auto info = engine::EnsureDefaultModel(o);
  if (!last.empty()) std::fprintf(stderr, "\n");
  if (!info.ok()) return info.status();
  return info->dir;
}

}  // namespace lathe::cli
