// The torch-free side of the engine module (engine_module.h): finds and dlopen()s
// liblathe_engine.so on first use, and forwards the engine's torch-needing free functions to it.
// Linked into build/lathe in place of the torch code (lathe_engine_client in CMakeLists.txt).
#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include "engine/engine_module.h"

namespace lathe::engine {
namespace {

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

const char* kHowToGetIt =
    "it is built beside build/lathe by scripts/setup.sh (or `cmake --build build --target lathe_engine_module`); "
    "LATHE_ENGINE_MODULE may name it";

}  // namespace

Result<const EngineModuleApi*> LoadEngineModule(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Status::Internal("the engine module " + path + " (lathe's libtorch code) does not exist; " + kHowToGetIt);
  // RTLD_LOCAL: libtorch and its protobuf stay out of the global symbol scope (see text/spm_shim).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    return Status::Internal("cannot load the engine module " + path + ": " + dlerror() + "; " + kHowToGetIt);
  auto entry = reinterpret_cast<EngineModuleEntry>(dlsym(handle, kEngineModuleEntry));
  const EngineModuleApi* api = entry != nullptr ? entry() : nullptr;
  if (api == nullptr || api->fingerprint != EngineModuleFingerprint()) {
    dlclose(handle);
    return Status::Internal("the engine module " + path +
                            (api == nullptr ? std::string(" lacks its entry ") + kEngineModuleEntry
                                            : std::string(" comes from another build of lathe")) +
                            "; rebuild it together with the lathe executable (" + kHowToGetIt + ")");
  }
  return api;  // never unloaded: objects it made may live until exit
}

std::vector<std::string> EngineModuleCandidates() {
  if (const char* env = std::getenv("LATHE_ENGINE_MODULE"); env != nullptr && *env != '\0') return {env};
  std::vector<std::string> paths;
  if (std::string dir = ExecutableDir(); !dir.empty()) paths.push_back(dir + "/" + kEngineModuleFile);
  if (paths.empty() || paths[0] != LATHE_ENGINE_MODULE_PATH) paths.push_back(LATHE_ENGINE_MODULE_PATH);
  return paths;
}

Result<const EngineModuleApi*> EngineModule() {
  static std::once_flag once;
  static Result<const EngineModuleApi*> loaded = Status::Internal("not loaded");
  std::call_once(once, [] {
    std::string tried;
    for (const std::string& path : EngineModuleCandidates()) {
      std::error_code ec;
      const bool exists = std::filesystem::exists(path, ec);
      loaded = LoadEngineModule(path);
      // A module that exists but fails is the answer (a broken install should say so); a missing
      // one lets the next place be tried.
      if (loaded.ok() || exists) return;
      tried += (tried.empty() ? "" : ", ") + path;
    }
    loaded = Status::Internal(std::string("cannot find the engine module ") + kEngineModuleFile +
                              " (lathe's libtorch code); looked at " + tried + "; " + kHowToGetIt);
  });
  return loaded;
}

// The engine's torch-needing functions, as build/lathe sees them.

Result<std::unique_ptr<LanguageModel>> LanguageModel::Load(const std::string& dir) {
  auto module = EngineModule();
  if (!module.ok()) return module.status();
  return (*module)->load_language_model(dir);
}

void ConfigureThreads() {
  // Without the module there is no torch to configure; whatever needs it next reports why.
  if (auto module = EngineModule(); module.ok()) (*module)->configure_threads();
}

Result<TrainSummary> Train(const TrainRequest& request, const std::function<void(const TrainProgress&)>& on_progress,
                           const std::atomic<bool>* stop) {
  auto module = EngineModule();
  if (!module.ok()) return module.status();
  return (*module)->train(request, on_progress, stop);
}

}  // namespace lathe::engine
