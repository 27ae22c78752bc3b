// build/lathe does not link libtorch: only the commands that load or train a model dlopen() the
// engine module (liblathe_engine.so), and `lathe serve` only when its first model loads
// (docs/engine.md, "The engine module"). Checked on the real binary, by what the dynamic loader
// reports (LD_DEBUG=files) and by what a running server has mapped (/proc/PID/maps).
#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "serve_process.h"
#include "test_util.h"

namespace lathe {
namespace {

using testing::ReadFile;
using testing::RunLatheBinary;
using testing::ServeProcess;
using testing::SharedDir;
using testing::TempDir;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The libraries that come with the engine module and must not load without it.
const char* const kTorchLibraries[] = {"liblathe_engine.so", "libtorch", "libc10", "libgomp", "openblas"};

std::string LoadedTorchLibraries(const std::string& loader_report) {
  std::string found;
  for (const char* lib : kTorchLibraries)
    if (Has(loader_report, lib)) found += std::string(found.empty() ? "" : ", ") + lib;
  return found;
}

// Runs build/lathe with LD_DEBUG=files, which makes the dynamic loader list on stderr every
// library it opens (at start-up and by dlopen).
int RunWithLoaderReport(const std::string& args, std::string* out, std::string* report) {
  ::setenv("LD_DEBUG", "files", 1);
  const int code = RunLatheBinary(args, out, report);
  ::unsetenv("LD_DEBUG");
  return code;
}

class LoaderReport : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("LATHE_ENGINE_MODULE"); }
};

TEST_F(LoaderReport, HelpAndDataCommandsNeverLoadTorch) {
  TempDir tmp;
  std::string records;
  for (int i = 0; i < 3; ++i)
    records += nlohmann::json{{"prompt", "Q" + std::to_string(i)}, {"completion", " A"}}.dump() + "\n";
  const std::string file = tmp.Write("small.jsonl", records);
  for (const std::string& args : {std::string("--help"), "data validate --allow-small " + file, "data stats " + file}) {
    std::string out, report;
    ASSERT_EQ(RunWithLoaderReport(args, &out, &report), 0) << args << "\n" << report;
    ASSERT_TRUE(Has(report, "libstdc++")) << "LD_DEBUG=files reported nothing for " << args << ":\n" << report;
    EXPECT_EQ(LoadedTorchLibraries(report), "") << "lathe " << args << " loaded them";
  }
}

// `lathe models import` of ../shared's stories260K into `dir` (a torch-free command); its exit code.
int ImportStories(const std::string& dir, std::string* err) {
  const std::string src = SharedDir() + "/models/stories260K";
  std::string out;
  return RunLatheBinary("models import " + src + "/stories260K.bin --tokenizer " + src + "/tok512.model --out " + dir,
                        &out, err);
}

// `lathe models add` checks a folder by its headers: no torch, and the model it records is served.
TEST_F(LoaderReport, ModelsAddIsTorchFree) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  std::string out, report;
  ASSERT_EQ(ImportStories(tmp.File("m"), &report), 0) << report;
  ASSERT_EQ(RunWithLoaderReport("models add stories " + tmp.File("m") + " --data-dir " + tmp.File("data") +
                                    " --bedrock-id amazon.titan-text-express-v1 --json",
                                &out, &report),
            0)
      << report;
  EXPECT_EQ(LoadedTorchLibraries(report), "") << "models add loaded them";
  auto added = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(added.is_object()) << out;
  EXPECT_EQ(added.value("modelArchitecture", ""), "llama");
  EXPECT_TRUE(Has(added.value("modelArn", ""), ":imported-model/")) << out;
  // The same name again is refused, as CreateModelImportJob refuses it; so is a hostile id.
  std::string err;
  EXPECT_EQ(RunLatheBinary("models add stories " + tmp.File("m") + " --data-dir " + tmp.File("data"), &out, &err), 1);
  EXPECT_TRUE(Has(err, "already exists")) << err;
  EXPECT_EQ(RunLatheBinary("models add other " + tmp.File("m") + " --data-dir " + tmp.File("data") +
                               " --bedrock-id ../evil",
                           &out, &err),
            1);
  EXPECT_TRUE(Has(err, "Bedrock model id")) << err;
}

TEST_F(LoaderReport, GenerateLoadsTheModuleWithTorch) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string model = tmp.File("m");
  std::string out, report;
  ASSERT_EQ(ImportStories(model, &report), 0) << report;
  EXPECT_EQ(LoadedTorchLibraries(report), "") << "models import is torch-free";
  ASSERT_EQ(RunWithLoaderReport("generate --model " + model + " --prompt 'Once upon a time' --max-tokens 8", &out,
                                &report), 0) << report;
  EXPECT_TRUE(Has(report, "liblathe_engine.so")) << report;
  EXPECT_TRUE(Has(report, "libtorch")) << report;
  EXPECT_FALSE(out.empty());
}

TEST(EngineModule, AMissingModuleIsNamedWithWhereItComesFrom) {
  TempDir tmp;
  const std::string missing = tmp.File("nowhere/liblathe_engine.so");
  ::setenv("LATHE_ENGINE_MODULE", missing.c_str(), 1);
  std::string out, err;
  const int code = RunLatheBinary("generate --model " + tmp.File("model") + " --prompt hi", &out, &err);
  ::unsetenv("LATHE_ENGINE_MODULE");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(err, "cannot find the engine module liblathe_engine.so (lathe's libtorch code); looked at " +
                  missing + ";")) << err;
  EXPECT_TRUE(Has(err, "scripts/setup.sh")) << err;
}

TEST(ServeEngineModule, LoadsOnlyWithTheFirstModel) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string model = tmp.File("m");
  std::string out, err;
  ASSERT_EQ(ImportStories(model, &err), 0) << err;
  const std::string config = tmp.Write("serve.json", nlohmann::json{{"models", {{"lathe.stories", model}}}}.dump());
  // No keys: --no-auth.
  ServeProcess server({.data_dir = tmp.File("data"), .config = config});
  ASSERT_FALSE(server.url().empty()) << ReadFile(tmp.File("data-serve.log"));
  const std::string endpoint = " --endpoint " + server.url();

  ASSERT_EQ(RunLatheBinary("models list" + endpoint, &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, "lathe.stories")) << out;
  EXPECT_EQ(LoadedTorchLibraries(server.Maps()), "") << "a server that has loaded no model mapped them";

  ASSERT_EQ(RunLatheBinary("invoke lathe.stories 'Once upon a time' --max-tokens 4" + endpoint, &out, &err), 0) << err;
  EXPECT_TRUE(Has(server.Maps(), "/liblathe_engine.so")) << "invoking the model loaded no engine module";
}

}  // namespace
}  // namespace lathe
