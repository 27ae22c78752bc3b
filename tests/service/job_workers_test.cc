// Fine-tuning jobs on workers (docs/scale-out.md), in one process and without sockets: an API
// node's JobService ("runJobsOn": "workers") and workers' JobServices over one store, the real
// `lathe train` on stories260K, S3 in memory. The API node never trains; a worker runs the job,
// uploads its checkpoints and model; a Stop crosses from the API node to the worker; a worker that
// shuts down gives its job back and another resumes it from the uploaded checkpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/hyperparameters.h"
#include "engine/training_memory.h"
#include "fake_object_store.h"
#include "service/model_memory.h"
#include "service/bedrock_service.h"
#include "stories_service.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kAccount = ServiceConfig{}.scope.account;  // the default config's

class JobsOnWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (lathe::testing::SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    Status imported = ImportStories260K(dir_.File("stories"));
    ASSERT_TRUE(imported.ok()) << imported.ToString();
    s3_.owners["lathe-artifacts"] = kAccount;
    s3_.owners["data"] = kAccount;
    std::string rows;
    for (int i = 0; i < 32; ++i)
      rows += json{{"prompt", "Once upon a time " + std::to_string(i)}, {"completion", " there was a cat."}}.dump() + "\n";
    s3_.objects[{"data", "train.jsonl"}] = rows;
    auto opened = BedrockService::Open(Config("api", ServiceConfig::JobPlacement::kWorkers), /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    api_ = std::move(*opened);
    api_->set_object_store(&s3_);
    api_->Start();
  }

  ServiceConfig Config(const std::string& node, ServiceConfig::JobPlacement placement) {
    ServiceConfig config;
    config.data_dir = dir_.path() + "/" + node;
    config.store_url = dir_.path() + "/shared.db";  // one store for every node, as PostgreSQL in production
    config.models = {{"test.stories", dir_.File("stories")}};
    config.file_roots = {dir_.path()};
    config.worker_binary = LATHE_BINARY;
    config.job_placement = placement;
    config.lease_seconds = 5;
    config.worker_id = node;
    config.worker_capacity = {2, 0, int64_t{1} << 40};
    return config;
  }

  std::unique_ptr<BedrockService> StartWorker(const std::string& id, int64_t memory_bytes = int64_t{1} << 40) {
    ServiceConfig config = Config(id, ServiceConfig::JobPlacement::kWorker);
    config.worker_capacity.memory_bytes = memory_bytes;
    auto opened = BedrockService::Open(config, /*start=*/false);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    (*opened)->set_object_store(&s3_);
    (*opened)->Start();
    return std::move(*opened);
  }

  std::string Create(const std::string& name, int epochs) {
    auto created = api_->jobs().Create({{"jobName", name},
                                        {"customModelName", name + "-model"},
                                        {"roleArn", "arn:aws:iam::123456789012:role/r"},
                                        {"baseModelIdentifier", "test.stories"},
                                        {"trainingDataConfig", {{"s3Uri", "s3://data/train.jsonl"}}},
                                        {"outputDataConfig", {{"s3Uri", "s3://data/out/"}}},
                                        {"hyperParameters", {{"epochCount", std::to_string(epochs)},
                                                             {"batchSize", "2"},
                                                             {"checkpointSteps", "2"}}}});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? (*created)["jobArn"].get<std::string>() : "";
  }

  json Job(const std::string& arn) { return *api_->jobs().Get(arn); }

  // Waits until `done(job)` or `seconds` pass; returns the job as last read.
  json WaitFor(const std::string& arn, const std::function<bool(const json&)>& done, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    json job = Job(arn);
    while (!done(job) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      job = Job(arn);
    }
    return job;
  }
  static bool Ended(const json& job) { return job["status"] != "InProgress" && job["status"] != "Stopping"; }

  bool HasObject(const std::string& key) {
    std::lock_guard<std::recursive_mutex> lock(s3_.mu);
    return s3_.objects.count({"lathe-artifacts", key}) > 0;
  }
  size_t ObjectsUnder(const std::string& prefix) {
    std::lock_guard<std::recursive_mutex> lock(s3_.mu);
    size_t n = 0;
    for (const auto& [where, bytes] : s3_.objects) n += where.first == "lathe-artifacts" && where.second.rfind(prefix, 0) == 0;
    return n;
  }
  // What is left under `prefix` once the worker has cleaned up: it deletes an ended job's
  // checkpoint after saving the job's last status (job_claims.cc), so the test waits for that, up
  // to 15 s, instead of racing it (a loaded machine lost the race).
  size_t ObjectsLeftUnder(const std::string& prefix) {
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    size_t n = ObjectsUnder(prefix);
    while (n > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      n = ObjectsUnder(prefix);
    }
    return n;
  }
  static std::string IdOf(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

  lathe::testing::TempDir dir_;
  FakeObjectStore s3_;
  std::unique_ptr<BedrockService> api_;
};

TEST_F(JobsOnWorkers, TheApiNodeQueuesAndAWorkerTrainsUploadsAndRegisters) {
  const std::string arn = Create("on-worker", 1);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Job(arn)["statusDetails"]["validationDetails"]["status"], "NotStarted");  // no worker yet: it waits
  auto worker = StartWorker("w1");
  ASSERT_TRUE(worker);
  json job = WaitFor(arn, Ended, 180);
  ASSERT_EQ(job["status"], "Completed") << job.dump();
  EXPECT_EQ(job["latheWorker"], "w1");
  EXPECT_FALSE(fs::exists(dir_.path() + "/api/jobs/" + IdOf(arn)));  // the API node never trained
  EXPECT_TRUE(fs::exists(dir_.path() + "/w1/jobs/" + IdOf(arn) + "/run/model/config.json"));
  EXPECT_EQ(ObjectsLeftUnder("checkpoints/"), 0u);  // the job ended: its checkpoint is gone
  EXPECT_GT(ObjectsUnder("custom-models/" + IdOf(arn) + "/"), 2u);
  // The API node serves the model: fetched once from the artifact bucket.
  auto model = api_->custom_models().FindServable("on-worker-model");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::string local = model->doc["_dir"];
  EXPECT_EQ(local, dir_.path() + "/api/custom-models/" + model->id);
  EXPECT_TRUE(fs::exists(local + "/config.json"));
  std::ifstream a(local + "/model.safetensors", std::ios::binary), b(dir_.path() + "/w1/jobs/" + IdOf(arn) + "/run/model/model.safetensors", std::ios::binary);
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
  EXPECT_GT(sa.str().size(), 1000u);
  // Deleted: its objects in the artifact bucket go too, and this node's copy.
  ASSERT_TRUE(api_->custom_models().Delete("on-worker-model", [](const std::string&) { return false; }).ok());
  EXPECT_EQ(ObjectsUnder("custom-models/"), 0u);
  EXPECT_FALSE(fs::exists(local));
}

// A job's item states the memory its training takes (engine/training_memory.h, from the base
// model's config and the hyperparameters): a worker offering less leaves it to one that has it.
TEST_F(JobsOnWorkers, AJobWaitsForAWorkerWithTheMemoryItsTrainingNeeds) {
  const std::string arn = Create("needs-memory", 1);
  store::WorkLeases leases(api_->store());
  auto items = leases.List(10);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  const int64_t need = (*items)[0].needs.memory_bytes;
  auto config = ReadModelConfig(dir_.File("stories"));
  ASSERT_TRUE(config.ok());
  auto h = engine::ParseHyperparameters({{"epochCount", "1"}, {"batchSize", "2"}, {"checkpointSteps", "2"}},
                                        engine::DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(need, engine::EstimateTrainingMemory(*config, *h));
  EXPECT_GT(need, engine::kTrainingProcessOverheadBytes);
  auto small = StartWorker("small", need - 1);
  ASSERT_TRUE(small);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // two of its claim rounds
  json job = Job(arn);
  EXPECT_EQ(job["status"], "InProgress");
  EXPECT_FALSE(job.contains("latheWorker")) << job.dump();
  EXPECT_EQ(job["statusDetails"]["validationDetails"]["status"], "NotStarted");
  ASSERT_TRUE(api_->jobs().Stop(arn).ok());
}

TEST_F(JobsOnWorkers, AStopFromTheApiNodeReachesTheWorkerAndAQueuedJobStopsAtOnce) {
  auto worker = StartWorker("w1");
  ASSERT_TRUE(worker);
  const std::string running = Create("long", 100);
  json job = WaitFor(running, [](const json& j) { return j["statusDetails"]["trainingDetails"]["status"] == "InProgress"; }, 60);
  ASSERT_EQ(job["statusDetails"]["trainingDetails"]["status"], "InProgress") << job.dump();
  const std::string waiting = Create("waiting", 1);  // the only worker is busy
  ASSERT_TRUE(api_->jobs().Stop(waiting).ok());
  EXPECT_EQ(Job(waiting)["status"], "Stopped");
  const auto stop = Clock::now();
  ASSERT_TRUE(api_->jobs().Stop(running).ok());
  EXPECT_EQ(Job(running)["status"], "Stopping");
  EXPECT_EQ(api_->jobs().Stop(running).code(), Status::Code::kConflict);  // only an InProgress job
  job = WaitFor(running, Ended, 30);
  EXPECT_EQ(job["status"], "Stopped") << job.dump();
  EXPECT_LT(Clock::now() - stop, std::chrono::seconds(15));
  EXPECT_EQ(ObjectsLeftUnder("checkpoints/"), 0u);
}

TEST_F(JobsOnWorkers, AWorkerThatShutsDownGivesItsJobToAnotherWhichResumesFromTheCheckpoint) {
  auto first = StartWorker("w1");
  ASSERT_TRUE(first);
  const std::string arn = Create("handed-over", 40);
  const std::string state = "checkpoints/" + IdOf(arn) + "/state.json";
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!HasObject(state) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(HasObject(state)) << Job(arn).dump();
  first.reset();  // SIGTERM: the trainer checkpoints, the checkpoint goes up, the job goes back
  json job = Job(arn);
  ASSERT_EQ(job["status"], "InProgress") << job.dump();
  auto second = StartWorker("w2");
  ASSERT_TRUE(second);
  job = WaitFor(arn, Ended, 240);
  ASSERT_EQ(job["status"], "Completed") << job.dump();
  EXPECT_EQ(job["latheWorker"], "w2");
  std::ifstream log(dir_.path() + "/w2/jobs/" + IdOf(arn) + "/train.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("resuming from the checkpoint"), std::string::npos) << text.str();
  auto models = api_->custom_models().List({});
  ASSERT_TRUE(models.ok());
  EXPECT_EQ((*models)["modelSummaries"].size(), 1u);  // completed once
}

TEST_F(JobsOnWorkers, AnEvaluationJobRunsOnAWorkerAndPublishesItsResults) {
  std::string cases;
  for (int i = 0; i < 3; ++i)
    cases += json{{"prompt", "Once upon a time"}, {"referenceResponse", "there was a cat"}}.dump() + "\n";
  s3_.objects[{"data", "cases.jsonl"}] = cases;
  const json params = {{"inferenceConfig", {{"maxTokens", 6}, {"temperature", 0}}}};
  auto created = api_->evaluations().Create(
      {{"jobName", "eval-on-worker"},
       {"roleArn", "arn:aws:iam::123456789012:role/r"},
       {"evaluationConfig",
        {{"automated",
          {{"datasetMetricConfigs",
            json::array({{{"taskType", "QuestionAndAnswer"},
                          {"dataset", {{"name", "cases"}, {"datasetLocation", {{"s3Uri", "s3://data/cases.jsonl"}}}}},
                          {"metricNames", json::array({"Builtin.Accuracy"})}}})}}}}},
       {"inferenceConfig",
        {{"models", json::array({{{"bedrockModel", {{"modelIdentifier", "test.stories"}, {"inferenceParams", params.dump()}}}}})}}},
       {"outputDataConfig", {{"s3Uri", "s3://data/eval-out/"}}}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = (*created)["jobArn"];
  auto get = [&] { return *api_->evaluations().Get(arn); };
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(get()["status"], "InProgress");  // the API node does not run it
  EXPECT_FALSE(fs::exists(dir_.path() + "/api/evaluation-jobs/" + IdOf(arn)));
  auto worker = StartWorker("w1");
  ASSERT_TRUE(worker);
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  json job = get();
  while (job["status"] == "InProgress" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    job = get();
  }
  ASSERT_EQ(job["status"], "Completed") << job.dump();
  EXPECT_EQ(job["latheWorker"], "w1");
  std::lock_guard<std::recursive_mutex> lock(s3_.mu);
  size_t published = 0;
  for (const auto& [where, bytes] : s3_.objects)
    published += where.first == "data" && where.second.rfind("eval-out/eval-on-worker/" + IdOf(arn) + "/", 0) == 0;
  EXPECT_GT(published, 0u);
}

}  // namespace
}  // namespace lathe::service
