// Checking a Hugging Face model folder without loading it (torch-free): what Bedrock's Custom
// Model Import and `lathe models add` run before a folder becomes a model lathe serves. It reads
// config.json, the tokenizer and the safetensors headers (never the weights' data), and names
// exactly what is missing or unsupported: the architecture, a dtype, a tensor's shape against
// config.json, a truncated file, a missing tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/model_config.h"

namespace lathe::engine {

// The files a model folder may hold besides the weights' shards, in the order they are fetched.
// config.json is required; so is one of tokenizer.json / tokenizer.model, and one of
// model.safetensors / model.safetensors.index.json (with the shards it names).
const std::vector<std::string>& ModelFolderFixedFiles();

// Bounds on what a folder's small files may be (they are read whole).
inline constexpr uint64_t kMaxModelConfigBytes = 1 << 20;        // config.json, generation_config.json...
inline constexpr uint64_t kMaxWeightIndexBytes = 16 << 20;       // model.safetensors.index.json
inline constexpr uint64_t kMaxTokenizerJsonBytes = 64 << 20;     // tokenizer.json (large vocabularies)
inline constexpr uint64_t kMaxSmallFileBytes = 16 << 20;         // tokenizer.model, tokenizer_config.json, ...
inline constexpr size_t kMaxWeightShards = 1024;                 // files the index may name
inline constexpr size_t kMaxShardNameLength = 255;

// The most bytes the folder's file `name` may have: config.json kMaxModelConfigBytes,
// tokenizer.json kMaxTokenizerJsonBytes, model.safetensors.index.json kMaxWeightIndexBytes, the
// other fixed names kMaxSmallFileBytes; weights (model.safetensors, shards) no bound of their own.
// Checked before a file is fetched or read.
uint64_t MaxFolderFileBytes(const std::string& name);

// The shard file names model.safetensors.index.json's weight_map names (`index_text`), sorted and
// unique. Each must be a plain file name ([A-Za-z0-9._-], not starting with '.', ending
// ".safetensors", at most kMaxShardNameLength bytes): the index comes from whoever made the
// folder, and a name like "../x" must never become a path.
Result<std::vector<std::string>> WeightShardNames(const std::string& index_text);

struct ModelFolderFacts {
  ModelConfig config;
  std::string dtype;              // the weights' dtype: "float32", "float16", "bfloat16"
  int64_t parameters = 0;         // from config.json
  std::vector<std::string> files; // the folder's files lathe uses (fixed names present, then shards)
  uint64_t bytes = 0;             // their total size
  bool chat_template = false;     // tokenizer_config.json has a chat_template (instruct model)
};

// Checks the folder `dir` as LoadModelDirectory would load it, but reading only headers.
// Messages name files relative to the folder ("config.json: ...", "model-00002-of-00002.safetensors:
// ..."), so they read the same wherever the folder came from.
Result<ModelFolderFacts> CheckModelFolder(const std::string& dir);

}  // namespace lathe::engine
