// Bedrock's job state changes reach the store's outbox as AWS's "Model Customization Job State
// Change" events, in the same transaction as the change (the EventBridge issue consumes them).
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

TEST(JobEvents, EveryStatusChangeIsPublishedWithTheJobsRegionAndFields) {
  TempDir dir;
  ServiceConfig config;
  config.data_dir = dir.path() + "/data";
  config.model_aliases = DefaultModelAliases();
  config.models[kDefaultModelId] = dir.path() + "/no-model";  // never built: the job cannot train
  config.file_roots = {dir.path()};
  auto opened = BedrockService::Open(config);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  BedrockService& bedrock = **opened;
  const std::string train = dir.Write("train.jsonl", R"({"prompt": "a", "completion": "b"})" "\n");
  auto created = bedrock.jobs().Create(
      {{"jobName", "events-job"},
       {"customModelName", "events-model"},
       {"roleArn", "arn:aws:iam::123456789012:role/r"},
       {"baseModelIdentifier", "amazon.titan-text-express-v1"},
       {"trainingDataConfig", {{"s3Uri", "file://" + train}}},
       {"outputDataConfig", {{"s3Uri", "file://" + dir.path() + "/out"}}}},
      "ap-south-1");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = (*created)["jobArn"];
  EXPECT_EQ(ArnRegion(arn), "ap-south-1");
  (void)bedrock.jobs().Stop(arn);  // queued or running: it ends either way

  std::string final_status;
  for (int i = 0; i < 200 && (final_status.empty() || final_status == "InProgress" || final_status == "Stopping"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    final_status = (*bedrock.jobs().Get(arn))["status"];
  }
  ASSERT_TRUE(final_status == "Stopped" || final_status == "Failed") << final_status;

  auto events = bedrock.store()->EventsAfter(0, 100);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_GE(events->size(), 2u);
  const store::OutboxEvent& first = events->front();
  EXPECT_EQ(first.source, "aws.bedrock");
  EXPECT_EQ(first.detail_type, "Model Customization Job State Change");
  EXPECT_EQ(first.region, "ap-south-1");
  EXPECT_EQ(first.resources, std::vector<std::string>{arn});
  EXPECT_EQ(first.detail["jobStatus"], "InProgress");
  EXPECT_EQ(first.detail["jobName"], "events-job");
  EXPECT_EQ(first.detail["jobArn"], arn);
  EXPECT_EQ(first.detail["outputModelName"], "events-model");
  EXPECT_FALSE(first.detail.contains("_trainFile"));  // lathe's private keys stay private
  // The last event is the status the job ended in; each event is a change from the one before.
  EXPECT_EQ(events->back().detail["jobStatus"], final_status);
  for (size_t i = 1; i < events->size(); ++i)
    EXPECT_NE((*events)[i].detail["jobStatus"], (*events)[i - 1].detail["jobStatus"]);
}

}  // namespace
}  // namespace lathe::service
