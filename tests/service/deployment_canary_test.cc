// Canaries and automatic rollback on DeploymentService (stories260K, in process, a registry the
// test moves by hand): a failing or regressing canary rolls the alias back from the canary to the
// champion only (compare and set), a failed rollback still stops the canary and is reported once,
// the canary survives a restart and a policy change, a rolled-back fixed challenger can have
// traffic again, and the caller's mistakes are not the model's errors.
#include "deployment_fixture.h"

namespace lathe::service {
namespace {

const json kPolicy = {{"rollbackPolicy",
                       {{"enabled", true}, {"canaryWeight", 0.5}, {"minRequests", 5}, {"maxErrorRate", 0.1},
                        {"watchSeconds", 60}}}};

class DeploymentCanaryTest : public DeploymentServiceTest {
 protected:
  // A deployment on bank:production (version 1) with kPolicy; "" when it could not be made.
  std::string Watched(const std::string& name) {
    if (registry_.Holder("bank:production").empty()) registry_.Point("bank:production", kModelA, "bank/1");
    const std::string arn = Create({{"modelDeploymentName", name}, {"modelArn", "bank:production"}});
    if (!Eventually([&] { return Serving(arn, "bank/1"); })) return "";
    if (!deployments().SetTraffic(arn, kPolicy).ok()) return "";
    return arn;
  }
  // Steps the follower until `arn` routes someone to its canary; that user, or "".
  std::string CanaryUser(const std::string& arn) {
    std::string user;
    Eventually([&] {
      deployments().FollowOnce();
      return !(user = UserOn(deployments(), arn, Variant::kChallenger)).empty();
    });
    return user;
  }
  void Fail(const std::string& arn, const std::string& user, int n = 6) {
    auto routed = deployments().Route(arn, user);
    ASSERT_TRUE(routed.ok());
    ASSERT_EQ(routed->variant, Variant::kChallenger);
    for (int i = 0; i < n; ++i) {
      Outcome failed;
      failed.ok = false;
      deployments().Record(*routed, failed);
    }
  }
  int Events(const std::string& detail_type) {
    auto events = service_->store()->EventsAfter(0, 1000);
    int n = 0;
    if (events.ok())
      for (const auto& e : *events) n += e.source == "lathe.deployments" && e.detail_type == detail_type;
    return n;
  }
};

TEST_F(DeploymentCanaryTest, AFailingCanaryIsRolledBackAndAHealthyOneIsPromoted) {
  registry_.Point("bank:production", kModelA, "bank/1");
  const std::string arn = Create({{"modelDeploymentName", "canary"}, {"modelArn", "bank:production"}});
  ASSERT_TRUE(Eventually([&] { return Serving(arn, "bank/1"); }));
  auto set = deployments().SetTraffic(arn, {{"rollbackPolicy", {{"enabled", true}, {"canaryWeight", 0.5},
                                                                {"minRequests", 5}, {"maxErrorRate", 0.1},
                                                                {"watchSeconds", 60}}}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();

  // The alias moves: the new version is a canary with half the traffic, not the champion.
  registry_.Point("bank:production", kModelB, "bank/2");
  std::string canary_user;
  ASSERT_TRUE(Eventually([&] {
    deployments().FollowOnce();
    return !(canary_user = UserOn(deployments(), arn, Variant::kChallenger)).empty();
  }));
  auto routed = deployments().Route(arn, canary_user);
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed->served, "bank/2");
  EXPECT_EQ(deployments().Route(arn, UserOn(deployments(), arn, Variant::kChampion))->served, "bank/1");
  // It fails every request: rolled back at the next step.
  for (int i = 0; i < 6; ++i) {
    Outcome failed;
    failed.ok = false;
    deployments().Record(*routed, failed);
  }
  deployments().FollowOnce();
  EXPECT_EQ(registry_.rollbacks, std::vector<std::string>{"bank:production"});
  EXPECT_EQ(deployments().Route(arn, canary_user)->served, "bank/1");
  deployments().FollowOnce();  // the alias is back on version 1: nothing new to load
  EXPECT_EQ(deployments().Route(arn, canary_user)->served, "bank/1");
  auto events = service_->store()->EventsAfter(0, 1000);
  ASSERT_TRUE(events.ok());
  int rolled_back = 0;
  for (const auto& e : *events) {
    if (e.source != "lathe.deployments" || e.detail_type != "Deployment Rolled Back") continue;
    ++rolled_back;
    EXPECT_EQ(e.detail["deploymentArn"], arn);
    EXPECT_EQ(e.detail["from"], "bank/2");
    EXPECT_EQ(e.detail["to"], "bank/1");
    EXPECT_EQ(e.detail["reference"], "bank:production");
    EXPECT_FALSE(e.detail["reason"].get<std::string>().empty());
  }
  EXPECT_EQ(rolled_back, 1);
  EXPECT_EQ((*deployments().Stats(arn, 60000))["rollbacks"].size(), 1u);

  // A move to a healthy version: promoted to champion once its watch is over.
  registry_.Point("bank:production", kModelB, "bank/3");
  ASSERT_TRUE(Eventually([&] {
    deployments().FollowOnce();
    return !UserOn(deployments(), arn, Variant::kChallenger).empty();
  }));
  now_ += 61 * 1000;
  deployments().FollowOnce();
  for (const std::string user : {"user-1", "user-2", "user-3", ""}) {
    auto r = deployments().Route(arn, user);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->served, "bank/3") << user;
    EXPECT_EQ(r->variant, Variant::kChampion);
  }
}

TEST_F(DeploymentCanaryTest, ACanaryWhoseEvaluationRegressesIsRolledBack) {
  registry_.Point("bank:production", kModelA, "bank/1");
  const std::string arn = Create({{"modelDeploymentName", "regress"}, {"modelArn", "bank:production"}});
  ASSERT_TRUE(Eventually([&] { return Serving(arn, "bank/1"); }));
  ASSERT_TRUE(deployments().SetTraffic(arn, {{"rollbackPolicy", {{"enabled", true}, {"canaryWeight", 0.5}}}}).ok());
  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_TRUE(Eventually([&] {
    deployments().FollowOnce();
    return !UserOn(deployments(), arn, Variant::kChallenger).empty();
  }));
  deployments().FollowOnce();
  EXPECT_TRUE(registry_.rollbacks.empty());  // healthy so far: no traffic, no evaluation
  {
    // The registry now says the holder's newest evaluation since the move is worse.
    std::lock_guard<std::mutex> lock(registry_.mu);
    registry_.refs["bank:production"].regression = "evaluation e-7 of bank/2 is worse than bank/1 (overallScore 0.41)";
  }
  deployments().FollowOnce();  // resolves the alias (reads the regression)
  deployments().FollowOnce();  // judges with it
  EXPECT_EQ(registry_.rollbacks, std::vector<std::string>{"bank:production"});
  auto stats = deployments().Stats(arn, 60000);
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ((*stats)["rollbacks"].size(), 1u);
  EXPECT_EQ((*stats)["rollbacks"][0]["reason"],
            "evaluation regressed: evaluation e-7 of bank/2 is worse than bank/1 (overallScore 0.41)");
}

// Two deployments watch one alias; both see the canary fail. The first moves the alias back to
// the champion, the second finds it no longer on the canary: one move, one event, both on the
// champion (an undo of the alias's last move would have rolled it back twice).
TEST_F(DeploymentCanaryTest, TwoDeploymentsOnOneAliasEndOnTheChampionWithOneRollback) {
  const std::string first = Watched("first"), second = Watched("second");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  const std::string first_user = CanaryUser(first), second_user = CanaryUser(second);
  ASSERT_FALSE(first_user.empty());
  ASSERT_FALSE(second_user.empty());
  Fail(first, first_user);
  Fail(second, second_user);
  deployments().FollowOnce();
  deployments().FollowOnce();
  EXPECT_EQ(registry_.Holder("bank:production"), "bank/1");
  EXPECT_EQ(registry_.rollbacks.size(), 1u);
  EXPECT_EQ(Events("Deployment Rolled Back"), 1);
  EXPECT_EQ(Events("Deployment Rollback Failed"), 0);
  for (const std::string& arn : {first, second}) {
    EXPECT_TRUE(UserOn(deployments(), arn, Variant::kChallenger).empty()) << arn;
    EXPECT_TRUE(Serving(arn, "bank/1")) << arn;
  }
}

// The registry refuses the move: the canary still stops serving and is not loaded again at the
// next steps; one "Deployment Rollback Failed" event, no "Deployment Rolled Back".
TEST_F(DeploymentCanaryTest, AFailedRollbackStopsTheCanaryAndIsReportedOnce) {
  const std::string arn = Watched("refused");
  ASSERT_FALSE(arn.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  const std::string user = CanaryUser(arn);
  ASSERT_FALSE(user.empty());
  registry_.refuse_rollbacks = true;
  Fail(arn, user);
  for (int i = 0; i < 5; ++i) {
    deployments().FollowOnce();
    EXPECT_TRUE(UserOn(deployments(), arn, Variant::kChallenger).empty()) << "step " << i;
  }
  EXPECT_EQ(registry_.Holder("bank:production"), "bank/2");  // where the registry left it
  EXPECT_EQ(Events("Deployment Rolled Back"), 0);
  EXPECT_EQ(Events("Deployment Rollback Failed"), 1);
  EXPECT_EQ(deployments().Route(arn, user)->served, "bank/1");
}

// A restart while a canary is under watch: the champion serves on (not the alias's holder), the
// canary comes back with its share, and a failing canary is still rolled back.
TEST_F(DeploymentCanaryTest, ARestartDuringACanaryKeepsTheChampionAndTheWatch) {
  const std::string arn = Watched("restarted");
  ASSERT_FALSE(arn.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_FALSE(CanaryUser(arn).empty());
  service_.reset();
  Open();
  std::string user;
  ASSERT_TRUE(Eventually([&] { return !(user = UserOn(deployments(), arn, Variant::kChallenger)).empty(); }));
  EXPECT_EQ(deployments().Route(arn, user)->served, "bank/2");
  const std::string champion_user = UserOn(deployments(), arn, Variant::kChampion);
  ASSERT_FALSE(champion_user.empty());
  EXPECT_EQ(deployments().Route(arn, champion_user)->served, "bank/1");
  Fail(arn, user);
  deployments().FollowOnce();
  EXPECT_EQ(registry_.Holder("bank:production"), "bank/1");
  EXPECT_EQ(Events("Deployment Rolled Back"), 1);
}

// Changing only the policy (or the weight) during a canary keeps it a watched canary: a failing
// one still moves the alias back.
TEST_F(DeploymentCanaryTest, ChangingOnlyThePolicyKeepsTheCanaryWatched) {
  const std::string arn = Watched("retuned");
  ASSERT_FALSE(arn.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_FALSE(CanaryUser(arn).empty());
  ASSERT_TRUE(deployments().SetTraffic(arn, {{"rollbackPolicy", {{"maxErrorRate", 0.2}}}}).ok());
  const std::string user = UserOn(deployments(), arn, Variant::kChallenger);
  ASSERT_FALSE(user.empty());
  Fail(arn, user);
  deployments().FollowOnce();
  EXPECT_EQ(registry_.Holder("bank:production"), "bank/1");
  EXPECT_EQ(registry_.rollbacks.size(), 1u);
}

// An Update during a canary: the canary's pool leaves the routing with it.
TEST_F(DeploymentCanaryTest, AnUpdateDuringACanaryDropsIt) {
  const std::string arn = Watched("updated");
  ASSERT_FALSE(arn.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_FALSE(CanaryUser(arn).empty());
  ASSERT_TRUE(deployments().Update(arn, {{"modelArn", kModelA}}).ok());
  EXPECT_TRUE(UserOn(deployments(), arn, Variant::kChallenger).empty());
  ASSERT_TRUE(Eventually([&] { return Serving(arn, kModelA); }));
}

// A fixed challenger rolled back loses its traffic; asking for traffic again loads it again.
TEST_F(DeploymentCanaryTest, ARolledBackFixedChallengerCanHaveTrafficAgain) {
  const std::string arn = Create({{"modelDeploymentName", "fixed"}, {"modelArn", kModelA}});
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  json request = kPolicy;
  request["challengerModelArn"] = kModelB;
  request["challengerWeight"] = 0.5;
  ASSERT_TRUE(deployments().SetTraffic(arn, request).ok());
  std::string user;
  ASSERT_TRUE(Eventually([&] { return !(user = UserOn(deployments(), arn, Variant::kChallenger)).empty(); }));
  Fail(arn, user);
  deployments().FollowOnce();
  EXPECT_TRUE(UserOn(deployments(), arn, Variant::kChallenger).empty());
  EXPECT_EQ(Events("Deployment Rolled Back"), 1);
  ASSERT_TRUE(deployments().SetTraffic(arn, {{"challengerWeight", 0.5}}).ok());
  ASSERT_TRUE(Eventually([&] { return !UserOn(deployments(), arn, Variant::kChallenger).empty(); }));
  // Judged again on its new requests only: the failures that rolled it back (still inside the
  // window on this test's stopped clock) do not roll it back a second time.
  deployments().FollowOnce();
  EXPECT_FALSE(UserOn(deployments(), arn, Variant::kChallenger).empty());
  EXPECT_EQ(Events("Deployment Rolled Back"), 1);
  Fail(arn, UserOn(deployments(), arn, Variant::kChallenger));
  deployments().FollowOnce();
  EXPECT_TRUE(UserOn(deployments(), arn, Variant::kChallenger).empty());
  EXPECT_EQ(Events("Deployment Rolled Back"), 2);
}

// Requests the caller got wrong are counted, but not as the model's errors: no rollback.
TEST_F(DeploymentCanaryTest, TheCallersMistakesDoNotRollBack) {
  const std::string arn = Watched("mistakes");
  ASSERT_FALSE(arn.empty());
  registry_.Point("bank:production", kModelB, "bank/2");
  const std::string user = CanaryUser(arn);
  ASSERT_FALSE(user.empty());
  auto routed = deployments().Route(arn, user);
  ASSERT_TRUE(routed.ok());
  for (int i = 0; i < 10; ++i) {
    Outcome mistake;
    mistake.ok = false;
    mistake.caller_error = true;
    deployments().Record(*routed, mistake);
  }
  deployments().FollowOnce();
  EXPECT_TRUE(registry_.rollbacks.empty());
  EXPECT_EQ(registry_.Holder("bank:production"), "bank/2");
}

}  // namespace
}  // namespace lathe::service
