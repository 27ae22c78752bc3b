// `lathe eval review RUN_DIR` (blind human review, review.h) and `lathe eval report RUN_DIR`
// (report.md and report.html rendered again from report.json, report.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "eval/report.h"
#include "eval/review.h"

namespace lathe::cli {
namespace {

void AddReview(CLI::App* eval, Context* ctx) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = eval->add_subcommand(
      "review",
      "Score a run's answers by hand on the guide's rubric (accuracy, relevance, tone, completeness,\n"
      "formatting; 1-5), blind: each case's answers are shown shuffled and unnamed. Progress is saved\n"
      "after every case (review.json); 'q' or Ctrl-D stops, running it again resumes. At the end the\n"
      "reports are rewritten with the human scores beside the automatic ones.\n\n"
      "Example:\n  lathe eval review runs/eval-20261202-081500");
  cmd->add_option("run_dir", *dir, "The run's folder (holds report.json)")->required();
  cmd->callback([dir, ctx] {
    eval::ReviewOptions options;
    options.run_dir = *dir;
    Status s = eval::RunReview(Env::Default(), options);
    ctx->exit_code = s.ok() ? kExitOk : ReportError(s);
  });
}

void AddReport(CLI::App* eval, Context* ctx) {
  struct Args {
    std::string dir, out;
    bool summarize = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = eval->add_subcommand(
      "report",
      "Write report.md and report.html again from a run's report.json (after a review, an edit,\n"
      "or a newer lathe), into the run's folder or --out.\n\n"
      "Example:\n  lathe eval report runs/eval-20261202-081500 --out /tmp/report");
  cmd->add_option("run_dir", a->dir, "The run's folder (holds report.json)")->required();
  cmd->add_option("--out", a->out, "Folder to write the three reports to (default: the run's folder)");
  cmd->add_flag("--summarize", a->summarize,
                "Recompute aggregates and comparisons from the per-case results first (after editing them)");
  cmd->callback([a, ctx] {
    auto run = eval::ReadReport(Env::Default(), a->dir);
    if (!run.ok()) {
      ctx->exit_code = ReportError(run.status());
      return;
    }
    if (a->summarize) eval::Summarize(&*run);
    if (auto js = eval::FindChartJs(); !js.ok())
      std::cerr << "lathe: warning: report.html will have no charts: " << js.status().message() << "\n";
    std::string out = a->out.empty() ? a->dir : a->out;
    if (Status s = eval::WriteReports(Env::Default(), *run, out); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    std::cout << "Wrote " << out << "/report.json, report.md and report.html\n";
    ctx->exit_code = kExitOk;
  });
}

}  // namespace

void AddEvalReviewCommands(CLI::App* eval, Context* ctx) {
  AddReview(eval, ctx);
  AddReport(eval, ctx);
}

}  // namespace lathe::cli
