// `lathe eval run` — PLACEHOLDER until the eval-run work lands (issue #14); replaced, not kept.
//
// The command line other parts rely on (the Bedrock evaluation job runs it as its worker):
//   lathe eval run --dataset PATH --model [LABEL=]SPEC [--model ...] --out DIR
//       [--temperature X] [--top-p X] [--max-tokens N] [--seed N] [--stop TEXT]... [--batch-size N]
//       [--judge SPEC] [--no-reference-loss] [--progress-json] [--endpoint URL --data-dir DIR]
//   SPEC: a model directory, or lathe-default; with --endpoint, any model id or ARN the server
//   serves (answered through InvokeModel). The first --model is the baseline.
//   --progress-json: one JSON object a line on stderr:
//       {"casesDone", "casesTotal", "modelIndex", "modelsTotal", "elapsedSeconds", "etaSeconds"}
//   Exit 0: DIR/report.json, report.md, report.html written. kExitBadInput: test set problems
//   (printed as file:line: ...) or another error.
#include "cli/commands.h"

namespace lathe::cli {

void AddEvalRunCommand(CLI::App* eval, Context* ctx) {
  CLI::App* cmd = eval->add_subcommand("run", "Answer a test set with each model, score and compare (not yet built)");
  cmd->callback([ctx] { ctx->exit_code = ReportError(Status::Unsupported("lathe eval run is being built (issue #14)")); });
}

}  // namespace lathe::cli
