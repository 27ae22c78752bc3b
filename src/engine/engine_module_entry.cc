// The exported entry of liblathe_engine.so: the table of its torch-needing functions
// (engine_module.h). Everything else in the module is hidden (-fvisibility=hidden and
// --exclude-libs), so its copies of core/text/data never meet build/lathe's.
#include "engine/engine_module.h"

extern "C" __attribute__((visibility("default"))) const lathe::engine::EngineModuleApi* lathe_engine_module_api() {
  using namespace lathe::engine;
  static const EngineModuleApi api = [] {
    EngineModuleApi a;
    a.fingerprint = EngineModuleFingerprint();
    a.load_language_model = &LanguageModel::Load;
    a.configure_threads = &ConfigureThreads;
    a.train = &Train;
    return a;
  }();
  return &api;
}
