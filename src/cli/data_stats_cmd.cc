// `lathe data stats FILE [--validation FILE]`
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "cli/s3_staging.h"
#include "data/stats.h"

namespace lathe::cli {

void AddDataStatsCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string file, validation;
    DatasetModelArgs model;
    ClientOptions s3;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "stats",
      "Lengths (characters, and tokens with --tokenizer), exact and normalized duplicates,\n"
      "short/long completions (the tutorial's thresholds: more than 10% under 20 characters, any\n"
      "over 2000), train/validation leakage and balance by the prompt's first word.\n\n"
      "Files may be s3://bucket/key objects (downloaded to a temporary folder first).\n\n"
      "Example:\n  lathe data stats train.jsonl --validation val.jsonl\n"
      "  lathe data stats s3://my-bucket/training-data/train.jsonl");
  cmd->add_option("file", a->file, "Training JSONL file or s3:// URI")->required()->check(ExistingFileOrS3Uri());
  cmd->add_option("--validation", a->validation, "Validation file (or s3:// URI) to check for leakage")
      ->check(ExistingFileOrS3Uri());
  AddS3Options(cmd, &a->s3);
  cmd->add_option("--tokenizer", a->model.tokenizer_path, "SentencePiece .model (or model folder) for token counts");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    ResolvedModel model;
    if (Status s = ResolveModelArgs(a->model, &model); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    S3Staging staging(a->s3);
    for (const auto& f : {a->file, a->validation})
      if (Status s = staging.Input(f); !s.ok()) {
        ctx->exit_code = ReportError(s);
        return;
      }
    auto stats = data::ComputeStats(staging.env(), a->file, a->validation, model.tokenizer.get());
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
