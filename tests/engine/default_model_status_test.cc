// Where the default model's build stands, as other processes read it (ReadDefaultModelStatus):
// absent, building (someone holds the build's lock; its progress file says how far), interrupted
// (a progress file and no lock), built (a card of the current recipe; an older recipe's model is
// not the default model any more), and progress files that are not lathe's.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine/default_model.h"
#include "engine/default_model_status.h"
#include "test_util.h"

namespace lathe::engine {
namespace {

using lathe::testing::TempDir;

TEST(DefaultModelStatus, AbsentInterruptedBuildingBuilt) {
  TempDir tmp;
  const std::string root = tmp.path();
  EXPECT_EQ(ReadDefaultModelStatus(root).state, "absent");
  EXPECT_EQ(ReadDefaultModelStatus(root).dir, root + "/models/lathe-default");

  tmp.Write("models/keep", "");
  WriteDefaultModelProgress(root, {"pretraining", 0.4, "step 40/100", 90}, 1'700'000'000'000);
  DefaultModelStatus s = ReadDefaultModelStatus(root);
  EXPECT_EQ(s.state, "interrupted");  // a progress file, but nobody holds the lock
  EXPECT_EQ(s.progress.stage, "pretraining");
  EXPECT_DOUBLE_EQ(s.progress.fraction, 0.4);

  // A builder holds the lock (flock on another open file description conflicts in one process too).
  const int fd = ::open(DefaultModelLockPath(root).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  s = ReadDefaultModelStatus(root);
  EXPECT_EQ(s.state, "building");
  EXPECT_EQ(s.progress.detail, "step 40/100");
  EXPECT_DOUBLE_EQ(s.progress.eta_seconds, 90);
  EXPECT_GT(s.elapsed_seconds, 0);
  ::close(fd);
  EXPECT_EQ(ReadDefaultModelStatus(root).state, "interrupted");

  // A model of an older recipe (its card has no "recipe": the first one) is not the default model.
  tmp.Write("models/lathe-default/lathe_model_card.json", R"({"name": "lathe-default", "heldoutPerplexity": 76.3})");
  EXPECT_NE(ReadDefaultModelStatus(root).state, "built");
  EXPECT_EQ(BuiltDefaultModelDir(root), "");
  tmp.Write("models/lathe-default/lathe_model_card.json",
            std::string(R"({"recipe": ")") + kDefaultRecipe + R"(", "heldoutPerplexity": 41.5})");
  s = ReadDefaultModelStatus(root);
  EXPECT_EQ(s.state, "built");
  EXPECT_DOUBLE_EQ(s.heldout_perplexity, 41.5);
  EXPECT_EQ(BuiltDefaultModelDir(root), root + "/models/lathe-default");
}

TEST(DefaultModelStatus, ProgressFilesThatAreNotLathesAreIgnored) {
  TempDir tmp;
  const std::string root = tmp.path();
  DefaultModelProgress p;
  int64_t started = 0;
  for (const std::string bad : {"", "not json", "[1, 2]", R"({"stage": 5})", R"({"fraction": "half"})"}) {
    tmp.Write("models/lathe-default.progress.json", bad);
    EXPECT_FALSE(ReadDefaultModelProgress(root, &p, &started)) << bad;
    EXPECT_EQ(ReadDefaultModelStatus(root).state, "absent") << bad;
  }
  tmp.Write("models/lathe-default.progress.json", std::string(70 * 1024, ' ') + "{}");  // over the bound
  EXPECT_FALSE(ReadDefaultModelProgress(root, &p, &started));
  // Numbers no build writes are brought within what one can (progress bars are drawn from them).
  tmp.Write("models/lathe-default.progress.json", R"({"stage": "pretraining", "fraction": -5, "etaSeconds": 1e300})");
  ASSERT_TRUE(ReadDefaultModelProgress(root, &p, &started));
  EXPECT_EQ(p.fraction, 0);
  EXPECT_EQ(p.eta_seconds, 1e7);
  tmp.Write("models/lathe-default.progress.json", R"({"fraction": 7, "etaSeconds": -40, "detail": ")" +
                                                       std::string(5000, 'x') + R"("})");
  ASSERT_TRUE(ReadDefaultModelProgress(root, &p, &started));
  EXPECT_EQ(p.fraction, 1);
  EXPECT_EQ(p.eta_seconds, -1);
  EXPECT_EQ(p.detail.size(), 256u);
  tmp.Write("models/lathe-default.progress.json", R"({"stage": "corpus", "fraction": 1, "startedMs": 5})");
  ASSERT_TRUE(ReadDefaultModelProgress(root, &p, &started));
  EXPECT_EQ(p.stage, "corpus");
  EXPECT_EQ(p.eta_seconds, -1);  // not written: not known
  EXPECT_EQ(started, 5);
}

TEST(DefaultModelStatus, AnUnknownRecipeIsRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  DefaultModelOptions o;
  o.data_dir = tmp.path();
  o.recipe = "v9";
  auto built = EnsureDefaultModel(o);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(built.status().message().find("v9"), std::string::npos);
  EXPECT_EQ(ReadDefaultModelStatus(tmp.path()).state, "absent");
}

}  // namespace
}  // namespace lathe::engine
