// The access keys (server/credentials.h): LoadOrCreateCredentials mints a credentials file for a
// new server; LoadCredentials (what `lathe worker` uses) finds the same keys in the same order but
// never writes anything.
#include "server/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "test_util.h"

namespace lathe::server {
namespace {

namespace fs = std::filesystem;

// Sets (or, with nullopt, unsets) an environment variable for one test, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class CredentialsTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return dir_.path() + "/data"; }
  lathe::testing::TempDir dir_;
  ScopedEnv id_{"LATHE_ACCESS_KEY_ID", std::nullopt}, secret_{"LATHE_SECRET_ACCESS_KEY", std::nullopt};
};

TEST_F(CredentialsTest, ReadingKeysThatAreNowhereFindsNoneAndWritesNothing) {
  auto found = LoadCredentials(DataDir(), "");
  EXPECT_EQ(found.status().code(), Status::Code::kNotFound) << found.status().ToString();
  EXPECT_NE(found.status().message().find("accessKeyId"), std::string::npos);
  EXPECT_FALSE(fs::exists(DataDir()));  // not even the folder
  // A config without keys is no different.
  const std::string config = dir_.Write("lathe.json", R"({"region": "eu-west-1"})");
  EXPECT_EQ(LoadCredentials(DataDir(), config).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(fs::exists(DataDir() + "/credentials.json"));
}

TEST_F(CredentialsTest, ReadingFindsTheKeysAServerMadeAndTheSameOrderItUses) {
  auto made = LoadOrCreateCredentials(DataDir(), "");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_TRUE(made->created);
  auto read = LoadCredentials(DataDir(), "");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->created);
  EXPECT_EQ(read->origin, DataDir() + "/credentials.json");
  EXPECT_EQ(read->credentials.access_key_id, made->credentials.access_key_id);
  EXPECT_EQ(read->credentials.secret_access_key, made->credentials.secret_access_key);
  {  // the environment before the file
    ScopedEnv id("LATHE_ACCESS_KEY_ID", "ENVKEY"), secret("LATHE_SECRET_ACCESS_KEY", "env-secret");
    read = LoadCredentials(DataDir(), "");
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->credentials.access_key_id, "ENVKEY");
    EXPECT_EQ(read->origin, "environment");
    // the config file before both
    const std::string config =
        dir_.Write("lathe.json", R"({"accessKeyId": "CONFIGKEY", "secretAccessKey": "config-secret"})");
    read = LoadCredentials(DataDir(), config);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->credentials.access_key_id, "CONFIGKEY");
    EXPECT_EQ(read->credentials.secret_access_key, "config-secret");
  }
}

TEST_F(CredentialsTest, BadKeysAreRefusedNotSkipped) {
  EXPECT_EQ(LoadCredentials(DataDir(), dir_.Write("a.json", R"({"accessKeyId": 7, "secretAccessKey": "s"})"))
                .status()
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(LoadCredentials(DataDir(), dir_.Write("b.json", R"({"accessKeyId": "only-the-id"})")).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_FALSE(LoadCredentials(DataDir(), dir_.File("missing.json")).ok());
  ScopedEnv id("LATHE_ACCESS_KEY_ID", "HALF");
  EXPECT_EQ(LoadCredentials(DataDir(), "").status().code(), Status::Code::kInvalidArgument);
  fs::create_directories(DataDir());
  dir_.Write("data/credentials.json", "not json");
  ScopedEnv no_id("LATHE_ACCESS_KEY_ID", std::nullopt);
  EXPECT_EQ(LoadCredentials(DataDir(), "").status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace lathe::server
