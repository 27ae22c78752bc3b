// `lathe eval review` and `lathe eval report` — PLACEHOLDER until the eval-report work lands
// (issue #14); replaced, not kept.
//   lathe eval review RUN_DIR     blind human review on the rubric (review.h)
//   lathe eval report RUN_DIR     re-renders report.md and report.html from report.json
#include "cli/commands.h"

namespace lathe::cli {

void AddEvalReviewCommands(CLI::App* eval, Context* ctx) {
  CLI::App* cmd = eval->add_subcommand("review", "Score a run's answers by hand, blind (not yet built)");
  cmd->callback([ctx] { ctx->exit_code = ReportError(Status::Unsupported("lathe eval review is being built (issue #14)")); });
}

}  // namespace lathe::cli
