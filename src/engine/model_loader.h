// Loads a Hugging Face model directory into tensors: config, weights (single or sharded
// safetensors, F32/F16/BF16 held as F32), tokenizer, end tokens, BOS policy and chat format.
// Internal to the engine (includes torch through llama_model.h).
#pragma once

#include <memory>
#include <set>
#include <string>

#include "engine/llama_model.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"

namespace lathe::engine {

struct LoadedModel {
  ModelConfig config;
  LlamaWeights weights;
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::set<int> eos;
  bool add_bos = true;
  text::ChatTemplate chat_template = text::ChatTemplate::kPlain;
};

Result<LoadedModel> LoadModelDirectory(const std::string& dir);

// Writes config.json and model.safetensors (in config.torch_dtype) and copies the tokenizer and
// generation files from source_dir (unless it is the same folder).
Status SaveModelDirectory(const std::string& dir, const ModelConfig& config, const LlamaWeights& weights,
                          const std::string& source_dir);

}  // namespace lathe::engine
