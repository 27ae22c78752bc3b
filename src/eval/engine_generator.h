// A Generator over a local model directory, through the engine (liblathe_engine.so, loaded on
// first use): cases batched into one Generate call each, prompts rendered as InvokeModel renders
// them (a "prompt" verbatim, as Titan's inputText; "messages" in the model's chat format with the
// format's end markers as stop sequences), and the reference's teacher-forced loss from Logits.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::engine {
class LanguageModel;
}

namespace lathe::eval {

// How a batch runs on the machine: split into EvalWorkers() contiguous shards (fewer for a smaller
// batch; one runs unsharded), each an engine call on its own instance over the same weights, in
// parallel. LATHE_EVAL_WORKERS (1..kMaxEvalWorkers) sets it; else min(cores, kDefaultEvalWorkers):
// sharding pays for small models, whose decode leaves cores idle, and tensor operations get the
// rest of the cores (EvalThreadsPerWorker) so a large model still uses the whole machine.
// Answers do not depend on it (each case samples from its own seed, CaseSeed).
inline constexpr size_t kDefaultEvalWorkers = 4;
inline constexpr size_t kMaxEvalWorkers = 64;
size_t EvalWorkers();
// Threads for tensor operations per worker: max(1, cores / EvalWorkers()); `lathe eval run` sets
// LATHE_THREADS to it unless the user set LATHE_THREADS.
int EvalThreadsPerWorker();

Result<std::shared_ptr<Generator>> LoadEngineGenerator(const std::string& model_dir);
// Over a model already loaded (the server's pools, tests); the caller keeps it alive.
std::shared_ptr<Generator> EngineGenerator(std::shared_ptr<engine::LanguageModel> model);

}  // namespace lathe::eval
