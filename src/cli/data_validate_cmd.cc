// `lathe data validate FILE... [--validation FILE...]`
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "cli/s3_staging.h"
#include "data/validator.h"

namespace lathe::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> files;
  std::vector<std::string> validation_files;
  std::string format = "auto";
  DatasetModelArgs model;
  ClientOptions s3;
  bool allow_small = false;
  size_t max_problems = 20;
  bool json = false;
};

int RunValidate(const ValidateArgs& a) {
  auto format = data::ParseFormat(a.format);
  if (!format.ok()) return ReportError(format.status());
  ResolvedModel model;
  if (Status s = ResolveModelArgs(a.model, &model); !s.ok()) return ReportError(s);

  data::ValidateOptions opt;
  opt.format = *format;
  opt.tokenizer = model.tokenizer.get();
  opt.tokenizer_name = model.tokenizer_name;
  opt.max_record_tokens = model.max_record_tokens;
  opt.model_id = model.model_id;
  opt.allow_small = a.allow_small;
  opt.max_problems_in_full = a.max_problems;

  // s3:// files are copied locally first; reports still name their URIs.
  S3Staging staging(a.s3);
  for (const auto* list : {&a.files, &a.validation_files})
    for (const auto& f : *list)
      if (Status s = staging.Input(f); !s.ok()) return ReportError(s);

  nlohmann::json reports = nlohmann::json::array();
  bool all_ok = true;
  auto run = [&](const std::string& file, data::Purpose purpose) {
    opt.purpose = purpose;
    opt.max_records = model.limits == nullptr ? 0
                      : purpose == data::Purpose::kValidation
                          ? model.limits->max_validation_records
                          : model.limits->max_training_records;
    data::FileReport r = data::ValidateFile(staging.env(), file, opt);
    all_ok = all_ok && r.ok();
    if (a.json) {
      nlohmann::json j = data::ReportToJson(r);
      j["purpose"] = purpose == data::Purpose::kValidation ? "validation" : "training";
      reports.push_back(std::move(j));
    } else {
      std::cout << data::FormatReport(r);
    }
  };
  for (const auto& f : a.files) run(f, data::Purpose::kTraining);
  for (const auto& f : a.validation_files) run(f, data::Purpose::kValidation);
  if (a.json) PrintJson({{"ok", all_ok}, {"files", reports}});
  return all_ok ? kExitOk : kExitBadInput;
}

}  // namespace

void AddDataValidateCommand(CLI::App* data, Context* ctx) {
  auto a = std::make_shared<ValidateArgs>();
  CLI::App* cmd = data->add_subcommand(
      "validate",
      "Check JSONL datasets the way Bedrock does, and more: every problem is reported with\n"
      "file:line:column, the field, what is wrong and how to fix it. Exit code 1 if any file\n"
      "has errors (warnings alone pass).\n\n"
      "Files may be s3://bucket/key objects of lathe serve's S3 (or any S3): they are downloaded\n"
      "to a temporary folder, and problems name the s3:// URI.\n\n"
      "Example:\n  lathe data validate train.jsonl --validation val.jsonl "
      "--model amazon.titan-text-express-v1\n"
      "  lathe data validate s3://my-bucket/training-data/train.jsonl");
  cmd->add_option("files", a->files, "Training (or pre-training) JSONL files or s3:// URIs")->check(ExistingFileOrS3Uri());
  cmd->add_option("--validation", a->validation_files,
                  "Validation JSONL files or s3:// URIs (100 MB limit, no minimum record count)")
      ->check(ExistingFileOrS3Uri());
  cmd->add_option("--format", a->format,
                  "auto (per file), prompt-completion, chat, conversation or pretraining")
      ->capture_default_str();
  AddDatasetModelOptions(cmd, &a->model);
  AddS3Options(cmd, &a->s3);
  cmd->add_flag("--allow-small", a->allow_small,
                "Accept fewer than 32 training records (Bedrock's minimum)");
  cmd->add_option("--max-problems", a->max_problems,
                  "Problems shown in full per file; the rest are counted by kind")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx, cmd] {
    if (a->files.empty() && a->validation_files.empty())
      throw CLI::ValidationError("files", "give at least one file to validate");
    ctx->exit_code = RunValidate(*a);
  });
}

}  // namespace lathe::cli
