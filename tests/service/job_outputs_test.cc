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

}  // namespace
}  // namespace lathe::service
