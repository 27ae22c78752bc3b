// `lathe data stats FILE [--validation FILE]`
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "data/stats.h"

namespace lathe::cli {

void AddDataStatsCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string file, validation;
    DatasetModelArgs model;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "stats",
      "Lengths (characters, and tokens with --tokenizer), exact and normalized duplicates,\n"
      "short/long completions (the tutorial's thresholds: more than 10% under 20 characters, any\n"
      "over 2000), train/validation leakage and balance by the prompt's first word.\n\n"
      "Example:\n  lathe data stats train.jsonl --validation val.jsonl");
  cmd->add_option("file", a->file, "Training JSONL file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--validation", a->validation, "Validation file to check for leakage")->check(CLI::ExistingFile);
  cmd->add_option("--tokenizer", a->model.tokenizer_path, "SentencePiece .model (or model folder) for token counts");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    ResolvedModel model;
    if (Status s = ResolveModelArgs(a->model, &model); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    auto stats = data::ComputeStats(Env::Default(), a->file, a->validation, model.tokenizer.get());
    if (!stats.ok()) {
      ctx->exit_code = ReportError(stats.status());
      return;
    }
    if (a->json) PrintJson(data::StatsToJson(*stats));
    else std::cout << data::FormatStats(*stats);
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
