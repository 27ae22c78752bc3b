// Fine-tuning and continued pre-training of a local model: what Bedrock runs behind
// CreateModelCustomizationJob. Torch-free interface.
//
// Outputs in OUT (Bedrock's layout for the metrics):
//   adapter_model.safetensors, adapter_config.json   LoRA, in PEFT's format (method=lora)
//   model/                                           the fine-tuned model (method=full, or --merged)
//   training_artifacts/step_wise_training_metrics.csv
//   validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv
//   training_summary.json
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::engine {

// One process's part in data-parallel training (hyperparameter `workers` > 1; docs/training.md).
// The world size is the `workers` hyperparameter; every rank runs Train with the same request.
struct DataParallelOptions {
  int rank = 0;
  // host:port of the rendezvous store rank 0 hosts. Empty: 127.0.0.1 and a free port, all ranks
  // on this machine (rank 0 then starts the others through start_local_ranks).
  std::string master;
  int timeout_seconds = 30;  // of the rendezvous and of every collective
  // Rank 0 with an empty master: starts ranks 1..workers-1, given the address they must join.
  std::function<Status(const std::string& master)> start_local_ranks;
};

struct TrainRequest {
  std::string model_dir;
  std::string train_file;
  std::string validation_file;  // optional
  std::string out_dir;
  std::map<std::string, std::string> hyperparameters;  // Bedrock names, string values
  std::vector<std::string> lora_targets = {"q_proj", "v_proj"};
  bool save_merged = false;  // LoRA: also write the base model with the adapter merged in
  DataParallelOptions data_parallel;  // used when the hyperparameter workers > 1
};

struct TrainProgress {
  int64_t step = 0, total_steps = 0, epoch = 0, epochs = 0;
  double loss = 0, learning_rate = 0, tokens_per_second = 0, eta_seconds = 0;
  uint64_t trained_tokens = 0;  // so far, over every epoch and run (what Bedrock's training price counts)
};

struct TrainSummary {
  int64_t steps = 0, epochs_run = 0, best_epoch = 0;
  double initial_validation_loss = -1, best_validation_loss = -1, final_training_loss = 0;
  uint64_t trained_tokens = 0, train_records = 0, truncated = 0;
  double seconds = 0;
  bool stopped_early = false, interrupted = false;
  std::string method;
  std::string precision;  // what ran: bf16 (autocast) or fp32
};

// Runs the whole job. Hyperparameters and data are checked before the first step; `stop` (may be
// null) ends training at the next step, keeping the best result so far.
Result<TrainSummary> Train(const TrainRequest& request, const std::function<void(const TrainProgress&)>& on_progress,
                           const std::atomic<bool>* stop);

}  // namespace lathe::engine
