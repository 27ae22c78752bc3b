// The built-in default foundation model: a small Llama trained here, from nothing, on English text
// that Debian ships under permissive licenses (WordNet glosses, the fortunes collection).
// `lathe models build-default` makes it once into the data directory; the demo fine-tunes it.
// Deterministic for a machine: fixed corpus order, seeds, and step count. Torch-free interface.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "engine/model_config.h"

namespace lathe::engine {

struct DefaultModelOptions {
  std::string data_dir;          // the model lands in data_dir/models/lathe-default
  uint64_t max_train_records = 48000;  // bounds the pretraining time (2-4 minutes here)
  // Stage text ("corpus", "tokenizer", "pretraining") and progress in [0, 1].
  std::function<void(const std::string& stage, double fraction, const std::string& detail)> progress;
};

struct DefaultModelInfo {
  std::string dir;
  bool built_now = false;        // false: it was already there
  double heldout_perplexity = 0;
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
// Builds the default model unless it exists; resumes an interrupted build.
Result<DefaultModelInfo> EnsureDefaultModel(const DefaultModelOptions& options);

}  // namespace lathe::engine
