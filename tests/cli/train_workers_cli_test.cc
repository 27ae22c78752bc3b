// `lathe train --workers 2`: data-parallel training in two processes over c10d's Gloo gives the
// losses and weights of one process at the same global batch, and losing a rank fails the run
// promptly with the rank named, after which the same command resumes with the ranks left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "test_util.h"

namespace lathe {
namespace {

using testing::ReadFile;
using testing::RunLatheBinary;
using testing::SharedDir;
using testing::TempDir;

// Sums over the ranks add in another order than one process does: fp32 rounding, nothing more.
constexpr double kLossTolerance = 1e-4;
constexpr double kWeightTolerance = 1e-4;

// stories260K and the banking sample split, as train_cli_test.cc prepares them.
void Prepare(const TempDir& tmp) {
  const std::string dir = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + dir + "/stories260K.bin --tokenizer " + dir + "/tok512.model --out " +
                               tmp.File("m"), &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary("data split " + std::string(LATHE_SOURCE_DIR) + "/samples/banking_support.jsonl --seed 5 --out-dir " +
                               tmp.File("split"), &out, &err), 0) << err;
}

// fp32 and no dropout: the two runs then differ only in the order of floating-point sums.
std::string Args(const TempDir& tmp, const std::string& out, int epochs) {
  return "train --model " + tmp.File("m") + " --train " + tmp.File("split/train.jsonl") + " --validation " +
         tmp.File("split/validation.jsonl") + " --out " + tmp.File(out) + " --set epochCount=" + std::to_string(epochs) +
         " --set learningRate=0.003 --set precision=fp32 --set loraDropout=0";
}

// The loss column of a metrics CSV (step_number,epoch_number,loss,perplexity).
std::vector<double> Losses(const std::string& csv) {
  std::vector<double> losses;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string step, epoch, loss;
    std::getline(row, step, ',');
    std::getline(row, epoch, ',');
    std::getline(row, loss, ',');
    losses.push_back(std::stod(loss));
  }
  return losses;
}

std::map<std::string, std::vector<float>> AdapterWeights(const std::string& path) {
  const std::string bytes = ReadFile(path);
  engine::SafetensorsHeader h;
  EXPECT_TRUE(engine::ParseSafetensorsHeader(bytes, bytes.size(), path, &h).ok());
  std::map<std::string, std::vector<float>> out;
  for (const auto& t : h.tensors) {
    std::vector<float> v(t.numel());
    std::memcpy(v.data(), bytes.data() + h.data_offset + t.begin, t.end - t.begin);
    out[t.name] = v;
  }
  return out;
}

TEST(TrainWorkersCli, TwoGlooRanksMatchOneProcessAtTheSameGlobalBatch) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  Prepare(tmp);
  std::string out, err;
  ASSERT_EQ(RunLatheBinary(Args(tmp, "one", 1), &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary(Args(tmp, "two", 1) + " --workers 2", &out, &err), 0) << err;

  for (const char* csv : {"/training_artifacts/step_wise_training_metrics.csv",
                          "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"}) {
    const auto one = Losses(ReadFile(tmp.File("one") + csv)), two = Losses(ReadFile(tmp.File("two") + csv));
    ASSERT_EQ(one.size(), two.size()) << csv;
    ASSERT_FALSE(one.empty()) << csv;
    for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(one[i], two[i], kLossTolerance) << csv << " row " << i + 1;
  }
  const auto one = AdapterWeights(tmp.File("one/adapter_model.safetensors"));
  const auto two = AdapterWeights(tmp.File("two/adapter_model.safetensors"));
  ASSERT_EQ(one.size(), two.size());
  double worst = 0, largest = 0;
  for (const auto& [name, w] : one) {
    ASSERT_EQ(two.at(name).size(), w.size()) << name;
    for (size_t i = 0; i < w.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(w[i]) - two.at(name)[i]));
      largest = std::max(largest, std::abs(static_cast<double>(w[i])));
    }
  }
  EXPECT_LE(worst, kWeightTolerance) << "largest weight " << largest;
  EXPECT_GT(largest, 1e-3);  // the adapters did train
  EXPECT_EQ(nlohmann::json::parse(ReadFile(tmp.File("two/training_summary.json")))["steps"], 5);
}

TEST(TrainWorkersCli, RankFlagsGoTogetherAndWorkersNeedARecordOfEachBatch) {
  TempDir tmp;
  std::string out, err;
  const std::string base = "train --model " + tmp.path() + " --train " +
                           tmp.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\"}\n") + " --out " + tmp.File("o");
  EXPECT_EQ(RunLatheBinary(base + " --rank 1 --master 127.0.0.1:29500", &out, &err), 2);
  EXPECT_NE(err.find("--rank, --world-size (or --workers) and --master go together"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary(base + " --rank 2 --world-size 2 --master 127.0.0.1:29500", &out, &err), 2);
  EXPECT_NE(err.find("--rank must be below the world size"), std::string::npos) << err;
  // The world size as the job runner passes it: a hyperparameter.
  EXPECT_EQ(RunLatheBinary(base + " --set workers=2 --rank 2 --master 127.0.0.1:29500", &out, &err), 2);
  EXPECT_NE(err.find("--rank must be below the world size"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary(base + " --workers 2 --set workers=3", &out, &err), 2);
  EXPECT_NE(err.find("disagree"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary(base + " --workers 17", &out, &err), 2);
  EXPECT_EQ(RunLatheBinary(base + " --workers 3 --set batchSize=2", &out, &err), 1);
  EXPECT_NE(err.find("lathe: error: hyperparameter workers=3 exceeds batchSize=2"), std::string::npos) << err;
}

// The process whose parent is `parent` (rank 1 of a local --workers 2 run), or -1.
pid_t ChildOf(pid_t parent) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

// A rank started without the validation file rank 0 has would wait on validation sums rank 0
// never sends: the ranks' jobs are compared first, validation data included.
TEST(TrainWorkersCli, ARankWithOtherValidationDataIsRefusedAtTheStart) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  Prepare(tmp);
  int port = 0;
  const int fd = testing::BindLoopback(&port, /*listen=*/false);
  ASSERT_GE(fd, 0);
  ::close(fd);  // free again, for rank 0's store
  const std::string ranks = " --world-size 2 --master 127.0.0.1:" + std::to_string(port) + " --worker-timeout 20";
  const pid_t rank0 = fork();
  if (rank0 == 0) {
    const std::string cmd = "exec " + std::string(LATHE_BINARY) + " " + Args(tmp, "run0", 1) + " --rank 0" + ranks +
                            " >/dev/null 2>" + tmp.File("err0");
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  // Rank 1: the same job without --validation.
  const std::string no_validation = "train --model " + tmp.File("m") + " --train " + tmp.File("split/train.jsonl") +
                                    " --out " + tmp.File("run1") +
                                    " --set epochCount=1 --set learningRate=0.003 --set precision=fp32 --set loraDropout=0";
  std::string out, err;
  EXPECT_NE(RunLatheBinary(no_validation + " --rank 1" + ranks, &out, &err), 0);
  EXPECT_NE(err.find("is not running rank 0's job"), std::string::npos) << err;
  EXPECT_NE(err.find("validation data differ"), std::string::npos) << err;
  int status = 0;
  ASSERT_EQ(waitpid(rank0, &status, 0), rank0);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(tmp.File("err0"));
  EXPECT_FALSE(std::filesystem::exists(tmp.File("run0/adapter_model.safetensors")));
}

TEST(TrainWorkersCli, LosingARankFailsTheStepNamingItAndTheRunResumesWithTheRanksLeft) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  Prepare(tmp);
  // A worker timeout far above how long the failure may take: the step must fail because the
  // rank's sockets closed, not because a collective waited out its timeout.
  const std::string args = Args(tmp, "run", 2) + " --set checkpointSteps=1 --workers 2 --worker-timeout 120";
  const pid_t rank0 = fork();
  if (rank0 == 0) {
    const std::string cmd = "exec " + std::string(LATHE_BINARY) + " " + args + " >/dev/null 2>" + tmp.File("err");
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  const std::string state = tmp.File("run/checkpoint/state.json");
  pid_t rank1 = -1;
  for (int i = 0; i < 1500 && rank1 < 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!std::filesystem::exists(state)) continue;
    auto j = nlohmann::json::parse(ReadFile(state), nullptr, false);
    if (!j.is_discarded() && j.value("steps", 0) >= 2) rank1 = ChildOf(rank0);
  }
  ASSERT_GT(rank1, 0) << "no rank 1 to kill: " << ReadFile(tmp.File("err"));
  ASSERT_EQ(kill(rank1, SIGKILL), 0);
  const auto killed_at = std::chrono::steady_clock::now();
  int status = 0;
  ASSERT_EQ(waitpid(rank0, &status, 0), rank0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  const std::string err = ReadFile(tmp.File("err"));
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 1) << err;
  EXPECT_LT(seconds, 60.0) << "rank 0 waited for the timeout instead of failing the step";
  EXPECT_NE(err.find("lathe: error: data-parallel training failed on rank 0 of 2: lost rank 1"), std::string::npos) << err;
  EXPECT_NE(err.find("rank 1 (pid " + std::to_string(rank1) + ") was killed by signal 9"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(tmp.File("run/adapter_model.safetensors")));

  // The same job with the one rank this machine still offers: it resumes from the checkpoint.
  std::string out, resumed_err;
  ASSERT_EQ(RunLatheBinary(Args(tmp, "run", 2) + " --set checkpointSteps=1 --workers 1", &out, &resumed_err), 0)
      << resumed_err;
  EXPECT_NE(resumed_err.find("resuming from the checkpoint"), std::string::npos) << resumed_err;
  EXPECT_EQ(Losses(ReadFile(tmp.File("run/training_artifacts/step_wise_training_metrics.csv"))).size(), 10u);
  EXPECT_TRUE(std::filesystem::exists(tmp.File("run/adapter_model.safetensors")));
}

}  // namespace
}  // namespace lathe
