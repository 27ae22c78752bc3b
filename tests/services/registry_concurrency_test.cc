// Two processes on one lathe.db (two Registry objects over two store handles): each test runs one
// writer's change from inside the other's clock, i.e. between its read and its write, and checks
// that neither undoes the other (registry.h: revisions, compare-and-swap, claimed tokens).
#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

class RegistryConcurrency : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    other_db_ = OpenStore();
    other_ = MakeRegistry(other_db_.get());
    racing_ = MakeRegistry(db_.get());
  }
  // racing_'s next clock read runs `meanwhile` once (as the other process).
  void Meanwhile(std::function<void()> meanwhile) {
    racing_->set_clock([this, meanwhile, done = std::make_shared<bool>(false)] {
      if (!*done) {
        *done = true;
        meanwhile();
      }
      return now_.load();
    });
  }
  std::unique_ptr<store::MetadataStore> other_db_;
  std::unique_ptr<Registry> other_, racing_;
};

TEST_F(RegistryConcurrency, AddingAnEvaluationKeepsARejectionMadeMeanwhile) {
  Register("g");
  Meanwhile([this] {
    EXPECT_TRUE(other_->UpdateVersion("g/1", VersionStatus::kRejected, "bad", {}, {}, "ops").ok());
  });
  EvaluationRecord e;
  e.evaluation = "eval-1";
  ASSERT_TRUE(racing_->AddEvaluation("g", 1, e).ok());
  auto v = registry_->GetVersion("g/1");
  EXPECT_EQ(v->status, VersionStatus::kRejected);
  EXPECT_EQ(v->evaluations.size(), 1u);
}

TEST_F(RegistryConcurrency, ARejectionRacingAnAliasMoveOntoTheVersionConflicts) {
  Register("g");
  Meanwhile([this] { EXPECT_TRUE(other_->SetAlias("g", "production", 1, "ops", "").ok()); });
  auto rejected = racing_->UpdateVersion("g/1", VersionStatus::kRejected, "bad", {}, {}, "ops");
  EXPECT_EQ(rejected.status().code(), Status::Code::kConflict);
  EXPECT_EQ(registry_->GetVersion("g/1")->status, VersionStatus::kPending);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);
}

TEST_F(RegistryConcurrency, APolicySetMeanwhileSurvivesARegister) {
  Register("g");
  PromotionPolicy p;
  p.primary_metric = "rougeL";
  Meanwhile([&] { EXPECT_TRUE(other_->SetPolicy("g", p).ok()); });
  ASSERT_TRUE(racing_->Register(Version("g")).ok());
  EXPECT_EQ(registry_->GetGroup("g")->policy.primary_metric, "rougeL");
  EXPECT_EQ(registry_->GetGroup("g")->latest_version, 2);
}

// The loser of a client-token race commits nothing (no version, no event, no tags) and answers
// the winner's version.
TEST_F(RegistryConcurrency, TheLoserOfAClientTokenRaceCommitsNothing) {
  NewVersion v = Version("g");
  v.client_token = "token-1";
  v.tags = {{"team", "loser"}};
  NewVersion w = v;
  w.tags = {{"team", "winner"}};
  Register("g");  // the group exists
  Meanwhile([&] { EXPECT_EQ(other_->Register(w)->version, 2); });
  auto got = racing_->Register(v);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(registry_->ListVersions("g", {})->size(), 2u);
  EXPECT_EQ(Events("Model Version Registered"), 2u);
  EXPECT_EQ(db_->Tags(got->arn)->at("team"), "winner");
  EXPECT_EQ(registry_->Register(v)->version, 2);  // a later retry too
}

TEST_F(RegistryConcurrency, AnAliasDeleteIsAMoveToZeroAndLetsTheGroupBeDeleted) {
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "ops", "").ok());
  const int64_t aliased_at = now_.load();
  now_ += 1000;
  auto deleted = registry_->DeleteAlias("g", "production", "ops", "retired");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->from_version, 1);
  EXPECT_EQ(deleted->to_version, 0);
  EXPECT_EQ(*registry_->AliasAt("g", "production", now_.load()), 0);
  EXPECT_EQ(*registry_->AliasAt("g", "production", aliased_at), 1);
  EXPECT_TRUE(registry_->Aliases("g")->empty());
  EXPECT_EQ(registry_->DeleteAlias("g", "production", "ops", "").status().code(), Status::Code::kNotFound);
  // A rollback undoes the delete.
  now_ += 1000;
  auto back = registry_->Rollback("g", "production", "ops", "");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);
  ASSERT_TRUE(registry_->DeleteAlias("g", "production", "ops", "").ok());
  ASSERT_TRUE(registry_->DeleteVersion("g/1").ok());
  ASSERT_TRUE(registry_->DeleteGroup("g").ok());
  // Re-created: no history of the old group's alias is left to name its versions.
  Register("g");
  EXPECT_TRUE(registry_->AliasHistory("g", "production")->empty());
  EXPECT_EQ(*registry_->AliasAt("g", "production", aliased_at), 0);
}

}  // namespace
}  // namespace lathe::registry

namespace lathe::registry {
namespace {

// One digest rule for storing and for looking up: any case in, the same bytes found.
TEST_F(RegistryFixture, Sha256IsNormalisedOnceForStoringAndLookingUp) {
  const std::string upper(64, 'A');
  Register("g", {Data("s3://b/train.jsonl", upper)});
  auto found = registry_->VersionsTrainedOn("s3://b/other.jsonl", std::string(32, 'a') + std::string(32, 'A'));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().data[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(registry_->VersionsTrainedOn("s3://b/x", std::string(64, 'g')).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace lathe::registry
