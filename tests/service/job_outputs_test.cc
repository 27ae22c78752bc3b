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
using lathe::testing::ReadFile;
using lathe::testing::TempDir;

// The real file system, except that files under `full_prefix` take only `room` bytes in all, as
// a disk with that much space left does: then Append (or Close, which flushes) fails with ENOSPC.
class FullDiskEnv final : public Env {
 public:
  FullDiskEnv(std::string full_prefix, uint64_t room) : prefix_(std::move(full_prefix)), room_(room) {}

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    LATHE_RETURN_IF_ERROR(base_->NewWritableFile(path, out));
    if (path.rfind(prefix_, 0) == 0) *out = std::make_unique<FullFile>(path, std::move(*out), &room_);
    return Status::Ok();
  }
  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* o) override {
    return base_->NewSequentialFile(p, o);
  }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* o) override {
    return base_->NewRandomAccessFile(p, o);
  }
  Status GetFileSize(const std::string& p, uint64_t* s) override { return base_->GetFileSize(p, s); }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Status RenameFile(const std::string& f, const std::string& t) override { return base_->RenameFile(f, t); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }

 private:
  class FullFile final : public WritableFile {
   public:
    FullFile(std::string path, std::unique_ptr<WritableFile> f, uint64_t* room)
        : path_(std::move(path)), f_(std::move(f)), room_(room) {}
    Status Append(std::string_view data) override {
      if (data.size() > *room_) {
        (void)f_->Append(data.substr(0, *room_));  // a partial write, as the kernel makes
        *room_ = 0;
        return Status::IOError("cannot write " + path_ + ": No space left on device");
      }
      *room_ -= data.size();
      return f_->Append(data);
    }
    Status Close() override { return f_->Close(); }

   private:
    std::string path_;
    std::unique_ptr<WritableFile> f_;
    uint64_t* room_;
  };
  Env* base_ = Env::Default();
  std::string prefix_;
  uint64_t room_;
};

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
