// The job runner's long steps run in worker processes that a Stop, or the server shutting down,
// interrupts within seconds: building the built-in default model on a job's first use took
// minutes in the server's own thread, and neither StopModelCustomizationJob nor SIGTERM could end it.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::TempDir;
using Clock = std::chrono::steady_clock;

class DefaultModelBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.model_aliases = DefaultModelAliases();  // lathe.default-v1 is not configured: it must be built
    config.file_roots = {dir_.path()};
    config.worker_binary = LATHE_BINARY;
    auto opened = BedrockService::Open(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    const std::string train = dir_.Write("train.jsonl", R"({"prompt": "a", "completion": "b"})" "\n");
    auto created = bedrock_->jobs().Create({{"jobName", "needs-default"},
                                            {"customModelName", "needs-default-model"},
                                            {"roleArn", "arn:aws:iam::123456789012:role/r"},
                                            {"baseModelIdentifier", "amazon.titan-text-express-v1"},
                                            {"trainingDataConfig", {{"s3Uri", "file://" + train}}},
                                            {"outputDataConfig", {{"s3Uri", "file://" + dir_.path() + "/out"}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    arn_ = (*created)["jobArn"];
    // Wait until the runner is building the default model (the data-processing phase).
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline && Phase("dataProcessingDetails") != "InProgress")
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(Phase("dataProcessingDetails"), "InProgress");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the build is under way
  }
  std::string Phase(const char* phase) {
    auto job = bedrock_->jobs().Get(arn_);
    return job.ok() ? (*job)["statusDetails"][phase].value("status", "") : "";
  }
  TempDir dir_;
  std::unique_ptr<BedrockService> bedrock_;
  std::string arn_;
};

TEST_F(DefaultModelBuild, AStopEndsTheBuildWithinSeconds) {
  const auto stop = Clock::now();
  ASSERT_TRUE(bedrock_->jobs().Stop(arn_).ok());
  std::string status;
  while (Clock::now() - stop < std::chrono::seconds(20)) {
    status = (*bedrock_->jobs().Get(arn_))["status"];
    if (status == "Stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, "Stopped");  // SIGINT, then SIGKILL after 4 s; the build took minutes before
}

TEST_F(DefaultModelBuild, ShuttingDownTheServiceDoesNotWaitForTheBuild) {
  const auto start = Clock::now();
  bedrock_.reset();  // what SIGTERM to lathe serve does
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));  // the build alone takes minutes
  // The job stays InProgress: it resumes (and the build with it) on the next start.
  ServiceConfig config;
  config.data_dir = dir_.path() + "/data";
  auto db = store::MetadataStore::Open(config.data_dir + "/lathe.db");
  ASSERT_TRUE(db.ok());
  auto row = (*db)->Find("job", arn_);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "InProgress");
}

}  // namespace
}  // namespace lathe::service
