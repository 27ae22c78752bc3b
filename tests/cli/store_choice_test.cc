// The store a CLI tool opens (cli/store_choice.h): --store, else the config's "store", else the
// data directory's lathe.db; bad URLs and config values refused; passwords never shown.
#include "cli/store_choice.h"

#include <gtest/gtest.h>

#include "core/env.h"
#include "test_util.h"

namespace lathe::cli {
namespace {

using lathe::testing::TempDir;

constexpr const char* kFlagUrl = "postgresql://flag@db-a/lathe";
constexpr const char* kConfigUrl = "postgresql://config@db-b/lathe";

std::string ConfigWithStore(const TempDir& dir) {
  return dir.Write("serve.json", std::string(R"({"store": ")") + kConfigUrl + R"("})");
}

TEST(StoreChoice, StoreFlagWinsOverTheConfigAndTheDataDirectory) {
  TempDir dir;
  auto chosen = ChooseStore({kFlagUrl, ConfigWithStore(dir), dir.path()});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_TRUE(chosen->shared);
  EXPECT_EQ(chosen->location, kFlagUrl);
  EXPECT_EQ(chosen->data_dir, dir.path());  // the node's own files are still there
}

TEST(StoreChoice, TheConfigsStoreWinsOverTheDataDirectory) {
  TempDir dir;
  auto chosen = ChooseStore({"", ConfigWithStore(dir), dir.path()});
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_TRUE(chosen->shared);
  EXPECT_EQ(chosen->location, kConfigUrl);

  // A config the caller loaded already is used as it is (not read again).
  service::ServiceConfig loaded;
  loaded.store_url = "postgres://loaded@db-c/lathe";
  chosen = ChooseStore({"", "/no/such/config.json", dir.path()}, &loaded);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(chosen->location, loaded.store_url);
  chosen = ChooseStore({kFlagUrl, "", dir.path()}, &loaded);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->location, kFlagUrl);
}

TEST(StoreChoice, WithoutEitherItIsTheDataDirectorysLatheDb) {
  TempDir dir;
  const std::string no_store = dir.Write("serve.json", R"({"region": "eu-west-1"})");
  for (const std::string& config : {std::string(), no_store}) {
    auto chosen = ChooseStore({"", config, dir.path()});
    ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
    EXPECT_FALSE(chosen->shared);
    EXPECT_EQ(chosen->location, dir.path() + "/lathe.db");
    EXPECT_EQ(chosen->shown(), dir.path() + "/lathe.db");
  }
}

TEST(StoreChoice, OpeningAMissingLatheDbNamesTheDataDirectoryAndMakesNothing) {
  TempDir dir;
  auto db = OpenChosenStore({"", "", dir.path()});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kNotFound);
  EXPECT_NE(db.status().message().find("no lathe.db in " + dir.path() + " (is --data-dir right?"), std::string::npos)
      << db.status().message();
  EXPECT_NE(db.status().message().find("--store postgresql://"), std::string::npos);
  EXPECT_FALSE(Env::Default()->FileExists(dir.path() + "/lathe.db"));

  // An existing one opens, and says where it is.
  ASSERT_TRUE(store::MetadataStore::Open(dir.path() + "/lathe.db").ok());
  ChosenStore chosen;
  db = OpenChosenStore({"", "", dir.path()}, nullptr, &chosen);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(chosen.location, dir.path() + "/lathe.db");
}

TEST(StoreChoice, BadStoreValuesAreRefused) {
  TempDir dir;
  for (const char* bad : {"mysql://db/lathe", "sqlite:///x.db", "/var/lib/lathe/lathe.db", "postgresql:/x"}) {
    auto chosen = ChooseStore({bad, "", dir.path()});
    ASSERT_FALSE(chosen.ok()) << bad;
    EXPECT_EQ(chosen.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(chosen.status().message(), "--store: expected a postgresql:// URL");
  }
  // Bounded as the config's "store" is: the URL is echoed in messages.
  EXPECT_NE(CheckStoreFlag("postgresql://h/" + std::string(2048, 'x')).message().find("at most 2048"), std::string::npos);
  EXPECT_TRUE(CheckStoreFlag("postgresql://h/" + std::string(2048 - 15, 'x')).ok());
  EXPECT_NE(CheckStoreFlag("postgresql://h/db\x1b[2J").message().find("control characters"), std::string::npos);
  EXPECT_TRUE(CheckStoreFlag("").ok());
  EXPECT_TRUE(CheckStoreFlag("postgres://u@h/db").ok());
  // A config's "store" is checked by the config's own parser, which names the key.
  const std::string bad_config = dir.Write("bad.json", R"({"store": "sqlite:///x"})");
  auto chosen = ChooseStore({"", bad_config, dir.path()});
  ASSERT_FALSE(chosen.ok());
  EXPECT_NE(chosen.status().message().find("\"store\""), std::string::npos) << chosen.status().message();
  EXPECT_FALSE(ChooseStore({"", dir.path() + "/missing.json", dir.path()}).ok());
}

TEST(StoreChoice, ThePasswordIsNeverShown) {
  TempDir dir;
  auto chosen = ChooseStore({"postgresql://lathe:hunter2@127.0.0.1:1/lathe?connect_timeout=2", "", dir.path()});
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->shown().find("hunter2"), std::string::npos) << chosen->shown();
  EXPECT_NE(chosen->shown().find("***"), std::string::npos) << chosen->shown();
  // A store that cannot be reached: its error, without the password.
  auto db = OpenChosenStore({chosen->location, "", dir.path()});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().message().find("hunter2"), std::string::npos) << db.status().message();
  EXPECT_NE(db.status().message().find("127.0.0.1"), std::string::npos) << db.status().message();
}

}  // namespace
}  // namespace lathe::cli
