// `lathe models status`: where the built-in default model's build stands, read from the data
// directory (the build may run in `lathe serve`, `lathe models build-default` or `lathe demo`).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/default_model.h"

namespace lathe::cli {

void AddModelsStatusCommand(CLI::App* models, Context* ctx) {
  struct Args {
    std::string data_dir;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = models->add_subcommand(
      "status",
      "Whether the built-in default model is built, being built (stage, progress, time left), was\n"
      "interrupted (the next build resumes it) or absent. Exit code 0 when built, 3 otherwise.\n\n"
      "Example:\n  lathe models status --data-dir ~/.local/share/lathe");
  cmd->add_option("--data-dir", a->data_dir, "Where lathe keeps models (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    const engine::DefaultModelStatus s = engine::ReadDefaultModelStatus(a->data_dir);
    if (a->json) {
      nlohmann::json j = {{"state", s.state}, {"modelDir", s.dir}};
      if (s.state == "built") j["heldoutPerplexity"] = s.heldout_perplexity;
      if (s.state == "building" || s.state == "interrupted") {
        j["stage"] = s.progress.stage;
        j["fraction"] = s.progress.fraction;
        j["detail"] = s.progress.detail;
        if (s.progress.eta_seconds >= 0) j["etaSeconds"] = s.progress.eta_seconds;
        if (s.state == "building") j["elapsedSeconds"] = s.elapsed_seconds;
      }
      PrintJson(j);
    } else if (s.state == "built") {
      std::printf("built: %s (held-out perplexity %.1f)\n", s.dir.c_str(), s.heldout_perplexity);
    } else if (s.state == "building") {
      std::printf("building: %s %.0f%% (%s), %.0f s so far", s.progress.stage.c_str(), s.progress.fraction * 100,
                  s.progress.detail.c_str(), s.elapsed_seconds);
      if (s.progress.eta_seconds >= 0) std::printf(", about %.0f s left", s.progress.eta_seconds);
      std::printf("\n");
    } else if (s.state == "interrupted") {
      std::printf("interrupted at %s %.0f%%: `lathe models build-default` (or `lathe serve`) resumes it\n",
                  s.progress.stage.c_str(), s.progress.fraction * 100);
    } else {
      std::printf("absent: `lathe models build-default` builds it (a few minutes), `lathe serve` at start-up\n");
    }
    ctx->exit_code = s.state == "built" ? kExitOk : kExitNotReady;
  });
}

}  // namespace lathe::cli
