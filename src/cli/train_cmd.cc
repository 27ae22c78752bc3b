// `lathe train --model DIR --train FILE [--validation FILE] --out DIR --set key=value...`
// [--workers N | --rank R --world-size W --master HOST:PORT] (data-parallel, docs/training.md)
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "cli/train_ranks.h"
#include "core/env.h"
#include "core/heap_reuse.h"
#include "engine/hyperparameters.h"
#include "engine/trainer.h"

namespace lathe::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnInterrupt(int) { g_stop = true; }

std::string Duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  std::snprintf(buf, sizeof buf, t >= 3600 ? "%ldh%02ldm" : "%ldm%02lds", t >= 3600 ? t / 3600 : t / 60,
                t >= 3600 ? (t / 60) % 60 : t % 60);
  return buf;
}

}  // namespace

void AddTrainCommand(CLI::App* app, Context* ctx) {
  struct Args {
    engine::TrainRequest req;
    std::vector<std::string> sets;
    std::string targets = "q_proj,v_proj";
    bool json = false;
    std::string progress_file;
    int workers = 0, world_size = 0, rank = -1;  // 0 / -1: not given
  };
  auto a = std::make_shared<Args>();
  std::string keys;
  for (const auto& s : engine::DefaultHyperparameterSpecs())
    keys += "\n  " + s.name + " (default " + s.default_value + "): " + s.description;
  CLI::App* cmd = app->add_subcommand(
      "train", "Fine-tune (LoRA or full) or continue pre-training a local model on a JSONL dataset");
  cmd->footer(
      "Loss counts only completions / assistant turns; the best epoch (by validation loss) is\n"
      "exported. Ctrl-C stops at the next step and keeps the best result so far; the same command\n"
      "resumes from the last checkpoint.\n\n"
      "Hyperparameters (--set key=value, Bedrock's names):" + keys +
      "\n\nExample:\n  lathe train --model lathe-default --train split/train.jsonl --validation "
      "split/validation.jsonl --out runs/bank --set epochCount=3 --set learningRate=0.001\n\n"
      "Data parallelism (Gloo on CPU): --workers 2 runs 2 processes here, each training on half of\n"
      "every batch; on several machines run the same command on each with --rank R --world-size W\n"
      "--master HOST:PORT (rank 0 listens there and alone writes the outputs).");
  cmd->add_option("--model", a->req.model_dir, "Base model directory, or lathe-default (built on first use)")->required();
  cmd->add_option("--train", a->req.train_file, "Training JSONL file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--validation", a->req.validation_file, "Validation JSONL file")->check(CLI::ExistingFile);
  cmd->add_option("--out", a->req.out_dir, "Output folder (adapter, metrics, summary)")->required();
  cmd->add_option("--set", a->sets, "Hyperparameter key=value (repeatable)");
  cmd->add_option("--lora-targets", a->targets, "Comma-separated modules LoRA adapts")->capture_default_str();
  cmd->add_flag("--merged", a->req.save_merged, "LoRA: also write the model with the adapter merged (OUT/model)");
  cmd->add_flag("--json", a->json, "Print the summary as JSON");
  cmd->add_option("--progress-file", a->progress_file,
                  "Also keep the latest progress in this JSON file (what `lathe serve` reads)");
  cmd->add_option("--workers", a->workers, "Data-parallel processes on this machine (the hyperparameter workers)")
      ->check(CLI::Range(1, 16));
  cmd->add_option("--rank", a->rank, "This process's rank, 0..world-size-1 (training on several machines)")
      ->check(CLI::Range(0, 15));
  cmd->add_option("--world-size", a->world_size, "Ranks in all (the hyperparameter workers)")->check(CLI::Range(1, 16));
  cmd->add_option("--master", a->req.data_parallel.master, "HOST:PORT of rank 0's rendezvous store (with --rank)");
  cmd->add_option("--worker-timeout", a->req.data_parallel.timeout_seconds,
                  "Seconds a rank waits for the others (rendezvous, each all-reduce) before the step fails")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->callback([a, ctx] {
    for (const auto& kv : a->sets) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw CLI::ValidationError("--set", "expected key=value, got " + kv);
      a->req.hyperparameters[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (int n : {a->workers, a->world_size}) {
      if (n == 0) continue;
      auto set = a->req.hyperparameters.find("workers");
      if (set != a->req.hyperparameters.end() && set->second != std::to_string(n))
        throw CLI::ValidationError("--workers", "--workers, --world-size and --set workers disagree");
      a->req.hyperparameters["workers"] = std::to_string(n);
    }
    // The world size may also come as --set workers=N: that is how the job runner passes it, and
    // the ranks it starts re-execute that command line.
    const auto workers = a->req.hyperparameters.find("workers");
    const int world = workers == a->req.hyperparameters.end() ? 1 : std::atoi(workers->second.c_str());
    if ((a->rank >= 0) != !a->req.data_parallel.master.empty() || (a->rank >= 0 && world < 2))
      throw CLI::ValidationError("--rank", "--rank, --world-size (or --workers) and --master go together");
    if (a->rank >= world) throw CLI::ValidationError("--rank", "--rank must be below the world size");
    a->req.data_parallel.rank = std::max(a->rank, 0);
    a->req.lora_targets.clear();
    for (size_t p = 0; p <= a->targets.size();) {
      size_t q = a->targets.find(',', p);
      if (q == std::string::npos) q = a->targets.size();
      if (q > p) a->req.lora_targets.push_back(a->targets.substr(p, q - p));
      p = q + 1;
    }
    auto dir = ResolveModelDir(a->req.model_dir);
    if (!dir.ok()) {
      ctx->exit_code = ReportError(dir.status());
      return;
    }
    a->req.model_dir = *dir;
    const bool rank0 = a->req.data_parallel.rank == 0;
    if (rank0 && Env::Default()->FileExists(a->req.out_dir + "/checkpoint/state.json"))
      std::fprintf(stderr, "lathe: resuming from the checkpoint in %s/checkpoint\n", a->req.out_dir.c_str());
    // --workers N here: rank 0 starts the others once its store listens; they share the cores.
    LocalRanks local;
    if (world > 1 && a->rank < 0) {
      if (std::getenv("LATHE_THREADS") == nullptr) ::setenv("LATHE_THREADS", std::to_string(ThreadsPerRank(world)).c_str(), 1);
      a->req.data_parallel.start_local_ranks = [&local, world](const std::string& master) {
        return local.Start(master, world);
      };
    }
    (void)KeepFreedMemoryInHeap();  // this process trains, step after step (core/heap_reuse.h)
    g_stop = false;
    auto previous = std::signal(SIGINT, OnInterrupt);
    auto last_write = std::chrono::steady_clock::time_point{};
    auto r = engine::Train(a->req, [&](const engine::TrainProgress& p) {
      if (!rank0) return;
      if (!a->progress_file.empty() && (std::chrono::steady_clock::now() - last_write > std::chrono::seconds(1) ||
                                        p.step == p.total_steps)) {
        last_write = std::chrono::steady_clock::now();
        // Best effort: a progress file that cannot be written must not stop training.
        (void)WriteFileAtomically(Env::Default(), a->progress_file,
                                  nlohmann::json{{"step", p.step}, {"totalSteps", p.total_steps}, {"epoch", p.epoch},
                                                 {"epochs", p.epochs}, {"loss", p.loss},
                                                 {"learningRate", p.learning_rate},
                                                 {"tokensPerSecond", p.tokens_per_second},
                                                 {"etaSeconds", p.eta_seconds},
                                                 {"trainedTokens", p.trained_tokens}}
                                      .dump());
      }
      const int width = 24;
      const int filled = static_cast<int>(width * p.step / std::max<int64_t>(p.total_steps, 1));
      std::fprintf(stderr, "\r[%s%s] step %lld/%lld  epoch %lld/%lld  loss %.4f  %.0f tok/s  ETA %s   ",
                   std::string(static_cast<size_t>(filled), '#').c_str(), std::string(static_cast<size_t>(width - filled), '.').c_str(),
                   static_cast<long long>(p.step), static_cast<long long>(p.total_steps), static_cast<long long>(p.epoch),
                   static_cast<long long>(p.epochs), p.loss, p.tokens_per_second, Duration(p.eta_seconds).c_str());
      std::fflush(stderr);
    }, &g_stop);
    std::signal(SIGINT, previous);
    if (!r.ok()) {
      const std::string ended = local.Stop();  // before the error, so that it is the last line
      if (rank0) std::fprintf(stderr, "\n");
      ctx->exit_code = ReportError(ended.empty() ? r.status() : Status::Internal(r.status().message() + "; " + ended));
      return;
    }
    if (!rank0) {  // rank 0 reports for all
      ctx->exit_code = kExitOk;
      return;
    }
    std::fprintf(stderr, "\n");
    if (const std::string failed = local.Wait(a->req.data_parallel.timeout_seconds); !failed.empty())
      std::fprintf(stderr, "lathe: warning: after training: %s\n", failed.c_str());
    if (a->json) {
      PrintJson({{"out", a->req.out_dir}, {"steps", r->steps}, {"epochsRun", r->epochs_run}, {"bestEpoch", r->best_epoch},
                 {"finalTrainingLoss", r->final_training_loss}, {"initialValidationLoss", r->initial_validation_loss},
                 {"bestValidationLoss", r->best_validation_loss}, {"seconds", r->seconds},
                 {"interrupted", r->interrupted}, {"stoppedEarly", r->stopped_early}});
    } else {
      std::printf("%s %s: %lld steps, %lld epochs in %s; final training loss %.4f\n",
                  r->interrupted ? "Interrupted" : "Trained", r->method.c_str(), static_cast<long long>(r->steps),
                  static_cast<long long>(r->epochs_run), Duration(r->seconds).c_str(), r->final_training_loss);
      if (r->best_validation_loss >= 0)
        std::printf("validation loss %.4f -> %.4f (best epoch %lld)\n", r->initial_validation_loss,
                    r->best_validation_loss, static_cast<long long>(r->best_epoch));
      std::printf("outputs in %s (%s)\n", a->req.out_dir.c_str(),
                  r->method == "lora" ? "adapter_model.safetensors, adapter_config.json" : "model/");
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
