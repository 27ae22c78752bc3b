// SIGKILL during a cleanup: a child process runs it and is killed after its k-th step, for every
// k until a run completes; each time lathe.db must be consistent with the disk, and the next run
// must finish the job, ending where an uninterrupted run ends.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "cleanup_fixture.h"

namespace lathe::cleanup {
namespace {

class CleanupKillTest : public CleanupFixture {
 protected:
  void SetUp() override {}  // each kill point has its own data directory

  void Populate(int k) {
    data_dir_ = dir_.path() + "/data-" + std::to_string(k);
    Open();
    const std::string a1 = AddModel("a1", 90 * kDayMs), a2 = AddModel("a2", 80 * kDayMs);
    const std::string a3 = AddModel("a3", 70 * kDayMs), a4 = AddModel("a4", 60 * kDayMs);
    Register("alpha", a1);
    Register("alpha", a2);
    Register("alpha", a3);
    Register("alpha", a4);
    ASSERT_TRUE(registry_->SetAlias("alpha", "production", 1, "t", "r").ok());
    AddModel("loose", 50 * kDayMs);
    AddThroughput("idle", AddModel("served", 50 * kDayMs), 48 * kHourMs);
    Close();
  }

  // After a killed run: lathe.db is consistent, and a rerun ends where an uninterrupted run ends.
  void ExpectRerunFinishes(int k);

  static service::RetentionPolicy TestPolicy() { return Policy(1, 30 * kDayMs, 24 * kHourMs); }

  // Runs the cleanup in a child killed at its k-th step (or, with delay_us, that long after it
  // starts, wherever it is: inside a transaction, a rename, a remove); returns whether it finished.
  bool RunKilledAt(int k, int delay_us = -1) {
    const pid_t pid = fork();
    if (pid == 0) {
      int steps = 0;
      hooks_.on_step = [&](const std::string&) {
        if (++steps == k) raise(SIGKILL);
      };
      Open();
      auto report = cleaner_->Run(TestPolicy(), false);
      _exit(report.ok() ? 0 : 3);
    }
    if (delay_us >= 0) {
      usleep(static_cast<useconds_t>(delay_us));
      kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0);
      return true;
    }
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return false;
  }
};

TEST_F(CleanupKillTest, EveryKillPointLeavesAConsistentRegistryAndTheRerunFinishes) {
  int k = 1;
  for (; k < 100; ++k) {
    Populate(k);
    const bool finished = RunKilledAt(k);
    ExpectRerunFinishes(k);
    if (finished || HasFailure()) break;
  }
  EXPECT_GT(k, 10);  // the run has that many steps: every one of them was a kill point
}

TEST_F(CleanupKillTest, KillsAtRandomMomentsLeaveAConsistentRegistry) {
  std::mt19937 random(15);  // fixed: a failure reproduces
  for (int i = 0; i < 12 && !HasFailure(); ++i) {
    Populate(1000 + i);
    RunKilledAt(/*k=*/-1, std::uniform_int_distribution<int>(0, 30000)(random));
    ExpectRerunFinishes(1000 + i);
  }
}

void CleanupKillTest::ExpectRerunFinishes(int k) {
  hooks_.on_step = nullptr;
  Open();
  ExpectConsistent();
  auto rerun = cleaner_->Run(TestPolicy(), false);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  // Where an uninterrupted run ends: the aliased, the newest version's models stay; the rest go.
  for (const char* kept : {"a1", "a4"}) EXPECT_TRUE(HasModel(kept) && HasFolder(kept)) << "k=" << k << " " << kept;
  for (const char* gone : {"a2", "a3", "loose", "served"})
    EXPECT_FALSE(HasModel(gone) || HasFolder(gone)) << "k=" << k << " " << gone;
  EXPECT_FALSE(db()->Find(service::kThroughputKind, "idle").ok());
  for (int v : {2, 3}) EXPECT_TRUE(registry_->GetVersion("alpha", v)->metadata.count(kModelDeletedKey)) << "k=" << k;
  EXPECT_TRUE(db()->List(kIntentKind)->empty());
  EXPECT_TRUE(!std::filesystem::exists(data_dir_ + "/trash") || std::filesystem::is_empty(data_dir_ + "/trash"));
  ExpectConsistent();
  Close();
}

}  // namespace
}  // namespace lathe::cleanup
