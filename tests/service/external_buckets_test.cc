// The config's "externalBuckets" (service/external_buckets.h): the three ways to give keys, and
// every mistake refused at start-up with the field it is in, never echoing a secret.
#include "service/external_buckets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "service/service_config.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::TempDir;

nlohmann::json Parse(const std::string& text) { return nlohmann::json::parse(text); }

TEST(ExternalBuckets, KeysInlineFromTheEnvironmentOrAFile) {
  TempDir dir;
  const std::string keys = dir.Write("keys.json", R"({"accessKeyId": "FILEKEY", "secretAccessKey": "file-secret"})");
  setenv("LATHE_TEST_EXT_ID", "ENVKEY", 1);
  setenv("LATHE_TEST_EXT_SECRET", "env-secret", 1);
  auto b = ParseExternalBuckets(Parse(R"({
      "inline-bucket": {"endpoint": "https://s3.eu-west-1.amazonaws.com/", "region": "eu-west-1",
                        "accessKeyId": "AKID", "secretAccessKey": "s3cr3t", "pathStyle": false},
      "env-bucket": {"endpoint": "http://10.0.0.5:9000", "accessKeyIdEnv": "LATHE_TEST_EXT_ID",
                     "secretAccessKeyEnv": "LATHE_TEST_EXT_SECRET"},
      "file-bucket": {"endpoint": "http://minio:9000", "credentialsFile": ")" + keys + R"("}})"),
                                "c.json: \"externalBuckets\"");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const ExternalBucket& in = b->at("inline-bucket");
  EXPECT_EQ(in.endpoint, "https://s3.eu-west-1.amazonaws.com");  // the trailing '/' dropped
  EXPECT_EQ(in.region, "eu-west-1");
  EXPECT_FALSE(in.path_style);
  EXPECT_EQ(in.secret_access_key, "s3cr3t");
  EXPECT_EQ(b->at("env-bucket").access_key_id, "ENVKEY");
  EXPECT_EQ(b->at("env-bucket").secret_access_key, "env-secret");
  EXPECT_EQ(b->at("env-bucket").region, "us-east-1");  // the default
  EXPECT_TRUE(b->at("env-bucket").path_style);
  EXPECT_EQ(b->at("file-bucket").access_key_id, "FILEKEY");
  EXPECT_EQ(b->at("file-bucket").secret_access_key, "file-secret");
}

TEST(ExternalBuckets, MistakesNameTheFieldAndNeverTheSecret) {
  TempDir dir;
  const std::string not_json = dir.Write("bad-keys.json", "secretAccessKey=hunter2-not-json");
  unsetenv("LATHE_TEST_EXT_UNSET");
  setenv("LATHE_TEST_EXT_SET", "ENVKEY", 1);
  const std::string keys = R"("accessKeyId": "AKID", "secretAccessKey": "hunter2")";
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"([])", "\"externalBuckets\" must be an object"},
           {R"({"Bad_Name": {}})", "a bucket name must follow S3's rules"},
           {R"({"ok-bucket": 3})", "ok-bucket must be an object"},
           {R"({"ok-bucket": {)" + keys + "}}", "ok-bucket.endpoint is required"},
           {R"({"ok-bucket": {"endpoint": "ftp://h", )" + keys + "}}", "ok-bucket.endpoint must be an http://"},
           {R"({"ok-bucket": {"endpoint": "http://u:p@h", )" + keys + "}}", "ok-bucket.endpoint must be a URL without user info"},
           {R"({"ok-bucket": {"endpoint": "http://h?x=1", )" + keys + "}}", "ok-bucket.endpoint must be a URL without"},
           {R"({"ok-bucket": {"endpoint": "http://", )" + keys + "}}", "ok-bucket.endpoint must be a URL that names a host"},
           {R"({"ok-bucket": {"endpoint": 5, )" + keys + "}}", "ok-bucket.endpoint must be a string"},
           {R"({"ok-bucket": {"endpoint": "http://h", "region": "US East", )" + keys + "}}", "ok-bucket.region must be"},
           {R"({"ok-bucket": {"endpoint": "http://h", "pathStyle": "yes", )" + keys + "}}", "ok-bucket.pathStyle must be true or false"},
           {R"({"ok-bucket": {"endpoint": "http://h", "caBundle": "/no/such.pem", )" + keys + "}}", "ok-bucket.caBundle must be"},
           {R"({"ok-bucket": {"endpoint": "http://h", "secretKey": "x", )" + keys + "}}", "ok-bucket.secretKey: unknown field"},
           {R"({"ok-bucket": {"endpoint": "http://h"}})", "must give its keys one way"},
           {R"({"ok-bucket": {"endpoint": "http://h", "accessKeyId": "AKID"}})", "must give both"},
           {R"({"ok-bucket": {"endpoint": "http://h", "accessKeyIdEnv": "LATHE_TEST_EXT_SET", "secretAccessKey": "y", "accessKeyId": "z"}})",
            "must give its keys one way"},
           {R"({"ok-bucket": {"endpoint": "http://h", "accessKeyIdEnv": "LATHE_TEST_EXT_UNSET", "secretAccessKeyEnv": "LATHE_TEST_EXT_UNSET"}})",
            "names the environment variable LATHE_TEST_EXT_UNSET, which is not set"},
           {R"({"ok-bucket": {"endpoint": "http://h", "accessKeyIdEnv": "A-B; rm", "secretAccessKeyEnv": "C"}})",
            "ok-bucket.accessKeyIdEnv must name an environment variable"},
           {R"({"ok-bucket": {"endpoint": "http://h", "credentialsFile": "relative.json"}})",
            "ok-bucket.credentialsFile must be an absolute file path"},
           {R"({"ok-bucket": {"endpoint": "http://h", "credentialsFile": ")" + not_json + R"("}})",
            "must be a JSON object {\"accessKeyId\""},
           {R"({"ok-bucket": {"endpoint": "http://h", "accessKeyId": "AKID", "secretAccessKey": "has space"}})",
            "secret access key must be 1 to 1024 printable characters"},
       }) {
    auto b = ParseExternalBuckets(Parse(text), "c.json: \"externalBuckets\"");
    ASSERT_FALSE(b.ok()) << text;
    EXPECT_NE(b.status().message().find(needle), std::string::npos) << b.status().message();
    EXPECT_EQ(b.status().message().find("hunter2"), std::string::npos) << b.status().message();
  }
  // More buckets than the bound.
  nlohmann::json many = nlohmann::json::object();
  for (size_t i = 0; i <= kMaxExternalBuckets; ++i) many["bucket-" + std::to_string(i)] = nlohmann::json::object();
  EXPECT_FALSE(ParseExternalBuckets(many, "x").ok());
}

TEST(ExternalBuckets, ReadFromTheServiceConfig) {
  TempDir dir;
  ServiceConfig defaults;
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"externalBuckets": {"team-data":
      {"endpoint": "http://127.0.0.1:9000", "accessKeyId": "AKID", "secretAccessKey": "s"}}})"), defaults);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->external_buckets.at("team-data").endpoint, "http://127.0.0.1:9000");
  auto bad = LoadServiceConfig(dir.Write("d.json", R"({"externalBuckets": {"team-data": {"endpoint": "x"}}})"), defaults);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("d.json: \"externalBuckets\".team-data.endpoint"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace lathe::service
