#include "cli/dataset_options.h"

#include <filesystem>

namespace lathe::cli {

void AddDatasetModelOptions(CLI::App* cmd, DatasetModelArgs* args) {
  cmd->add_option("--model", args->model_id,
                  "Model whose limits apply, e.g. amazon.titan-text-express-v1 (see docs/data.md)");
  cmd->add_option("--tokenizer", args->tokenizer_path,
                  "SentencePiece .model file (or a model directory) for exact token counts; "
                  "without it tokens are estimated as characters / 6");
  cmd->add_option("--max-tokens", args->max_tokens,
                  "Per-record token limit (overrides the model's)")
      ->check(CLI::PositiveNumber);
}

void AddS3Options(CLI::App* cmd, ClientOptions* options) {
  cmd->add_option("--endpoint", options->endpoint,
                  "S3 endpoint for s3:// files (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:8080)");
  cmd->add_option("--data-dir", options->data_dir,
                  "The server's data directory, to sign s3:// requests with its credentials.json when "
                  "$AWS_ACCESS_KEY_ID is unset");
}

CLI::Validator ExistingFileOrS3Uri() {
  return CLI::Validator(
      [](std::string& name) { return name.rfind("s3://", 0) == 0 ? std::string() : CLI::ExistingFile(name); },
      "FILE or s3://bucket/key");
}

Status ResolveModelArgs(const DatasetModelArgs& args, ResolvedModel* out) {
  out->model_id = args.model_id;
  if (!args.model_id.empty()) {
    out->limits = data::FindModelLimits(args.model_id);
    if (out->limits == nullptr) {
      std::string known;
      for (const auto& m : data::KnownModelLimits()) known += "\n  " + m.id;
      return Status::InvalidArgument("unknown model '" + args.model_id +
                                     "'; models with known dataset limits:" + known +
                                     "\n(or give --max-tokens N)");
    }
    out->max_record_tokens = out->limits->max_record_tokens;
  }
  if (args.max_tokens > 0) out->max_record_tokens = args.max_tokens;
  if (!args.tokenizer_path.empty()) {
    auto tok = text::LoadTokenizer(args.tokenizer_path);
    if (!tok.ok()) return tok.status();
    out->tokenizer = std::move(tok).value();
    out->tokenizer_name = std::filesystem::path(args.tokenizer_path).filename().string();
  }
  return Status::Ok();
}

}  // namespace lathe::cli
