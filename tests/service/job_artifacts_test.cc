// A worker's checkpoints and models in the artifact bucket (JobArtifacts), over S3 in memory: the
// objects always hold one whole checkpoint, a resuming worker gets the newest, and a model record
// read back from the store is checked like any untrusted input.
#include "service/job_artifacts.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/env.h"
#include "fake_object_store.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;
using nlohmann::json;

constexpr char kAccount[] = "123456789012";
constexpr char kBucket[] = "lathe-artifacts";

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, text).ok());
}

std::string Read(const std::string& path) {
  std::string text;
  EXPECT_TRUE(ReadFileToString(Env::Default(), path, &text).ok()) << path;
  return text;
}

// What the trainer leaves in run/checkpoint after writing generation g.
void TrainerCheckpoint(const std::string& dir, int g) {
  for (const char* part : {"params", "optim", "best", "rng"})
    Write(dir + "/" + part + "-" + std::to_string(g) + ".pt", std::string(part) + " of " + std::to_string(g));
  for (const char* part : {"params", "optim", "best", "rng"}) fs::remove(dir + "/" + part + "-" + std::to_string(g - 1) + ".pt");
  Write(dir + "/state.json", json{{"generation", g}, {"epoch", g}}.dump());
}

class JobArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override { s3_.owners[kBucket] = kAccount; }
  std::string Object(const std::string& key) {
    auto it = s3_.objects.find({kBucket, key});
    return it == s3_.objects.end() ? "<none>" : it->second;
  }
  TempDir tmp_;
  FakeObjectStore s3_;
  JobArtifacts artifacts_{&s3_, kBucket, kAccount, tmp_.path() + "/scratch"};
};

TEST_F(JobArtifactsTest, EachNewCheckpointReplacesThePreviousOneWhole) {
  const std::string dir = tmp_.path() + "/run/checkpoint";
  int64_t uploaded = 0;
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());  // nothing yet
  EXPECT_TRUE(s3_.objects.empty());
  TrainerCheckpoint(dir, 1);
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());
  EXPECT_EQ(uploaded, 1);
  EXPECT_EQ(Object("checkpoints/job1/params-1.pt"), "params of 1");
  EXPECT_EQ(json::parse(Object("checkpoints/job1/state.json"))["generation"], 1);
  const size_t objects = s3_.objects.size();
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());  // unchanged: nothing sent
  EXPECT_EQ(s3_.objects.size(), objects);
  TrainerCheckpoint(dir, 2);
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());
  EXPECT_EQ(uploaded, 2);
  EXPECT_EQ(Object("checkpoints/job1/optim-2.pt"), "optim of 2");
  EXPECT_EQ(Object("checkpoints/job1/params-1.pt"), "<none>");  // the older generation's files go
  EXPECT_EQ(s3_.objects.size(), 5u);
  EXPECT_FALSE(fs::exists(dir + ".upload"));
  // The job ended: nothing of it stays.
  ASSERT_TRUE(artifacts_.RemoveCheckpoint("job1", uploaded).ok());
  EXPECT_TRUE(s3_.objects.empty());
}

TEST_F(JobArtifactsTest, AFailedUploadKeepsThePreviousCheckpointInForce) {
  const std::string dir = tmp_.path() + "/run/checkpoint";
  int64_t uploaded = 0;
  TrainerCheckpoint(dir, 1);
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());
  TrainerCheckpoint(dir, 2);
  s3_.uploads_before_failure = 2;  // two of generation 2's files, then S3 fails
  EXPECT_FALSE(artifacts_.UploadCheckpoint("job1", dir, &uploaded).ok());
  EXPECT_EQ(uploaded, 1);
  EXPECT_EQ(json::parse(Object("checkpoints/job1/state.json"))["generation"], 1);
  EXPECT_EQ(Object("checkpoints/job1/rng-1.pt"), "rng of 1");  // generation 1 is whole
  // A worker resuming now gets generation 1, whole.
  const std::string other = tmp_.path() + "/other/checkpoint";
  auto got = artifacts_.DownloadCheckpoint("job1", other);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 1);
  EXPECT_EQ(Read(other + "/best-1.pt"), "best of 1");
}

TEST_F(JobArtifactsTest, AResumingWorkerGetsTheNewestCheckpointUnlessItHasOne) {
  const std::string first = tmp_.path() + "/a/checkpoint", second = tmp_.path() + "/b/checkpoint";
  auto none = artifacts_.DownloadCheckpoint("job1", second);  // never checkpointed: start over
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  EXPECT_FALSE(fs::exists(second + "/state.json"));
  int64_t uploaded = 0;
  TrainerCheckpoint(first, 1);
  TrainerCheckpoint(first, 2);
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", first, &uploaded).ok());
  auto got = artifacts_.DownloadCheckpoint("job1", second);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 2);
  EXPECT_EQ(json::parse(Read(second + "/state.json"))["generation"], 2);
  EXPECT_EQ(Read(second + "/params-2.pt"), "params of 2");
  EXPECT_FALSE(fs::exists(second + ".download"));
  // A folder with a newer checkpoint of its own (this worker ran further before) keeps it.
  TrainerCheckpoint(second, 3);
  EXPECT_EQ(*artifacts_.DownloadCheckpoint("job1", second), 3);
  EXPECT_EQ(Read(second + "/params-3.pt"), "params of 3");
  // This worker's first upload replaces the generation the first worker left: its files go too.
  int64_t mine = 0;
  ASSERT_TRUE(artifacts_.UploadCheckpoint("job1", second, &mine).ok());
  EXPECT_EQ(mine, 3);
  EXPECT_EQ(Object("checkpoints/job1/params-2.pt"), "<none>");
  EXPECT_EQ(s3_.objects.size(), 5u);
  // A job that ended on a worker which uploaded nothing of its own still leaves nothing.
  ASSERT_TRUE(artifacts_.RemoveCheckpoint("job1", 0).ok());
  EXPECT_TRUE(s3_.objects.empty());
  // A state.json in the bucket that names no generation, or a missing file: an error, nothing moved.
  s3_.objects[{kBucket, "checkpoints/job2/state.json"}] = "{\"generation\": \"many\"}";
  EXPECT_EQ(artifacts_.DownloadCheckpoint("job2", tmp_.path() + "/c/checkpoint").status().code(), Status::Code::kCorruption);
  s3_.objects[{kBucket, "checkpoints/job2/state.json"}] = "{\"generation\": 7}";
  EXPECT_FALSE(artifacts_.DownloadCheckpoint("job2", tmp_.path() + "/c/checkpoint").ok());
  EXPECT_FALSE(fs::exists(tmp_.path() + "/c/checkpoint/state.json"));
}

TEST_F(JobArtifactsTest, AModelFolderGoesUpAndComesBackWhole) {
  const std::string model = tmp_.path() + "/run/model";
  Write(model + "/config.json", "{\"model_type\": \"llama\"}");
  Write(model + "/model.safetensors", std::string(1000, 'w'));
  Write(model + "/adapter/adapter_config.json", "{}");
  auto artifact = artifacts_.UploadModel("job1", model);
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();
  EXPECT_EQ((*artifact)["uri"], "s3://lathe-artifacts/custom-models/job1/");
  EXPECT_EQ((*artifact)["files"].size(), 3u);
  const std::string copy = tmp_.path() + "/node2/custom-models/m1";
  fs::create_directories(tmp_.path() + "/node2/custom-models");
  ASSERT_TRUE(DownloadModelArtifact(&s3_, kAccount, *artifact, copy).ok());
  EXPECT_EQ(Read(copy + "/model.safetensors"), std::string(1000, 'w'));
  EXPECT_EQ(Read(copy + "/adapter/adapter_config.json"), "{}");
}

TEST_F(JobArtifactsTest, AHostileModelRecordIsRefusedAndWritesNothing) {
  s3_.objects[{kBucket, "custom-models/job1/config.json"}] = "{}";
  const std::string copy = tmp_.path() + "/models/m1";
  fs::create_directories(tmp_.path() + "/models");
  auto refused = [&](const json& artifact) {
    Status s = DownloadModelArtifact(&s3_, kAccount, artifact, copy);
    EXPECT_FALSE(s.ok()) << artifact.dump();
    EXPECT_FALSE(fs::exists(copy)) << artifact.dump();
    EXPECT_FALSE(fs::exists(tmp_.path() + "/escaped"));
  };
  const std::string uri = "s3://lathe-artifacts/custom-models/job1/";
  auto one = [&](const json& file) { return json{{"uri", uri}, {"files", json::array({file})}}; };
  refused(nullptr);
  refused(json::array());
  refused(json{{"uri", 7}, {"files", json::array()}});
  refused(json{{"uri", "not-s3"}, {"files", json::array()}});
  refused(one({{"name", "../../escaped"}, {"size", 2}}));
  refused(one({{"name", "/etc/passwd"}, {"size", 2}}));
  refused(one({{"name", "a/./b"}, {"size", 2}}));
  refused(one({{"name", "a/b/c/d/e/f/g/h/i/j"}, {"size", 2}}));
  refused(one({{"name", std::string(600, 'a')}, {"size", 2}}));
  refused(one({{"name", "bad\nname"}, {"size", 2}}));
  refused(one({{"name", "config.json"}, {"size", -1}}));
  refused(one({{"name", "config.json"}, {"size", "2"}}));
  refused(one({{"name", "config.json"}, {"size", 1}}));  // the object is larger than recorded
  refused(one({{"name", "missing.bin"}, {"size", 2}}));
  json many = json::array();
  for (size_t i = 0; i <= kMaxModelArtifactFiles; ++i) many.push_back({{"name", "f" + std::to_string(i)}, {"size", 0}});
  refused(json{{"uri", uri}, {"files", many}});
  // The same record, well formed, works.
  Status fetched = DownloadModelArtifact(&s3_, kAccount, one({{"name", "config.json"}, {"size", 2}}), copy);
  ASSERT_TRUE(fetched.ok()) << fetched.ToString();
  EXPECT_EQ(Read(copy + "/config.json"), "{}");
}

}  // namespace
}  // namespace lathe::service
