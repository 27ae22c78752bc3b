// Fine-tuning hyperparameters with Bedrock's names (epochCount, batchSize, learningRate, ...)
// plus lathe's own. Values arrive as strings, as in CreateModelCustomizationJob; each is checked
// against the model's declared range before any training starts. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::engine {

enum class HyperparameterType { kInt, kFloat, kChoice };

struct HyperparameterSpec {
  std::string name;
  HyperparameterType type;
  double min = 0, max = 0;           // kInt, kFloat (inclusive)
  std::vector<std::string> choices;  // kChoice
  std::string default_value;
  std::string description;
};

// The ranges and defaults a model declares (the built-in set suits lathe's small models).
const std::vector<HyperparameterSpec>& DefaultHyperparameterSpecs();

struct TrainingHyperparameters {
  int64_t epoch_count = 2;
  int64_t batch_size = 8;
  double learning_rate = 1e-4;
  int64_t warmup_steps = 0;
  double early_stopping_threshold = 0.01;  // minimum improvement of validation loss
  int64_t early_stopping_patience = 0;     // 0: no early stopping
  std::string method = "lora";             // lora | full
  int64_t lora_rank = 8;
  double lora_alpha = 16;
  double lora_dropout = 0.05;
  std::string lora_targets = "default";    // default | attention | all (see LoraTargetModules)
  int64_t max_sequence_length = 512;
  int64_t gradient_accumulation_steps = 1;
  double weight_decay = 0.0;
  int64_t seed = 42;
  std::string precision = "auto";  // auto | fp32 | bf16
  std::string lr_schedule = "cosine";
  int64_t checkpoint_steps = 50;
  int64_t validation_steps = 0;
  int64_t workers = 1;  // data-parallel ranks (lathe's extension); 1: one process, no torch.distributed
};

// The modules a loraTargets choice names; "default" keeps `fallback` (the request's own list).
std::vector<std::string> LoraTargetModules(const std::string& choice, const std::vector<std::string>& fallback);

// Parses string values; unknown keys, malformed numbers and out-of-range values are errors that
// name the key, the value and the accepted range. Missing keys take their defaults.
Result<TrainingHyperparameters> ParseHyperparameters(const std::map<std::string, std::string>& values,
                                                     const std::vector<HyperparameterSpec>& specs);

}  // namespace lathe::engine
