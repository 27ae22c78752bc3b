// The data directory's layout version (store/data_layout.h).
#include "store/data_layout.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace lathe::store {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;

TEST(DataLayout, ADirectoryWithoutTheFileIsLayoutOneAndGetsTheFile) {
  TempDir dir;
  EXPECT_EQ(*ReadDataLayoutVersion(dir.path()), 0);
  auto found = UpgradeDataLayout(dir.path(), DataLayoutMigrations());
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, 0);
  EXPECT_EQ(ReadFile(dir.File("layout-version")), std::to_string(DataLayoutVersion()) + "\n");
  EXPECT_EQ(*UpgradeDataLayout(dir.path(), DataLayoutMigrations()), DataLayoutVersion());
}

// A later layout (here: jobs/ renamed) runs once, is recorded step by step, and resumes where a
// failed start stopped.
TEST(DataLayout, MigrationsRunInOrderAndAreRecordedStepByStep) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/jobs/a");
  int third_runs = 0;
  bool third_fails = true;
  std::vector<LayoutMigration> migrations = DataLayoutMigrations();
  migrations.push_back({2, "jobs/ becomes training-jobs/", [](const std::string& d) {
                          std::error_code ec;
                          if (std::filesystem::exists(d + "/jobs")) std::filesystem::rename(d + "/jobs", d + "/training-jobs", ec);
                          return ec ? Status::IOError(ec.message()) : Status::Ok();
                        }});
  migrations.push_back({3, "a step that fails once", [&](const std::string&) {
                          ++third_runs;
                          return third_fails ? Status::IOError("disk full") : Status::Ok();
                        }});
  auto first = UpgradeDataLayout(dir.path(), migrations);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("stays at layout 2"), std::string::npos) << first.status().message();
  EXPECT_EQ(*ReadDataLayoutVersion(dir.path()), 2);
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() + "/training-jobs/a"));
  third_fails = false;
  ASSERT_TRUE(UpgradeDataLayout(dir.path(), migrations).ok());
  EXPECT_EQ(*ReadDataLayoutVersion(dir.path()), 3);
  EXPECT_EQ(third_runs, 2);
}

TEST(DataLayout, ANewerLayoutIsRefusedAndAForeignFileIsNamed) {
  TempDir dir;
  dir.Write("layout-version", "7\n");
  auto newer = UpgradeDataLayout(dir.path(), DataLayoutMigrations());
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(newer.status().message().find("layout version 7"), std::string::npos);
  EXPECT_NE(newer.status().message().find(dir.File("layout-version")), std::string::npos);
  EXPECT_EQ(ReadFile(dir.File("layout-version")), "7\n");  // untouched
  for (const std::string& bad : std::vector<std::string>{"seven\n", "", "1 2\n", "12345678\n", std::string(100, '1')}) {
    dir.Write("layout-version", bad);
    auto r = ReadDataLayoutVersion(dir.path());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
}

}  // namespace
}  // namespace lathe::store
