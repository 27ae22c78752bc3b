// The loader of the engine module (engine/engine_module.h). Here, not in tests/engine: the
// engine's tests link the torch code itself, while the service (like build/lathe) reaches it
// through the loader.
#include "engine/engine_module.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "test_util.h"

namespace lathe::engine {
namespace {

using testing::TempDir;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(EngineModule, AMissingFileIsNamed) {
  TempDir tmp;
  auto r = LoadEngineModule(tmp.File("liblathe_engine.so"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), tmp.File("liblathe_engine.so") + " (lathe's libtorch code) does not exist"))
      << r.status().ToString();
}

TEST(EngineModule, AFileThatIsNoLibraryIsNamedWithTheLoadersReason) {
  TempDir tmp;
  const std::string path = tmp.Write("liblathe_engine.so", "not an ELF file");
  auto r = LoadEngineModule(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "cannot load the engine module " + path + ": ")) << r.status().ToString();
  EXPECT_TRUE(Has(r.status().message(), "LATHE_ENGINE_MODULE")) << r.status().ToString();
}

TEST(EngineModule, ALibraryWithoutTheEntryIsRefused) {
  // A shared object that is surely there and is not the module: this process's libc.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&::getpid), &info), 0);
  const std::string libc = info.dli_fname;
  auto r = LoadEngineModule(libc);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), libc + " lacks its entry lathe_engine_module_api")) << r.status().ToString();
}

TEST(EngineModule, TheEnvironmentVariableIsTheOnlyPlaceWhenSet) {
  ::setenv("LATHE_ENGINE_MODULE", "/elsewhere/liblathe_engine.so", 1);
  auto paths = EngineModuleCandidates();
  ::unsetenv("LATHE_ENGINE_MODULE");
  EXPECT_EQ(paths, std::vector<std::string>{"/elsewhere/liblathe_engine.so"});
  for (const auto& path : EngineModuleCandidates()) EXPECT_TRUE(Has(path, "/liblathe_engine.so")) << path;
}

TEST(EngineModule, TheBuiltModuleLoadsAndMatchesThisBuild) {
  auto r = EngineModule();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->fingerprint, EngineModuleFingerprint());
  EXPECT_NE((*r)->load_language_model, nullptr);
  EXPECT_NE((*r)->train, nullptr);
  // Through the forwarder: a folder without a model is the module's error, not the loader's.
  TempDir tmp;
  auto model = LanguageModel::Load(tmp.path());
  ASSERT_FALSE(model.ok());
  EXPECT_TRUE(Has(model.status().message(), tmp.path())) << model.status().ToString();
  EXPECT_FALSE(Has(model.status().message(), "engine module")) << model.status().ToString();
}

}  // namespace
}  // namespace lathe::engine
