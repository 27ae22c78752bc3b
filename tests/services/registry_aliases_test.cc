// Aliases: history at past times, rollback, refusals, and a SIGKILL in the middle of moves.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

using RegistryAliases = RegistryFixture;

constexpr int64_t kHour = 3600 * 1000;

TEST_F(RegistryAliases, HistoryAnswersWhatWasInProductionAtAPastTime) {
  for (int i = 0; i < 3; ++i) Register("g");
  const int64_t t1 = now_;
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "alice", "first release").ok());
  now_ += 24 * kHour;
  const int64_t t2 = now_;
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "bob", "better scores").ok());
  now_ += 24 * kHour;
  const int64_t t3 = now_;
  auto third = registry_->SetAlias("g", "production", 3, "carol", "v3");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->from_version, 2);
  ASSERT_TRUE(registry_->SetAlias("g", "staging", 3, "carol", "").ok());

  EXPECT_EQ(*registry_->AliasAt("g", "production", t1 - 1), 0);  // before it existed
  EXPECT_EQ(*registry_->AliasAt("g", "production", t1), 1);
  EXPECT_EQ(*registry_->AliasAt("g", "production", t2 - 1), 1);
  EXPECT_EQ(*registry_->AliasAt("g", "production", t2 + 10 * kHour), 2);  // "last Tuesday at 10:00"
  EXPECT_EQ(*registry_->AliasAt("g", "production", t3), 3);
  EXPECT_EQ(*registry_->AliasAt("g", "production", t3 + 1000 * kHour), 3);
  EXPECT_EQ(*registry_->AliasAt("g", "nothing", t3), 0);

  auto history = registry_->AliasHistory("g", "production");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].from_version, 1);
  EXPECT_EQ((*history)[1].to_version, 2);
  EXPECT_EQ((*history)[1].actor, "bob");
  EXPECT_EQ((*history)[1].reason, "better scores");
  EXPECT_EQ((*history)[1].time_ms, t2);
  EXPECT_EQ(*registry_->Aliases("g"), (std::map<std::string, int>{{"production", 3}, {"staging", 3}}));
  EXPECT_EQ(registry_->Resolve("g:production")->version, 3);
  EXPECT_EQ(registry_->Resolve("g/2")->version, 2);

  auto events = db_->EventsAfter(0, 100);
  const store::OutboxEvent& moved = events->at(events->size() - 2);  // production -> 3
  EXPECT_EQ(moved.detail_type, "Model Alias Moved");
  EXPECT_EQ(moved.detail["fromVersion"], 2);
  EXPECT_EQ(moved.detail["toVersion"], 3);
  EXPECT_EQ(moved.detail["actor"], "carol");
  EXPECT_EQ(moved.detail["rollback"], false);
  EXPECT_EQ(Events("Model Alias Moved"), 4u);
}

TEST_F(RegistryAliases, MovingToWhereItIsRecordsNothing) {
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "a", "").ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "a", "retry").ok());
  EXPECT_EQ(registry_->AliasHistory("g", "production")->size(), 1u);
}

// A clock stepped back (NTP) never puts a move before the one it followed.
TEST_F(RegistryAliases, AClockGoingBackwardsKeepsHistoryInOrder) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "p", 1, "", "").ok());
  now_ -= kHour;
  ASSERT_TRUE(registry_->SetAlias("g", "p", 2, "", "").ok());
  auto history = registry_->AliasHistory("g", "p");
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].to_version, 2);
  EXPECT_EQ((*history)[0].time_ms, (*history)[1].time_ms);
  EXPECT_EQ(*registry_->AliasAt("g", "p", (*history)[1].time_ms), 2);
}

TEST_F(RegistryAliases, RollbackTwiceGoesBackAlongTheHistory) {
  for (int i = 0; i < 4; ++i) Register("g");
  for (int v = 1; v <= 3; ++v) {
    ASSERT_TRUE(registry_->SetAlias("g", "production", v, "deployer", "").ok());
    now_ += kHour;
  }
  auto first = registry_->Rollback("g", "production", "oncall", "errors up");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->from_version, 3);
  EXPECT_EQ(first->to_version, 2);
  EXPECT_TRUE(first->rollback);
  EXPECT_EQ(first->reason, "errors up");
  now_ += kHour;
  auto second = registry_->Rollback("g", "production", "oncall", "");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->to_version, 1);
  EXPECT_NE(second->reason.find("rollback of the move to version 2"), std::string::npos) << second->reason;
  EXPECT_EQ(registry_->Rollback("g", "production", "oncall", "").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);

  // A new move after rollbacks is what the next rollback undoes.
  ASSERT_TRUE(registry_->SetAlias("g", "production", 4, "deployer", "").ok());
  EXPECT_EQ(registry_->Rollback("g", "production", "oncall", "")->to_version, 1);
  auto history = registry_->AliasHistory("g", "production");
  ASSERT_EQ(history->size(), 7u);
  for (size_t i = 1; i < history->size(); ++i) EXPECT_EQ((*history)[i].from_version, (*history)[i - 1].to_version);
  EXPECT_EQ(registry_->Rollback("g", "nothing", "", "").status().code(), Status::Code::kNotFound);
}

TEST_F(RegistryAliases, RollbackToADeletedVersionConflicts) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "", "").ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "", "").ok());
  ASSERT_TRUE(registry_->DeleteVersion("g/1").ok());  // no longer aliased
  EXPECT_EQ(registry_->Rollback("g", "production", "", "").status().code(), Status::Code::kConflict);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 2);
}

TEST_F(RegistryAliases, AliasedVersionsStayAndOnlyServableVersionsAreAliased) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "", "").ok());
  EXPECT_EQ(registry_->DeleteVersion("g/1").code(), Status::Code::kConflict);
  EXPECT_TRUE(registry_->GetVersion("g/1").ok());
  EXPECT_EQ(registry_->UpdateVersion("g/1", VersionStatus::kRejected, "", {}, {}, "x").status().code(),
            Status::Code::kConflict);

  ASSERT_TRUE(registry_->UpdateVersion("g/2", VersionStatus::kRejected, "bad answers", {}, {}, "x").ok());
  auto refused = registry_->SetAlias("g", "production", 2, "", "");
  EXPECT_EQ(refused.status().code(), Status::Code::kConflict);
  EXPECT_NE(refused.status().message().find("Rejected"), std::string::npos);
  Register("g");
  ASSERT_TRUE(registry_->UpdateVersion("g/3", VersionStatus::kArchived, "", {}, {}, "x").ok());
  EXPECT_EQ(registry_->SetAlias("g", "production", 3, "", "").status().code(), Status::Code::kConflict);
  EXPECT_EQ(registry_->SetAlias("g", "production", 9, "", "").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);
}

// A process killed while it moves an alias over and over leaves the alias row equal to the
// newest history row, and the history a chain (each move starts where the last one ended).
TEST_F(RegistryAliases, SigkillDuringAliasMovesLeavesAConsistentRegistry) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "", "").ok());
  const std::string path = dir_.path() + "/lathe.db";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child's own connection: the parent's must not be used across fork.
    auto db = store::MetadataStore::Open(path);
    if (!db.ok()) _exit(2);
    Registry r(db->get(), kRegion, kAccount);
    for (int i = 0;; ++i) (void)r.SetAlias("g", "production", 1 + (i + 1) % 2, "child", "flip");
  }
  // Kill it once it has moved the alias a few times.
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (registry_->AliasHistory("g", "production")->size() > 20) break;
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  db_.reset();
  db_ = OpenStore();
  registry_ = MakeRegistry(db_.get());
  auto history = registry_->AliasHistory("g", "production");
  ASSERT_TRUE(history.ok());
  ASSERT_GT(history->size(), 1u);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), history->back().to_version);
  for (size_t i = 1; i < history->size(); ++i) EXPECT_EQ((*history)[i].from_version, (*history)[i - 1].to_version);
  EXPECT_EQ(Events("Model Alias Moved"), history->size());  // one event per recorded move, no more
  // And it still works.
  const int next = 3 - history->back().to_version;
  EXPECT_EQ(registry_->SetAlias("g", "production", next, "parent", "")->from_version, history->back().to_version);
}

}  // namespace
}  // namespace lathe::registry
