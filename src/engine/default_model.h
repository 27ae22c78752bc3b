// The built-in default foundation model: a small Llama trained here, from nothing, on English text
// that Debian ships under permissive licenses (WordNet, the fortunes collection) and on questions
// and answers generated from WordNet (data/default_corpus.h). `lathe models build-default`, or
// `lathe serve` at start-up, makes it once into the data directory; the demo fine-tunes it.
// Deterministic for a machine: fixed corpus, seeds, and step count. Torch-free interface.
// docs/default-model.md has the recipe and its figures.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "engine/model_config.h"

namespace lathe::engine {

struct DefaultModelProgress {
  std::string stage;     // "corpus", "tokenizer", "pretraining"
  double fraction = 0;   // of the stage, in [0, 1]
  std::string detail;    // e.g. "step 120/900, loss 3.1, 9000 tok/s, ETA 200s"
  double eta_seconds = -1;  // until the whole build ends (-1: not known yet)
};

// The recipes: "v2" (the default: questions and answers in the corpus) and "v1" (the first
// recipe: glosses and fortunes only, a smaller budget), kept to compare the two on the same
// held-out text (bench/bench_default_model.py).
inline constexpr const char* kDefaultRecipe = "v2";

struct DefaultModelOptions {
  std::string data_dir;          // the model lands in data_dir/models/lathe-default
  std::string recipe = kDefaultRecipe;
  uint64_t max_train_records = 0;  // 0: the recipe's (about 4 minutes here); fewer: faster, weaker
  std::function<void(const DefaultModelProgress&)> progress;
  // Set: the build stops at the next training step (or while waiting for another builder's lock)
  // with Unsupported "interrupted"; its checkpoints stay and the next build resumes from them.
  const std::atomic<bool>* stop = nullptr;
};

struct DefaultModelInfo {
  std::string dir;
  bool built_now = false;        // false: it was already there
  double heldout_perplexity = 0;  // of the held-out text, per token of its tokenizer
  uint64_t corpus_records = 0, corpus_bytes = 0;
};

// The default model's architecture (its config.json once built): what serving it will cost is
// known before it is built.
ModelConfig DefaultModelConfig();

// The folder where lathe keeps its data: $LATHE_HOME, else $XDG_DATA_HOME/lathe, else
// ~/.local/share/lathe.
std::string DefaultDataDir();

// Where the default model is, or will be once built: data_dir ("" = DefaultDataDir())/models/lathe-default.
std::string DefaultModelDir(const std::string& data_dir);
// The default model's folder under data_dir ("" = DefaultDataDir()) if it is completely built,
// else "". Never builds.
std::string BuiltDefaultModelDir(const std::string& data_dir);
// Builds the default model unless it exists; resumes an interrupted build. The model folder also
// holds the text no training step saw: lathe_heldout.jsonl ({"input"}: what heldoutPerplexity is
// measured on) and lathe_heldout_questions.jsonl ({"prompt", "completion"}).
// While another process builds it, waits, passing that build's progress to options.progress.
Result<DefaultModelInfo> EnsureDefaultModel(const DefaultModelOptions& options);

// Where the default model's build stands, read from the data directory (any process).
struct DefaultModelStatus {
  std::string state;  // "built", "building", "interrupted" (stopped part-way: the next build resumes), "absent"
  std::string dir;
  DefaultModelProgress progress;  // building or interrupted: the newest progress the build wrote
  double elapsed_seconds = 0;     // building: since it started
  double heldout_perplexity = 0;  // built
};
DefaultModelStatus ReadDefaultModelStatus(const std::string& data_dir);

}  // namespace lathe::engine
