// A customization job with lathe's hyperparameter `workers`: the job runner's `lathe train`
// worker trains as rank 0 of two Gloo ranks and starts the other; SIGKILL of that rank fails
// the job with a message naming it. On the real stories260K model and `lathe train`.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "stories_service.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class DataParallelJob : public StoriesService {
 protected:
  void SetUp() override {
    StoriesService::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string data;
    for (int i = 0; i < 8; ++i)
      data += R"({"prompt": "Once upon a time there was a cat", "completion": " who liked to play in the sun."})" "\n";
    train_ = dir_.Write("train.jsonl", data);
  }
  std::string Create(const std::string& name, const std::string& epochs) {  // workers=2
    auto created = bedrock_->jobs().Create({{"jobName", name},
                                            {"customModelName", name + "-model"},
                                            {"roleArn", "arn:aws:iam::123456789012:role/r"},
                                            {"baseModelIdentifier", "test.stories"},
                                            {"hyperParameters", {{"epochCount", epochs}, {"batchSize", "4"}, {"workers", "2"}}},
                                            {"trainingDataConfig", {{"s3Uri", "file://" + train_}}},
                                            {"outputDataConfig", {{"s3Uri", "file://" + dir_.path() + "/out"}}}});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? (*created)["jobArn"].get<std::string>() : "";
  }
  json WaitWhileInProgress(const std::string& arn) {
    json job;
    for (const auto deadline = Clock::now() + std::chrono::seconds(120); Clock::now() < deadline;) {
      job = *bedrock_->jobs().Get(arn);
      if (job["status"] != "InProgress") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return job;
  }
  std::string train_;
};

// The process running `lathe train ... --rank 1` for a job under `data_dir`, or -1.
pid_t RankOneUnder(const std::string& data_dir) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(std::string("--rank\0001\0", 9)) != std::string::npos && cmd.find(data_dir) != std::string::npos)
      return static_cast<pid_t>(std::stoi(entry.path().filename().string()));
  }
  return -1;
}

// (A workers=2 run to completion, equal to one process: tests/cli/train_workers_cli_test.cc.)
TEST_F(DataParallelJob, TheJobStartsItsRanksAndALostRankFailsItByName) {
  const std::string arn = Create("ddp-killed", "100");
  pid_t rank1 = -1;
  for (const auto deadline = Clock::now() + std::chrono::seconds(60); Clock::now() < deadline && rank1 < 0;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rank1 = RankOneUnder(dir_.path() + "/data/jobs/");
  }
  ASSERT_GT(rank1, 0) << "no rank 1 started: " << bedrock_->jobs().Get(arn)->dump(2);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // into training, past the rendezvous
  ASSERT_EQ(kill(rank1, SIGKILL), 0);
  const json failed = WaitWhileInProgress(arn);
  EXPECT_EQ(failed["status"], "Failed") << failed.dump(2);
  const std::string why = failed.value("failureMessage", "");
  EXPECT_NE(why.find("data-parallel training failed on rank 0 of 2: lost rank 1"), std::string::npos) << why;
  EXPECT_NE(why.find("rank 1 (pid " + std::to_string(rank1) + ") was killed by signal 9"), std::string::npos) << why;
}

}  // namespace
}  // namespace lathe::service
