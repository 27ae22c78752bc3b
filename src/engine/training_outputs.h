// What a finished training run writes besides its checkpoints: the LoRA adapter in PEFT's
// format, the adapter merged into the base weights, and Bedrock's metric CSVs. Internal to the
// engine (the trainer's outputs; docs/training.md lists them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/lora.h"
#include "engine/model_config.h"

namespace lathe::engine {

// adapter_model.safetensors and adapter_config.json in `out`, as PEFT writes them.
Status WriteAdapter(const std::string& out, const ModelConfig& c, const LoraAdapters& lora, const std::string& base);
// The base weights with B A * scale added to each adapted projection.
LlamaWeights Merged(const LlamaWeights& w, const LoraAdapters& lora);
// A CSV file (header, then rows), written atomically, its folder created.
Status WriteCsv(const std::string& path, const std::string& header, const std::vector<std::string>& rows);
// step,epoch,loss,perplexity: a row of Bedrock's metric files.
std::string Row(int64_t step, int64_t epoch, double loss);

}  // namespace lathe::engine
