// A job's outputs on a full disk: the job learns it, and the output location holds the complete
// outputs or none, never a truncated CSV.
#include "service/job_outputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using lathe::testing::FullDiskEnv;
using lathe::testing::ReadFile;
using lathe::testing::TempDir;

// A finished run's metrics, as `lathe train` leaves them.
void WriteRun(const TempDir& tmp) {
  fs::create_directories(tmp.File("run/training_artifacts"));
  fs::create_directories(tmp.File("run/validation_artifacts/post_fine_tuning_validation/validation"));
  tmp.Write("run/training_artifacts/step_wise_training_metrics.csv",
            "step_number,epoch_number,training_loss,perplexity\n1,1,2.5,12.1\n2,1,2.1,8.2\n");
  tmp.Write("run/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
            "step_number,epoch_number,validation_loss,perplexity\n2,1,2.2,9.0\n");
}

const std::vector<std::string> kSubdirs = {"training_artifacts", "validation_artifacts"};

TEST(CopyJobOutputs, CopiesTheMetricsInBedrocksLayout) {
  TempDir tmp;
  WriteRun(tmp);
  const std::string out = tmp.File("output/model-customization-job-abc");
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run"), kSubdirs, out).ok());
  EXPECT_EQ(ReadFile(out + "/training_artifacts/step_wise_training_metrics.csv"),
            ReadFile(tmp.File("run/training_artifacts/step_wise_training_metrics.csv")));
  EXPECT_EQ(ReadFile(out + "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"),
            ReadFile(tmp.File("run/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv")));
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST(CopyJobOutputs, AFullDiskIsAnErrorAndLeavesNoOutputs) {
  // Room for the first CSV but not the second, and for neither.
  for (uint64_t room : {uint64_t{100}, uint64_t{0}, uint64_t{10}}) {
    TempDir tmp;
    WriteRun(tmp);
    const std::string out = tmp.File("output/model-customization-job-abc");
    FullDiskEnv env(tmp.File("output/"), room);
    Status s = CopyJobOutputs(&env, tmp.File("run"), kSubdirs, out);
    ASSERT_FALSE(s.ok()) << "room " << room;
    EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(tmp.File("output/model-customization-job-abc.partial/")), std::string::npos)
        << s.message();
    // Complete or absent: here absent, with no staging folder or half-written file left.
    EXPECT_FALSE(fs::exists(out)) << "room " << room;
    EXPECT_TRUE(fs::is_empty(tmp.File("output"))) << "room " << room;
  }
}

TEST(CopyJobOutputs, AFileWhereTheOutputFolderGoesIsAnError) {
  TempDir tmp;
  WriteRun(tmp);
  fs::create_directories(tmp.File("output"));
  const std::string out = tmp.Write("output/model-customization-job-abc", "not a folder");
  Status s = CopyJobOutputs(Env::Default(), tmp.File("run"), kSubdirs, out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(out), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(out), "not a folder");
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

// An evaluation job's outputs go to <output>/<jobName>/<jobId>: a later job with the same name
// adds its own folder and must not delete the earlier job's.
TEST(CopyJobOutputs, AnExistingFolderKeepsWhatItHoldsBesideTheCopiedSubdirs) {
  TempDir tmp;
  fs::create_directories(tmp.File("run1/job1"));
  tmp.Write("run1/job1/report.json", "first");
  fs::create_directories(tmp.File("run2/job2"));
  tmp.Write("run2/job2/report.json", "second");
  const std::string out = tmp.File("output/my-job");
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run1"), {"job1"}, out).ok());
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run2"), {"job2"}, out).ok());
  EXPECT_EQ(ReadFile(out + "/job1/report.json"), "first");
  EXPECT_EQ(ReadFile(out + "/job2/report.json"), "second");
  // A rerun of job2 replaces only job2's folder, whole (a file it no longer writes goes).
  tmp.Write("run2/job2/stale.txt", "x");
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run2"), {"job2"}, out).ok());
  fs::remove(tmp.File("run2/job2/stale.txt"));
  tmp.Write("run2/job2/report.json", "second again");
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run2"), {"job2"}, out).ok());
  EXPECT_EQ(ReadFile(out + "/job2/report.json"), "second again");
  EXPECT_FALSE(fs::exists(out + "/job2/stale.txt"));
  EXPECT_EQ(ReadFile(out + "/job1/report.json"), "first");
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

// Copied in chunks, not read whole: a file over the chunk size arrives intact.
TEST(CopyJobOutputs, ALargeFileIsCopiedWhole) {
  TempDir tmp;
  fs::create_directories(tmp.File("run/job"));
  std::string big;
  for (int i = 0; big.size() < (3u << 20) + 17; ++i) big += std::to_string(i) + "\n";
  tmp.Write("run/job/out.jsonl", big);
  const std::string out = tmp.File("output/my-job");
  ASSERT_TRUE(CopyJobOutputs(Env::Default(), tmp.File("run"), {"job"}, out).ok());
  EXPECT_EQ(ReadFile(out + "/job/out.jsonl"), big);
}

}  // namespace
}  // namespace lathe::service
