// lathe train as a user runs it: progress, outputs, and a SIGKILL mid-run followed by the same
// command, which must finish exactly like a run that was never killed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace lathe {
namespace {

using testing::ReadFile;
using testing::RunLatheBinary;
using testing::SharedDir;
using testing::TempDir;

std::string Args(const TempDir& tmp, const std::string& out) {
  return "train --model " + tmp.File("m") + " --train " + tmp.File("split/train.jsonl") + " --validation " +
         tmp.File("split/validation.jsonl") + " --out " + tmp.File(out) +
         " --set epochCount=6 --set checkpointSteps=1 --set learningRate=0.003";
}

TEST(TrainCli, KilledWithSigkillThenResumedEqualsAnUninterruptedRun) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + dir + "/stories260K.bin --tokenizer " + dir + "/tok512.model --out " +
                               tmp.File("m"), &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary("data split " + std::string(LATHE_SOURCE_DIR) + "/samples/banking_support.jsonl --seed 5 --out-dir " +
                               tmp.File("split"), &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary(Args(tmp, "whole"), &out, &err), 0) << err;
  EXPECT_NE(out.find("validation loss"), std::string::npos) << out;
  EXPECT_NE(err.find("step 30/30"), std::string::npos);  // the progress bar

  // The same job, killed with SIGKILL as soon as a few checkpoints exist.
  pid_t pid = fork();
  if (pid == 0) {
    std::string cmd = std::string(LATHE_BINARY) + " " + Args(tmp, "killed") + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), nullptr);
    _exit(127);
  }
  const std::string state = tmp.File("killed/checkpoint/state.json");
  bool killed = false;
  for (int i = 0; i < 600 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (std::filesystem::exists(state)) {
      auto j = nlohmann::json::parse(ReadFile(state), nullptr, false);
      if (!j.is_discarded() && j.value("steps", 0) >= 4) killed = kill(pid, SIGKILL) == 0;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(killed) << "the run ended before it could be killed";
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(tmp.File("killed/adapter_model.safetensors")));

  ASSERT_EQ(RunLatheBinary(Args(tmp, "killed"), &out, &err), 0) << err;
  for (const char* file : {"/training_artifacts/step_wise_training_metrics.csv", "/adapter_model.safetensors",
                           "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"})
    EXPECT_EQ(ReadFile(tmp.File("whole") + file), ReadFile(tmp.File("killed") + file)) << file;
}

TEST(TrainCli, AWriteThatFailsIsACleanErrorNamingTheFileNotAnAbort) {
  // Files over 128 KiB cannot be written (RLIMIT_FSIZE, its signal ignored: write() fails with
  // EFBIG), as when the disk fills: the first checkpoint of a full fine-tune (~1 MB) cannot be
  // saved. torch's own file writer aborted the process then (SIGABRT, "killed by signal 6").
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + dir + "/stories260K.bin --tokenizer " + dir + "/tok512.model --out " +
                               tmp.File("m"), &out, &err), 0) << err;
  std::string records;
  for (int i = 0; i < 8; ++i) records += R"({"prompt":"Q: )" + std::to_string(i) + R"(?","completion":" A."})" "\n";
  const std::string train = tmp.Write("train.jsonl", records);
  const std::string cmd = "ulimit -f 256; trap '' XFSZ; exec " + std::string(LATHE_BINARY) + " train --model " +
                          tmp.File("m") + " --train " + train + " --out " + tmp.File("run") +
                          " --set method=full --set epochCount=1 --set batchSize=4 --set checkpointSteps=1 >" +
                          tmp.File("out") + " 2>" + tmp.File("err");
  const int status = std::system(("sh -c \"" + cmd + "\"").c_str());
  err = ReadFile(tmp.File("err"));
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal: " << err;
  EXPECT_EQ(WEXITSTATUS(status), 1) << err;
  const size_t at = err.find("lathe: error: cannot write " + tmp.File("run/checkpoint/params-1.pt"));
  EXPECT_NE(at, std::string::npos) << err;
  EXPECT_NE(err.find("File too large", at), std::string::npos) << err;
  // No checkpoint half-written under its final name, so a rerun with room starts cleanly.
  EXPECT_FALSE(std::filesystem::exists(tmp.File("run/checkpoint/params-1.pt")));
  EXPECT_FALSE(std::filesystem::exists(tmp.File("run/checkpoint/state.json")));
}

TEST(TrainCli, HyperparameterErrorsAreUsageOrInputErrors) {
  TempDir tmp;
  std::string out, err;
  std::string data = tmp.Write("t.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\"}\n");
  EXPECT_EQ(RunLatheBinary("train --model " + tmp.path() + " --train " + data + " --out " + tmp.File("o") +
                               " --set epochCount", &out, &err), 2);
  EXPECT_NE(err.find("expected key=value"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("train --model " + tmp.path() + " --train " + data + " --out " + tmp.File("o") +
                               " --set epochCount=zero", &out, &err), 1);
  EXPECT_NE(err.find("hyperparameter epochCount=\"zero\" is invalid: expected an integer from 1 to 100"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace lathe
