#include "engine/hyperparameters.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace lathe::engine {
namespace {

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string RangeText(const HyperparameterSpec& s) {
  if (s.type == HyperparameterType::kChoice) {
    std::string out;
    for (const auto& c : s.choices) out += (out.empty() ? "" : ", ") + c;
    return "one of " + out;
  }
  return std::string(s.type == HyperparameterType::kInt ? "an integer" : "a number") + " from " + Num(s.min) +
         " to " + Num(s.max);
}

}  // namespace

const std::vector<HyperparameterSpec>& DefaultHyperparameterSpecs() {
  using T = HyperparameterType;
  static const std::vector<HyperparameterSpec> kSpecs = {
      {"epochCount", T::kInt, 1, 100, {}, "2", "passes over the training data"},
      {"batchSize", T::kInt, 1, 256, {}, "8", "records per optimizer step (before accumulation)"},
      {"learningRate", T::kFloat, 1e-7, 1.0, {}, "0.0001", "peak learning rate of AdamW"},
      {"learningRateWarmupSteps", T::kInt, 0, 100000, {}, "0", "steps of linear warmup"},
      {"earlyStoppingThreshold", T::kFloat, 0.0, 1.0, {}, "0.01", "smallest validation-loss improvement that counts"},
      {"earlyStoppingPatience", T::kInt, 0, 100, {}, "0", "epochs without improvement before stopping (0: never)"},
      {"method", T::kChoice, 0, 0, {"lora", "full"}, "lora", "LoRA adapters or full fine-tuning"},
      {"loraRank", T::kInt, 1, 256, {}, "8", "rank of the LoRA matrices"},
      {"loraAlpha", T::kFloat, 0.0, 1024.0, {}, "16", "LoRA scaling numerator (scale = alpha / rank)"},
      {"loraDropout", T::kFloat, 0.0, 0.9, {}, "0.05", "dropout on the LoRA input"},
      {"loraTargets", T::kChoice, 0, 0, {"default", "attention", "all"}, "default",
       "modules LoRA adapts: default (q_proj,v_proj, or lathe train --lora-targets), attention (q,k,v,o), all (attention and MLP)"},
      {"maxSequenceLength", T::kInt, 16, 131072, {}, "512", "tokens per training sequence"},
      {"gradientAccumulationSteps", T::kInt, 1, 1024, {}, "1", "batches per optimizer step"},
      {"weightDecay", T::kFloat, 0.0, 1.0, {}, "0", "AdamW weight decay"},
      {"seed", T::kInt, 0, 2147483647, {}, "42", "seed of shuffling, dropout and initialisation"},
      {"precision", T::kChoice, 0, 0, {"auto", "fp32", "bf16"}, "auto", "auto: bf16 autocast where the CPU has AVX512_BF16, else fp32"},
      {"learningRateSchedule", T::kChoice, 0, 0, {"cosine", "linear", "constant"}, "cosine", "decay after warmup"},
      {"checkpointSteps", T::kInt, 0, 1000000, {}, "50", "optimizer steps between checkpoints (0: epoch ends only)"},
      {"validationSteps", T::kInt, 0, 1000000, {}, "0", "optimizer steps between extra validation-loss rows (0: epoch ends only)"},
      {"workers", T::kInt, 1, 16, {}, "1",
       "data-parallel processes (ranks), each training on its slice of every batch (at most batchSize)"},
  };
  return kSpecs;
}

std::vector<std::string> LoraTargetModules(const std::string& choice, const std::vector<std::string>& fallback) {
  if (choice == "attention") return {"q_proj", "k_proj", "v_proj", "o_proj"};
  if (choice == "all") return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return fallback;
}

Result<TrainingHyperparameters> ParseHyperparameters(const std::map<std::string, std::string>& values,
                                                     const std::vector<HyperparameterSpec>& specs) {
  std::map<std::string, std::string> merged;
  for (const auto& s : specs) merged[s.name] = s.default_value;
  for (const auto& [key, value] : values) {
    bool known = false;
    for (const auto& s : specs) known = known || s.name == key;
    if (!known) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return Status::InvalidArgument("unknown hyperparameter \"" + key + "\" (known: " + names + ")");
    }
    merged[key] = value;
  }
  std::map<std::string, double> numbers;
  for (const auto& s : specs) {
    const std::string& v = merged[s.name];
    auto bad = [&] {
      return Status::InvalidArgument("hyperparameter " + s.name + "=\"" + v + "\" is invalid: expected " + RangeText(s));
    };
    if (s.type == HyperparameterType::kChoice) {
      bool ok = false;
      for (const auto& c : s.choices) ok = ok || c == v;
      if (!ok) return bad();
      continue;
    }
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(d)) return bad();
    if (s.type == HyperparameterType::kInt && d != std::floor(d)) return bad();
    if (d < s.min || d > s.max) return bad();
    numbers[s.name] = d;
  }
  TrainingHyperparameters h;
  auto i = [&](const char* n) { return static_cast<int64_t>(numbers.at(n)); };
  h.epoch_count = i("epochCount");
  h.batch_size = i("batchSize");
  h.learning_rate = numbers.at("learningRate");
  h.warmup_steps = i("learningRateWarmupSteps");
  h.early_stopping_threshold = numbers.at("earlyStoppingThreshold");
  h.early_stopping_patience = i("earlyStoppingPatience");
  h.method = merged.at("method");
  h.lora_rank = i("loraRank");
  h.lora_alpha = numbers.at("loraAlpha");
  h.lora_dropout = numbers.at("loraDropout");
  h.lora_targets = merged.at("loraTargets");
  h.max_sequence_length = i("maxSequenceLength");
  h.gradient_accumulation_steps = i("gradientAccumulationSteps");
  h.weight_decay = numbers.at("weightDecay");
  h.seed = i("seed");
  h.precision = merged.at("precision");
  h.lr_schedule = merged.at("learningRateSchedule");
  h.checkpoint_steps = i("checkpointSteps");
  h.validation_steps = i("validationSteps");
  h.workers = i("workers");
  // Each rank trains on its own rows of every batch: a rank with none would only wait.
  if (h.workers > h.batch_size)
    return Status::InvalidArgument("hyperparameter workers=" + std::to_string(h.workers) + " exceeds batchSize=" +
                                   std::to_string(h.batch_size) + ": every worker needs at least one record of each batch");
  return h;
}

}  // namespace lathe::engine
