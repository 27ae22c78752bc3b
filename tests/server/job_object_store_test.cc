// Bedrock jobs' view of S3 over the real storage (blobs on disk, the index in SQLite): objects
// copied out and in, whole, more than one piece at a time, with S3's errors and ownership.
#include <gtest/gtest.h>

#include <string>

#include "core/env.h"
#include "server/job_object_store.h"
#include "services/s3/storage.h"
#include "store/metadata_store.h"
#include "test_util.h"

namespace lathe::server {
namespace {

using lathe::testing::TempDir;

constexpr char kMe[] = "111111111111";
constexpr char kOther[] = "222222222222";
constexpr uint64_t kLimit = uint64_t{1} << 30;

class JobObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto storage = s3::OpenS3Storage(db_.get(), Env::Default(), dir_.path() + "/s3");
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(*storage);
    for (const auto& [account, name] : {std::pair{kMe, "mine"}, std::pair{kOther, "theirs"}}) {
      s3::CreateBucketInput in;
      in.account = account;
      in.name = name;
      in.request_region = "us-east-1";
      ASSERT_TRUE(storage_->buckets->CreateBucket(in).ok());
    }
    jobs_ = std::make_unique<S3JobObjectStore>(Env::Default(), storage_->buckets.get(), storage_->objects.get());
  }
  std::string Read(const std::string& path) {
    std::string text;
    EXPECT_TRUE(ReadFileToString(Env::Default(), path, &text).ok()) << path;
    return text;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<s3::S3Storage> storage_;
  std::unique_ptr<S3JobObjectStore> jobs_;
};

TEST_F(JobObjectStoreTest, ObjectsGoOutAndComeBackWhole) {
  // 3 MiB and a bit: several 1 MiB pieces each way, the last one short.
  std::string bytes;
  for (size_t i = 0; bytes.size() < (3u << 20) + 12345; ++i) bytes += "{\"prompt\": \"" + std::to_string(i) + "\"}\n";
  const std::string local = dir_.Write("train.jsonl", bytes);
  const service::S3Uri object{"mine", "training data/train.jsonl"};
  ASSERT_TRUE(jobs_->Upload(kMe, local, object).ok());

  s3::GetObjectInput get;
  get.requester.account = kMe;
  get.bucket = "mine";
  get.key = "training data/train.jsonl";
  auto read = storage_->objects->GetObject(get);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->object.size, bytes.size());
  EXPECT_EQ(read->object.etag.size(), 32u);  // a PutObject's ETag: the MD5

  const std::string copy = dir_.path() + "/copy.jsonl";
  ASSERT_TRUE(jobs_->Download(kMe, object, copy, kLimit).ok());
  EXPECT_TRUE(Read(copy) == bytes);

  // Overwriting the object later leaves the copy as it was: a job's snapshot.
  const std::string v2 = dir_.Write("v2.jsonl", "{}\n");
  ASSERT_TRUE(jobs_->Upload(kMe, v2, object).ok());
  EXPECT_TRUE(Read(copy) == bytes);
  ASSERT_TRUE(jobs_->Download(kMe, object, dir_.path() + "/copy2.jsonl", kLimit).ok());
  EXPECT_EQ(Read(dir_.path() + "/copy2.jsonl"), "{}\n");
  // Larger than the caller reads: refused before a byte is copied.
  Status big = jobs_->Download(kMe, object, dir_.path() + "/copy3.jsonl", 2);
  EXPECT_EQ(big.message(), "s3://mine/training data/train.jsonl has 3 bytes; a job reads at most 2 bytes of this file");
  EXPECT_FALSE(Env::Default()->FileExists(dir_.path() + "/copy3.jsonl"));
}

TEST_F(JobObjectStoreTest, MetricsAreStoredAsCsv) {
  const std::string csv = dir_.Write("m.csv", "step_number,epoch_number,training_loss,perplexity\n1,1,2.5,12.1\n");
  ASSERT_TRUE(jobs_->Upload(kMe, csv, {"mine", "output/job/training_artifacts/m.csv"}).ok());
  s3::GetObjectInput get;
  get.requester.account = kMe;
  get.bucket = "mine";
  get.key = "output/job/training_artifacts/m.csv";
  auto read = storage_->objects->GetObject(get);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->object.metadata.content_type, "text/csv");
}

TEST_F(JobObjectStoreTest, S3sErrorsAndOwnership) {
  const std::string local = dir_.Write("x.jsonl", "{}\n");
  const std::string copy = dir_.path() + "/copy";
  EXPECT_EQ(jobs_->Download(kMe, {"mine", "missing.jsonl"}, copy, kLimit).aws_code(), "NoSuchKey");
  EXPECT_EQ(jobs_->Download(kMe, {"nobucket", "x.jsonl"}, copy, kLimit).aws_code(), "NoSuchBucket");
  EXPECT_EQ(jobs_->CheckBucket(kMe, "nobucket").aws_code(), "NoSuchBucket");
  EXPECT_TRUE(jobs_->CheckBucket(kMe, "mine").ok());
  // Another account's bucket: AccessDenied whether or not the key exists, and nothing written.
  ASSERT_TRUE(jobs_->Upload(kOther, local, {"theirs", "x.jsonl"}).ok());
  EXPECT_EQ(jobs_->CheckBucket(kMe, "theirs").aws_code(), "AccessDenied");
  EXPECT_EQ(jobs_->Download(kMe, {"theirs", "x.jsonl"}, copy, kLimit).aws_code(), "AccessDenied");
  EXPECT_EQ(jobs_->Download(kMe, {"theirs", "none.jsonl"}, copy, kLimit).aws_code(), "AccessDenied");
  EXPECT_EQ(jobs_->Upload(kMe, local, {"theirs", "y.jsonl"}).aws_code(), "AccessDenied");
  EXPECT_FALSE(Env::Default()->FileExists(copy));
  // A local file that is not there: nothing is stored under the key.
  EXPECT_FALSE(jobs_->Upload(kMe, dir_.path() + "/no-such-file", {"mine", "z.jsonl"}).ok());
  EXPECT_EQ(jobs_->Download(kMe, {"mine", "z.jsonl"}, copy, kLimit).aws_code(), "NoSuchKey");
}

}  // namespace
}  // namespace lathe::server
