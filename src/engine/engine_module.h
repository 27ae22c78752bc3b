// The engine's torch code lives in a module, liblathe_engine.so, that build/lathe dlopen()s the
// first time it needs it; data, client and gateway commands never load libtorch (its ~0.7 s and
// ~250 MB of start-up: docs/startup-bench.md). This is the one table the module hands over: the
// free functions of the engine's headers that need torch. Objects it creates (LanguageModel) are
// used through their virtual methods, so a new virtual method needs no entry here; a new free
// function or static factory that needs torch does (add it here, in engine_module_entry.cc and a
// forwarder in engine_module_loader.cc). Internal to the engine; torch-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/language_model.h"
#include "engine/trainer.h"

namespace lathe::engine {

struct EngineModuleApi {
  // The build that made the module (kEngineModuleAbi and sizes of what crosses the boundary):
  // a liblathe_engine.so from another build is refused with a message instead of crashing.
  uint64_t fingerprint = 0;
  Result<std::unique_ptr<LanguageModel>> (*load_language_model)(const std::string& dir) = nullptr;
  void (*configure_threads)() = nullptr;
  Result<TrainSummary> (*train)(const TrainRequest& request,
                                const std::function<void(const TrainProgress&)>& on_progress,
                                const std::atomic<bool>* stop) = nullptr;
};

// Bump when EngineModuleApi or a type passed through it changes in a way sizes do not show.
inline constexpr uint64_t kEngineModuleAbi = 3;  // 3: LanguageModel::WithWeightPrecision

constexpr uint64_t EngineModuleFingerprint() {
  uint64_t h = kEngineModuleAbi;
  for (uint64_t size : {sizeof(EngineModuleApi), sizeof(LanguageModel), sizeof(ModelConfig), sizeof(GenerationOptions),
                        sizeof(GenerationResult), sizeof(TrainRequest), sizeof(TrainProgress), sizeof(TrainSummary),
                        sizeof(Status)})
    h = h * 1000003u + size;
  return h;
}

// The module's only exported symbol: extern "C" const EngineModuleApi* lathe_engine_module_api().
inline constexpr const char* kEngineModuleEntry = "lathe_engine_module_api";
using EngineModuleEntry = const EngineModuleApi* (*)();

// The module's file name, looked for (in this order) at $LATHE_ENGINE_MODULE when set (and then
// only there), beside the running executable, then where the build put it.
inline constexpr const char* kEngineModuleFile = "liblathe_engine.so";

// Loads the module from `path` (no caching: see EngineModule() in engine_module_loader.cc for the
// process-wide one). Errors name the path and say what was wrong with it.
Result<const EngineModuleApi*> LoadEngineModule(const std::string& path);

// The paths EngineModule() tries, in order.
std::vector<std::string> EngineModuleCandidates();

// The process's module, loaded on first call (thread-safe); later calls return the same result.
Result<const EngineModuleApi*> EngineModule();

}  // namespace lathe::engine
