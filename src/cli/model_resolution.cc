#include "cli/model_resolution.h"

#include <algorithm>
#include <cstdio>

#include "engine/default_model.h"

namespace lathe::cli {

Result<BuiltDefaultModel> EnsureDefaultModelWithProgress(const DefaultModelOptionsCli& options) {
  engine::DefaultModelOptions o;
  o.data_dir = options.data_dir;
  if (options.max_train_records > 0) o.max_train_records = options.max_train_records;
  if (!options.recipe.empty()) o.recipe = options.recipe;
  std::string last;
  o.progress = [&](const engine::DefaultModelProgress& p) {
    if (p.stage != last && !last.empty()) std::fprintf(stderr, "\n");
    last = p.stage;
    const int width = 24, filled = static_cast<int>(width * std::min(1.0, p.fraction));
    std::fprintf(stderr, "\r  %-12s [%s%s] %s   ", p.stage.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), p.detail.c_str());
    std::fflush(stderr);
  };
  auto info = engine::EnsureDefaultModel(o);
  if (!last.empty()) std::fprintf(stderr, "\n");
  if (!info.ok()) return info.status();
  return BuiltDefaultModel{info->dir, info->built_now, info->heldout_perplexity};
}

Result<std::string> ResolveModelDir(const std::string& model) {
  if (model != kDefaultModelName) return model;
  auto built = EnsureDefaultModelWithProgress({});
  if (!built.ok()) return built.status();
  return built->dir;
}

}  // namespace lathe::cli
