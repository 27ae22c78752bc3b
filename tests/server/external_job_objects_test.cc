// The jobs' object store with external buckets (server/external_job_objects.h), without sockets:
// which calls stay in lathe's own store, and how a configured bucket becomes an S3 endpoint.
// The calls that reach an external service are covered end to end by
// tests/integration/external_s3_test.py (a second lathe serve as the remote S3).
#include "server/external_job_objects.h"
#include "server/job_object_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace lathe::server {
namespace {

// Records what reaches lathe's own store.
class RecordingStore : public service::JobObjectStore {
 public:
  explicit RecordingStore(std::vector<std::string>* calls) : calls_(calls) {}
  Status CheckBucket(const std::string& account, const std::string& bucket) override {
    calls_->push_back("check " + account + " " + bucket);
    return Status::Ok();
  }
  Status Download(const std::string&, const service::S3Uri& object, const std::string&, uint64_t) override {
    calls_->push_back("download " + object.ToString());
    return Status::Ok();
  }
  Status Upload(const std::string&, const std::string&, const service::S3Uri& object) override {
    calls_->push_back("upload " + object.ToString());
    return Status::Ok();
  }

 private:
  std::vector<std::string>* calls_;
};

service::ExternalBucket Remote() {
  service::ExternalBucket b;
  b.endpoint = "http://127.0.0.1:9";
  b.region = "eu-west-3";
  b.access_key_id = "AKID";
  b.secret_access_key = "secret";
  b.path_style = false;
  b.ca_bundle = "/etc/ca.pem";
  return b;
}

TEST(ExternalJobObjects, WithoutExternalBucketsTheLocalStoreIsUsedAsItIs) {
  std::vector<std::string> calls;
  auto local = std::make_unique<RecordingStore>(&calls);
  service::JobObjectStore* raw = local.get();
  EXPECT_EQ(WithExternalBuckets(std::move(local), {}).get(), raw);
}

TEST(ExternalJobObjects, BucketsNotConfiguredStayLocal) {
  std::vector<std::string> calls;
  auto store = WithExternalBuckets(std::make_unique<RecordingStore>(&calls), {{"remote-bucket", Remote()}});
  EXPECT_TRUE(store->CheckBucket("123456789012", "local-bucket").ok());
  EXPECT_TRUE(store->Download("123456789012", {"local-bucket", "train.jsonl"}, "/tmp/x", 10).ok());
  service::ObjectFacts facts;
  EXPECT_TRUE(store->DownloadVersion("123456789012", {"local-bucket", "v.jsonl"}, "/tmp/x", 10, &facts).ok());
  EXPECT_TRUE(store->Upload("123456789012", "/tmp/x", {"local-bucket", "out/m.csv"}).ok());
  EXPECT_EQ(calls, (std::vector<std::string>{"check 123456789012 local-bucket", "download s3://local-bucket/train.jsonl",
                                             "download s3://local-bucket/v.jsonl", "upload s3://local-bucket/out/m.csv"}));
}

TEST(ExternalJobObjects, AConfiguredBucketBecomesASignedEndpoint) {
  aws::S3Endpoint e = EndpointOf(Remote());
  EXPECT_EQ(e.url, "http://127.0.0.1:9");
  EXPECT_EQ(e.region, "eu-west-3");
  ASSERT_TRUE(e.credentials.has_value());
  EXPECT_EQ(e.credentials->access_key_id, "AKID");
  EXPECT_EQ(e.credentials->secret_access_key, "secret");
  EXPECT_FALSE(e.path_style);
  EXPECT_EQ(e.ca_bundle, "/etc/ca.pem");
}

TEST(ExternalJobObjects, ArtifactsKeepTheirContentTypeWhicheverStoreHoldsThem) {
  EXPECT_EQ(JobArtifactContentType("o/step_wise_training_metrics.csv"), "text/csv");
  EXPECT_EQ(JobArtifactContentType("o/manifest.json"), "application/json");
  EXPECT_EQ(JobArtifactContentType("o/adapter.safetensors"), "");
}

}  // namespace
}  // namespace lathe::server
