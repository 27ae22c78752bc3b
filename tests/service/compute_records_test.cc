// What `lathe costs` reads is recorded where the work happens: a customization job's row carries
// its worker's compute and the tokens the trainer counted; on-demand requests are counted per
// model and day (UsageMeter) and flushed; a deleted provisioned throughput leaves its held time.
// On the real stories260K model and the real `lathe train` worker.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/arn.h"
#include "service/bedrock_service.h"
#include "service/usage_meter.h"
#include "stories_service.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::ReadFile;
using lathe::testing::TempDir;
using Clock = std::chrono::steady_clock;

// (StoriesService: the real stories260K model and `lathe train` worker.)
class ComputeRecords : public StoriesService {};

TEST_F(ComputeRecords, AJobsRowCarriesItsComputeAndTheTokensTrained) {
  std::string data;
  for (int i = 0; i < 8; ++i)
    data += R"({"prompt": "Once upon a time there was a cat", "completion": " who liked to play in the sun."})" "\n";
  const std::string train = dir_.Write("train.jsonl", data);
  auto created = bedrock_->jobs().Create({{"jobName", "costed"},
                                          {"customModelName", "costed-model"},
                                          {"roleArn", "arn:aws:iam::123456789012:role/r"},
                                          {"baseModelIdentifier", "test.stories"},
                                          {"hyperParameters", {{"epochCount", "2"}, {"batchSize", "4"}}},
                                          {"trainingDataConfig", {{"s3Uri", "file://" + train}}},
                                          {"outputDataConfig", {{"s3Uri", "file://" + dir_.path() + "/out"}}}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  json job;
  for (const auto deadline = Clock::now() + std::chrono::seconds(120); Clock::now() < deadline;) {
    job = *bedrock_->jobs().Get((*created)["jobArn"]);
    if (job["status"] != "InProgress") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(job["status"], "Completed") << job.dump(2);
  const json& c = job["latheCompute"];
  EXPECT_EQ(c["workers"], 1);
  EXPECT_GT(c["cpuMs"].get<int64_t>(), 0);
  EXPECT_GT(c["wallMs"].get<int64_t>(), 0);
  // Exactly what the trainer counted (its summary), over both epochs.
  const std::string id = job["jobArn"].get<std::string>().substr(job["jobArn"].get<std::string>().rfind('/') + 1);
  const json summary = json::parse(ReadFile(dir_.path() + "/data/jobs/" + id + "/run/training_summary.json"));
  EXPECT_GT(summary["trainedTokens"].get<uint64_t>(), 0u);
  EXPECT_EQ(c["trainedTokens"], summary["trainedTokens"]);
  EXPECT_EQ(c["epochs"], summary["epochsRun"]);
}

TEST_F(ComputeRecords, OnDemandTokensAreCountedPerModelAndFlushed) {
  for (int i = 0; i < 2; ++i) {
    auto answer = bedrock_->runtime().Invoke("test.stories", R"({"inputText": "Once upon a time",
        "textGenerationConfig": {"maxTokenCount": 12, "temperature": 0}})");
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  }
  store::MetadataStore* db = bedrock_->store();
  const std::string id = "on-demand/" + Iso8601(NowMillis()).substr(0, 10) + "/test.stories";
  std::optional<store::ResourceRow> row;
  for (const auto deadline = Clock::now() + std::chrono::seconds(20); Clock::now() < deadline && !row;) {
    if (auto found = db->Find(kUsageKind, id); found.ok()) row = *found;
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(row) << "no usage row " << id << " after the flush interval";
  EXPECT_EQ(row->doc["what"], "on-demand");
  EXPECT_EQ(row->doc["requests"], 2);
  EXPECT_GT(row->doc["inputTokens"].get<int64_t>(), 0);
  EXPECT_GT(row->doc["outputTokens"].get<int64_t>(), 0);
  EXPECT_LE(row->doc["outputTokens"].get<int64_t>(), 2 * 13);  // maxTokenCount each (and an end token)
}

TEST_F(ComputeRecords, DeletingAProvisionedThroughputKeepsItsHeldTime) {
  auto created = bedrock_->throughput().Create({{"provisionedModelName", "held"}, {"modelId", "test.stories"}, {"modelUnits", 2}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = (*created)["provisionedModelArn"];
  ASSERT_TRUE(bedrock_->throughput().Delete(arn).ok());
  auto row = bedrock_->store()->Find(kUsageKind, "provisioned-throughput/" + arn.substr(arn.rfind('/') + 1));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->doc["provisionedModelName"], "held");
  EXPECT_EQ(row->doc["provisionedModelArn"], arn);
  EXPECT_EQ(row->doc["modelUnits"], 2);
  EXPECT_EQ(row->doc["foundationModelArn"], "arn:aws:bedrock:us-east-1::foundation-model/test.stories");
  EXPECT_LE(row->doc["createdMs"].get<int64_t>(), row->doc["deletedMs"].get<int64_t>());
  EXPECT_FALSE(bedrock_->throughput().Get(arn).ok());  // the throughput itself is gone
}

TEST(UsageMeter, FlushesAddUpAndTooManyModelsShareOneCount) {
  TempDir dir;
  auto db = store::MetadataStore::Open(dir.File("lathe.db"));
  ASSERT_TRUE(db.ok());
  const int64_t day = ParseIso8601("2026-12-02T10:00:00Z");
  UsageMeter meter(db->get(), [&] { return day; });
  meter.RecordOnDemand("amazon.titan-text-express-v1", 10, 20, 5);
  meter.RecordOnDemand("amazon.titan-text-express-v1", 1, 2, 1);
  ASSERT_TRUE(meter.Flush().ok());
  meter.RecordOnDemand("amazon.titan-text-express-v1", 100, 200, 50);
  ASSERT_TRUE(meter.Flush().ok());
  auto row = (*db)->Find(kUsageKind, "on-demand/2026-12-02/amazon.titan-text-express-v1");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->doc["requests"], 3);
  EXPECT_EQ(row->doc["inputTokens"], 111);
  EXPECT_EQ(row->doc["outputTokens"], 222);
  EXPECT_EQ(row->doc["computeMs"], 56);
  // Hostile or endless model names cannot grow memory without bound between flushes.
  for (size_t i = 0; i < kMaxMeteredModels + 50; ++i) meter.RecordOnDemand("m" + std::to_string(i), 1, 1, 0);
  ASSERT_TRUE(meter.Flush().ok());
  auto rows = (*db)->List(kUsageKind);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1 + kMaxMeteredModels + 1);  // titan, the first 256, and the rest together
  auto other = (*db)->Find(kUsageKind, std::string("on-demand/2026-12-02/") + kOtherModels);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->doc["requests"], 50);
}

TEST(UsageMeter, ADeletedThroughputLeavesItsHeldTime) {
  store::ResourceRow pt{"provisioned-model", "abc123", "my-pt", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123",
                        "InService", 1000, {{"modelUnits", 2}, {"foundationModelArn", "arn:aws:bedrock:us-east-1::foundation-model/x"}}};
  const store::ResourceRow u = EndedThroughputUsage(pt, 5000);
  EXPECT_EQ(u.kind, kUsageKind);
  EXPECT_EQ(u.id, "provisioned-throughput/abc123");
  EXPECT_EQ(u.doc["modelUnits"], 2);
  EXPECT_EQ(u.doc["createdMs"], 1000);
  EXPECT_EQ(u.doc["deletedMs"], 5000);
  EXPECT_EQ(u.doc["provisionedModelName"], "my-pt");
}

}  // namespace
}  // namespace lathe::service
