// The registry as deployments see it (services/registry/serving.h): every reference form
// resolves to the version's model, aliases are followed as they move, rollback goes through the
// registry, forged ARNs (another account or region) and malformed references are refused, and a
// detached link answers errors instead of touching the registry.
#include "services/registry/serving.h"

#include "registry_fixture.h"

namespace lathe::registry {
namespace {

class ServingLinkTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    link_ = ServingLink::Make(registry_.get(), kRegion, kAccount);
    resolve_ = link_->resolver();
  }
  std::shared_ptr<ServingLink> link_;
  service::ModelResolver resolve_;
};

TEST_F(ServingLinkTest, EveryFormResolvesToTheVersionsModel) {
  NewVersion base_only = Version("bank");
  base_only.custom_model_arn.clear();
  ASSERT_TRUE(registry_->Register(Version("bank")).ok());
  ASSERT_TRUE(registry_->Register(base_only).ok());
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 1, "test", "first").ok());

  for (const std::string& ref : std::vector<std::string>{"bank:production",
                                "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/bank:production"}) {
    auto r = resolve_(ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.status().ToString();
    EXPECT_EQ(r->model_arn, Version("bank").custom_model_arn);
    EXPECT_EQ(r->version, "bank/1");
    EXPECT_TRUE(r->follows_alias);
  }
  for (const std::string& ref : std::vector<std::string>{"bank/2", "arn:aws:sagemaker:us-east-1:123456789012:model-package/bank/2"}) {
    auto r = resolve_(ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.status().ToString();
    EXPECT_EQ(r->model_arn, "amazon.nova-micro-v1:0");  // no custom model: its base model
    EXPECT_EQ(r->version, "bank/2");
    EXPECT_FALSE(r->follows_alias);
  }
  // The alias moves; the next resolve follows it; a rollback through the link moves it back.
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 2, "test", "second").ok());
  EXPECT_EQ(resolve_("bank:production")->version, "bank/2");
  auto moved = link_->rollback()("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/bank:production",
                                 "bank/2", "bank/1", "lathe-deployments", "error rate 0.5 > 0.05");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_TRUE(*moved);
  EXPECT_EQ(resolve_("bank:production")->version, "bank/1");
  auto history = registry_->AliasHistory("bank", "production");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->back().rollback);
  EXPECT_EQ(history->back().actor, "lathe-deployments");
  EXPECT_EQ(link_->rollback()("bank/1", "bank/2", "bank/1", "x", "y").status().code(), Status::Code::kInvalidArgument);
  for (const auto& [expected, target] : std::vector<std::pair<std::string, std::string>>{
           {"other/2", "bank/1"}, {"bank/x", "bank/1"}, {"bank/2", "bank/"}, {"bank/2", "bank/99999999999999"}})
    EXPECT_EQ(link_->rollback()("bank:production", expected, target, "x", "y").status().code(),
              Status::Code::kInvalidArgument)
        << expected << " -> " << target;
}

// Two deployments on one alias both see their canary fail: the first moves the alias back, the
// second finds it no longer on the canary and does nothing (an undo stack would move it again,
// to the version before the champion). A person's move meanwhile is not undone either.
TEST_F(ServingLinkTest, RollbackMovesOnlyFromTheCanaryToTheChampion) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(registry_->Register(Version("bank")).ok());
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 1, "test", "first").ok());
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 2, "test", "second").ok());
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 3, "test", "canary").ok());
  auto first = link_->rollback()("bank:production", "bank/3", "bank/2", "lathe-deployments", "errors");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto second = link_->rollback()("bank:production", "bank/3", "bank/2", "lathe-deployments", "errors");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(*second);
  EXPECT_EQ(resolve_("bank:production")->version, "bank/2");
  ASSERT_EQ(registry_->AliasHistory("bank", "production")->size(), 4u);  // 3 moves, 1 rollback

  ASSERT_TRUE(registry_->SetAlias("bank", "production", 1, "person", "by hand").ok());
  auto stale = link_->rollback()("bank:production", "bank/3", "bank/2", "lathe-deployments", "errors");
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  EXPECT_EQ(resolve_("bank:production")->version, "bank/1");
}

TEST_F(ServingLinkTest, ForgedAndMalformedReferencesAreRefused) {
  ASSERT_TRUE(registry_->Register(Version("bank")).ok());
  ASSERT_TRUE(registry_->SetAlias("bank", "production", 1, "test", "first").ok());
  EXPECT_EQ(resolve_("bank:staging").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(resolve_("bank/7").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(resolve_("other:production").status().code(), Status::Code::kNotFound);
  // Another account's or region's ARN names nothing here.
  EXPECT_FALSE(resolve_("arn:aws:sagemaker:us-east-1:999999999999:model-package-group/bank:production").ok());
  EXPECT_FALSE(resolve_("arn:aws:sagemaker:eu-west-1:123456789012:model-package/bank/1").ok());
  for (const std::string& bad : std::vector<std::string>{"", "bank", "bank:", "bank:prod:x", "../bank/1", "bank/1; rm -rf /",
                                std::string(5000, 'a') + ":production", "lathe.default-v1"})
    EXPECT_EQ(resolve_(bad).status().code(), Status::Code::kInvalidArgument) << bad.substr(0, 40);
}

TEST_F(ServingLinkTest, ADetachedLinkTouchesNothing) {
  ASSERT_TRUE(registry_->Register(Version("bank")).ok());
  link_->Detach();
  registry_.reset();  // what the server's destruction does after detaching
  EXPECT_FALSE(resolve_("bank/1").ok());
  EXPECT_FALSE(link_->rollback()("bank:production", "bank/2", "bank/1", "a", "b").ok());
}

}  // namespace
}  // namespace lathe::registry
