// `lathe data` on s3:// names without a server: how keys become request paths, how an s3:// output
// prefix stands for a local folder (so the data layer's outputs and manifest name the URIs), and
// what the user reads when the endpoint cannot be reached.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/s3_client.h"
#include "cli/s3_staging.h"
#include "data/split.h"
#include "test_util.h"

namespace lathe::cli {
namespace {

using lathe::testing::TempDir;

TEST(S3ObjectPath, EncodesTheKeyAsBotocoreDoesKeepingSlashes) {
  EXPECT_EQ(S3ObjectPath({"bucket", "training-data/train.jsonl"}), "/bucket/training-data/train.jsonl");
  EXPECT_EQ(S3ObjectPath({"bucket", "my data/100%.jsonl"}), "/bucket/my%20data/100%25.jsonl");
  EXPECT_EQ(S3ObjectPath({"bucket", "a+b=c&d?e#f"}), "/bucket/a%2Bb%3Dc%26d%3Fe%23f");
  EXPECT_EQ(S3ObjectPath({"bucket", "été/x~_.-"}), "/bucket/%C3%A9t%C3%A9/x~_.-");
  EXPECT_EQ(S3ObjectPath({"bucket", "../a//b"}), "/bucket/../a//b");  // sent as is; S3 never normalizes keys
}

// An endpoint nothing listens on: port 1 on loopback refuses at once.
ClientOptions Unreachable() {
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:1";
  return o;
}

TEST(S3Staging, AnOutputPrefixStandsForALocalFolderAndOutputsNameTheUris) {
  TempDir dir;
  std::string all;
  for (int i = 0; i < 10; ++i) all += R"({"prompt": "question )" + std::to_string(i) + R"(", "completion": "answer"})" "\n";
  const std::string input = dir.Write("all.jsonl", all);
  S3Staging staging(Unreachable());
  ASSERT_TRUE(staging.Input(input).ok());  // a local name is left alone
  ASSERT_TRUE(staging.OutputFolder("s3://my-bucket/split/").ok());
  data::SplitOptions o;
  o.out_dir = "s3://my-bucket/split";
  o.seed = 3;
  auto r = data::SplitDataset(staging.env(), input, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->train_path, "s3://my-bucket/split/train.jsonl");
  EXPECT_EQ(r->manifest["outputs"]["train"]["path"], "s3://my-bucket/split/train.jsonl");
  EXPECT_EQ(r->train_records + r->validation_records, 10u);
  // What was written is readable under the same names, and nothing landed beside the input.
  std::string text;
  ASSERT_TRUE(ReadFileToString(staging.env(), "s3://my-bucket/split/manifest.json", &text).ok());
  EXPECT_NE(text.find("s3://my-bucket/split/validation.jsonl"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/s3:"));
  // An s3:// name that was not staged is a missing file, not some local path.
  EXPECT_FALSE(staging.env()->FileExists("s3://my-bucket/other.jsonl"));

  // The upload cannot reach the endpoint: the message names the object and what to do.
  Status up = staging.Upload("s3://my-bucket/split", {"train.jsonl"});
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.message().find("s3://my-bucket/split/train.jsonl: cannot reach the S3 endpoint http://127.0.0.1:1"),
            std::string::npos)
      << up.message();
  EXPECT_NE(up.message().find("lathe serve"), std::string::npos) << up.message();
}

TEST(S3Staging, InputsAreCheckedBeforeAnyRequest) {
  S3Staging staging(Unreachable());
  EXPECT_EQ(staging.Input("s3://bucket/folder/").message(),
            "s3://bucket/folder/: names a folder, not an object (the URI should be a file)");
  EXPECT_NE(staging.Input("s3://Bucket/k").message().find("lowercase"), std::string::npos);
  Status down = staging.Input("s3://bucket/train.jsonl");
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.message().find("s3://bucket/train.jsonl: cannot reach the S3 endpoint"), std::string::npos)
      << down.message();
}

}  // namespace
}  // namespace lathe::cli
