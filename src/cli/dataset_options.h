// Options shared by the data commands: --model, --tokenizer, --max-tokens for those that count
// tokens; s3:// names and where their S3 is (--endpoint, --data-dir) for those that read or write.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/client.h"
#include "core/status.h"
#include "data/model_limits.h"
#include "text/tokenizer.h"

namespace lathe::cli {

struct DatasetModelArgs {
  std::string model_id;
  std::string tokenizer_path;
  int64_t max_tokens = 0;
};

struct ResolvedModel {
  std::string model_id;
  const data::ModelLimits* limits = nullptr;        // when model_id is a known Bedrock id
  std::unique_ptr<text::Tokenizer> tokenizer;       // when --tokenizer was given
  std::string tokenizer_name;
  int64_t max_record_tokens = 0;                    // --max-tokens, else the model's limit
};

void AddDatasetModelOptions(CLI::App* cmd, DatasetModelArgs* args);
// --endpoint and --data-dir, for s3:// inputs and outputs (signed as the other client commands sign).
void AddS3Options(CLI::App* cmd, ClientOptions* options);
// CLI11's ExistingFile, except that s3:// names pass (they are looked up when the command runs).
CLI::Validator ExistingFileOrS3Uri();
// Loads the tokenizer and looks up the model's limits; an unknown model id is an error that
// lists the known ones.
Status ResolveModelArgs(const DatasetModelArgs& args, ResolvedModel* out);

}  // namespace lathe::cli
