// `lathe worker`'s object-store keys (src/cli/worker_cmd.cc over server/credentials.h's
// LoadCredentials): found as `lathe serve` finds its own, but read only — a worker without keys
// refuses to start and leaves no credentials file behind; malformed keys are an error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"

namespace lathe {
namespace {

using testing::RunLatheBinary;
using testing::TempDir;

// The worker inherits this process's environment: no keys in it while a test runs.
class WorkerKeysCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kKeyVariables) {
      const char* value = std::getenv(name);
      saved_.push_back(value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (size_t i = 0; i < saved_.size(); ++i)
      if (saved_[i]) ::setenv(kKeyVariables[i], saved_[i]->c_str(), 1);
  }
  // A worker that stops before it reaches any store or object store (none listen there).
  int Worker(const std::string& more, std::string* err) {
    std::string out;
    return RunLatheBinary("worker --store postgresql://lathe@127.0.0.1:1/lathe --object-store http://127.0.0.1:9 "
                          "--data-dir " + data_ + " " + more,
                          &out, err);
  }
  static constexpr const char* kKeyVariables[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "LATHE_ACCESS_KEY_ID",
                                                  "LATHE_SECRET_ACCESS_KEY"};
  std::vector<std::optional<std::string>> saved_;
  TempDir dir_;
  std::string data_ = dir_.path() + "/worker-data";
};

TEST_F(WorkerKeysCli, AWorkerWithoutKeysRefusesToStartAndMakesNone) {
  std::string err;
  EXPECT_EQ(Worker("", &err), 1);
  EXPECT_NE(err.find("--object-store needs keys"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/credentials.json"));  // lathe serve would have made one
}

TEST_F(WorkerKeysCli, MalformedKeysInTheConfigAreAnErrorNotSkipped) {
  std::string err;
  EXPECT_EQ(Worker("--config " + dir_.Write("lathe.json", R"({"accessKeyId": 7, "secretAccessKey": "s"})"), &err), 1);
  EXPECT_NE(err.find("expected {\"accessKeyId\""), std::string::npos) << err;
  EXPECT_EQ(Worker("--config " + dir_.Write("half.json", R"({"accessKeyId": "ONLY"})"), &err), 1);
  EXPECT_NE(err.find("expected {\"accessKeyId\""), std::string::npos) << err;
}

}  // namespace
}  // namespace lathe
