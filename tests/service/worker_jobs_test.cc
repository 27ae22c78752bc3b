// What the fine-tuning and evaluation runners share (worker_jobs.h): the default model's build
// failing with the builder's words and its log, and ended jobs whose rows could not be saved.
#include "service/worker_jobs.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::TempDir;

TEST(UnsavedEnds, KeptUntilASaveWorks) {
  UnsavedEnds ends;
  store::ResourceRow row;
  row.id = "job1";
  row.status = "Completed";
  ends.Keep(row);
  EXPECT_TRUE(ends.Has("job1"));
  int tries = 0;
  ends.Retry([&](const store::ResourceRow& r) {
    ++tries;
    EXPECT_EQ(r.status, "Completed");
    return Status::IOError("No space left on device");
  });
  EXPECT_TRUE(ends.Has("job1"));  // still kept: the runner must not pick the job again
  EXPECT_EQ(ends.size(), 1u);
  ends.Retry([&](const store::ResourceRow&) { ++tries; return Status::Ok(); });
  EXPECT_FALSE(ends.Has("job1"));
  EXPECT_EQ(tries, 2);
}

TEST(BuildDefaultModelIfNeeded, AFailedBuildSaysWhyAndWhereItsLogIs) {
  TempDir dir;
  dir.Write("fake-lathe", "#!/bin/sh\necho 'lathe: error: no room for the corpus' >&2\nexit 3\n");
  std::filesystem::permissions(dir.path() + "/fake-lathe", std::filesystem::perms::owner_all);
  ServiceConfig config;
  config.data_dir = dir.path() + "/data";
  config.worker_binary = dir.path() + "/fake-lathe";
  std::filesystem::create_directories(dir.path() + "/work");
  auto supervise = [](WorkerProcess* w) {
    while (!w->Poll()) {
    }
    return false;
  };
  Status s = BuildDefaultModelIfNeeded(config, kDefaultModelId, dir.path() + "/work", supervise);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("The default model could not be built: no room for the corpus"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("(log: " + dir.path() + "/work/build-default.log)"), std::string::npos) << s.message();
  // Silent builder: its exit status is said instead.
  dir.Write("fake-lathe", "#!/bin/sh\nexit 3\n");
  s = BuildDefaultModelIfNeeded(config, kDefaultModelId, dir.path() + "/work", supervise);
  EXPECT_NE(s.message().find("the build exited with status 3"), std::string::npos) << s.message();
  // Another model: nothing to build, no worker started.
  EXPECT_TRUE(BuildDefaultModelIfNeeded(config, "test.other", dir.path() + "/work", supervise).ok());
}

}  // namespace
}  // namespace lathe::service
