// Traffic splits and rollback policies (deployment_traffic.h): the JSON both ways with every bad
// input named, the variant choice exactly (sticky users, weights 0 and 1, monotone growth), and
// the rollback verdicts at and around each threshold.
#include "service/deployment_traffic.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::service {
namespace {

TEST(TrafficSplit, JsonRoundTripAndDefaults) {
  TrafficSplit t{"banking:staging", 0.25, false};
  auto back = TrafficFromJson(TrafficToJson(t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->challenger, "banking:staging");
  EXPECT_EQ(back->weight, 0.25);
  EXPECT_FALSE(back->sticky);

  auto empty = TrafficFromJson(nlohmann::json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->challenger, "");
  EXPECT_EQ(empty->weight, 0);
  EXPECT_TRUE(empty->sticky);
  // SetTraffic's request carries rollbackPolicy beside: other members are the caller's.
  EXPECT_TRUE(TrafficFromJson({{"rollbackPolicy", {{"enabled", true}}}}).ok());
}

TEST(TrafficSplit, BadInputIsRefusedNamingTheField) {
  auto message = [](const nlohmann::json& j) {
    auto r = TrafficFromJson(j);
    EXPECT_FALSE(r.ok()) << j.dump();
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(message(nlohmann::json::array()).find("traffic"), std::string::npos);
  EXPECT_NE(message({{"challengerModelArn", 7}}).find("challengerModelArn: must be a string (found number)"), std::string::npos);
  EXPECT_NE(message({{"challengerModelArn", std::string(1012, 'a')}}).find("at most 1011 bytes"), std::string::npos);
  EXPECT_TRUE(TrafficFromJson({{"challengerModelArn", std::string(1011, 'a')}}).ok());
  EXPECT_NE(message({{"challengerWeight", "0.5"}}).find("challengerWeight: must be a number (found string)"), std::string::npos);
  EXPECT_NE(message({{"challengerWeight", true}}).find("(found boolean)"), std::string::npos);
  EXPECT_NE(message({{"challengerWeight", 1.0001}}).find("challengerWeight"), std::string::npos);
  EXPECT_NE(message({{"challengerWeight", -0.1}}).find("challengerWeight"), std::string::npos);
  EXPECT_NE(message({{"challengerWeight", std::nan("")}}).find("challengerWeight"), std::string::npos);
  EXPECT_NE(message({{"sticky", "yes"}}).find("sticky: must be a boolean"), std::string::npos);
}

TEST(ChooseVariant, NoChallengerOrZeroWeightIsAlwaysTheChampionAndOneAlwaysTheChallenger) {
  for (double u : {0.0, 0.3, 0.999999}) {
    EXPECT_EQ(ChooseVariant({"", 0.9, true}, "dep", "", u), Variant::kChampion);
    EXPECT_EQ(ChooseVariant({"x", 0, true}, "dep", "alice", u), Variant::kChampion);
    EXPECT_EQ(ChooseVariant({"x", 1, true}, "dep", "alice", u), Variant::kChallenger);
    EXPECT_EQ(ChooseVariant({"x", 1, false}, "dep", "", u), Variant::kChallenger);
  }
  EXPECT_STREQ(VariantName(Variant::kChampion), "champion");
  EXPECT_STREQ(VariantName(Variant::kChallenger), "challenger");
}

TEST(ChooseVariant, WithoutAUserIdOrStickinessTheDrawDecides) {
  TrafficSplit t{"x", 0.3, true};
  EXPECT_EQ(ChooseVariant(t, "dep", "", 0.2999), Variant::kChallenger);
  EXPECT_EQ(ChooseVariant(t, "dep", "", 0.3), Variant::kChampion);
  t.sticky = false;
  EXPECT_EQ(ChooseVariant(t, "dep", "alice", 0.0), Variant::kChallenger);
  EXPECT_EQ(ChooseVariant(t, "dep", "alice", 0.9), Variant::kChampion);
}

TEST(ChooseVariant, AStickyUserAlwaysMeetsTheSameVariantWhateverTheDraw) {
  TrafficSplit t{"x", 0.5, true};
  int challengers = 0;
  for (int user = 0; user < 1000; ++user) {
    const std::string id = "user-" + std::to_string(user);
    Variant first = ChooseVariant(t, "dep-1", id, 0.0);
    for (double u : {0.25, 0.5, 0.99}) EXPECT_EQ(ChooseVariant(t, "dep-1", id, u), first) << id;
    challengers += first == Variant::kChallenger;
  }
  // The hash spreads users: far from all or nothing (a generous bound; the exact count is fixed).
  EXPECT_GT(challengers, 400);
  EXPECT_LT(challengers, 600);
}

TEST(ChooseVariant, TheHashIsFixedAcrossBuildsAndDependsOnTheDeployment) {
  // These are what FNV-1a + splitmix64 give; a change here moves every user of every deployment.
  TrafficSplit t{"x", 0.5, true};
  std::string pattern_a, pattern_b;
  for (int user = 0; user < 16; ++user) {
    pattern_a += ChooseVariant(t, "dep-a", "u" + std::to_string(user), 0) == Variant::kChallenger ? 'C' : '.';
    pattern_b += ChooseVariant(t, "dep-b", "u" + std::to_string(user), 0) == Variant::kChallenger ? 'C' : '.';
  }
  EXPECT_EQ(pattern_a, "C.C...C..C..C.C.");  // computed independently in Python
  EXPECT_EQ(pattern_b, "C.C...CC.CCC..CC");
  EXPECT_NE(pattern_a, pattern_b);
}

TEST(ChooseVariant, GrowingTheWeightNeverMovesAChallengerBack) {
  for (int user = 0; user < 2000; ++user) {
    const std::string id = "u" + std::to_string(user);
    bool was_challenger = false;
    for (int step = 1; step <= 20; ++step) {
      const double w = step / 20.0;
      bool is = ChooseVariant({"x", w, true}, "dep", id, 0) == Variant::kChallenger;
      EXPECT_FALSE(was_challenger && !is) << id << " left the challenger at weight " << w;
      was_challenger = is;
    }
    EXPECT_TRUE(was_challenger);
  }
}

TEST(RollbackPolicy, JsonRoundTripWithFractionalSeconds) {
  RollbackPolicy p;
  p.enabled = true;
  p.canary_weight = 0.2;
  p.watch_ms = 1500;
  p.window_ms = 60000;
  p.min_requests = 3;
  p.max_error_rate = 0.1;
  p.min_feedback = 2;
  p.min_positive_feedback = 0.6;
  p.on_evaluation_regression = false;
  nlohmann::json j = RollbackPolicyToJson(p);
  EXPECT_EQ(j["watchSeconds"], 1.5);
  EXPECT_EQ(j["windowSeconds"], 60.0);
  auto back = RollbackPolicyFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->enabled);
  EXPECT_EQ(back->canary_weight, 0.2);
  EXPECT_EQ(back->watch_ms, 1500);
  EXPECT_EQ(back->window_ms, 60000);
  EXPECT_EQ(back->min_requests, 3);
  EXPECT_EQ(back->max_error_rate, 0.1);
  EXPECT_EQ(back->min_feedback, 2);
  EXPECT_EQ(back->min_positive_feedback, 0.6);
  EXPECT_FALSE(back->on_evaluation_regression);
  // Every member optional: the defaults of the struct.
  auto defaults = RollbackPolicyFromJson(nlohmann::json::object());
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->enabled);
  EXPECT_EQ(defaults->watch_ms, RollbackPolicy{}.watch_ms);
}

TEST(RollbackPolicy, BadMembersAreRefusedNamingThem) {
  auto message = [](const nlohmann::json& j) {
    auto r = RollbackPolicyFromJson(j);
    EXPECT_FALSE(r.ok()) << j.dump();
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(message("on").find("rollbackPolicy: must be an object"), std::string::npos);
  EXPECT_NE(message({{"enabled", 1}}).find("rollbackPolicy.enabled: must be a boolean"), std::string::npos);
  EXPECT_NE(message({{"canaryWeight", 0}}).find("rollbackPolicy.canaryWeight"), std::string::npos);
  EXPECT_NE(message({{"canaryWeight", 1.5}}).find("rollbackPolicy.canaryWeight"), std::string::npos);
  EXPECT_NE(message({{"watchSeconds", 0}}).find("rollbackPolicy.watchSeconds"), std::string::npos);
  EXPECT_NE(message({{"watchSeconds", 1e300}}).find("rollbackPolicy.watchSeconds"), std::string::npos);
  EXPECT_NE(message({{"windowSeconds", 86401}}).find("rollbackPolicy.windowSeconds"), std::string::npos);
  EXPECT_NE(message({{"minRequests", 2.5}}).find("rollbackPolicy.minRequests: must be an integer"), std::string::npos);
  EXPECT_NE(message({{"minRequests", -1}}).find("rollbackPolicy.minRequests"), std::string::npos);
  EXPECT_NE(message({{"minFeedback", 18446744073709551615ull}}).find("rollbackPolicy.minFeedback"), std::string::npos);
  EXPECT_NE(message({{"maxErrorRate", "0.1"}}).find("rollbackPolicy.maxErrorRate: must be a number"), std::string::npos);
  EXPECT_NE(message({{"minPositiveFeedback", 2}}).find("rollbackPolicy.minPositiveFeedback"), std::string::npos);
  // An unknown member is named, cut short when it is long.
  std::string hostile = message({{std::string(5000, 'k'), true}});
  EXPECT_NE(hostile.find("unknown member"), std::string::npos);
  EXPECT_LT(hostile.size(), 200u);
}

RollbackPolicy Enabled() {
  RollbackPolicy p;
  p.enabled = true;
  p.window_ms = 300000;
  p.min_requests = 20;
  p.max_error_rate = 0.05;
  p.min_feedback = 5;
  p.min_positive_feedback = 0.5;
  return p;
}

TEST(JudgeChallenger, ADisabledPolicyNeverRollsBack) {
  WindowStats awful;
  awful.requests = awful.errors = 100;
  awful.feedback = 100;
  RollbackPolicy p = Enabled();
  p.enabled = false;
  EXPECT_FALSE(JudgeChallenger(p, awful, "worse than v1").roll_back);
}

TEST(JudgeChallenger, ErrorRateNeedsEnoughRequestsAndMustExceedTheThreshold) {
  WindowStats s;
  s.requests = 19;
  s.errors = 19;
  EXPECT_FALSE(JudgeChallenger(Enabled(), s).roll_back);  // 19 < minRequests
  s.requests = 42;
  s.errors = 13;
  RollbackVerdict v = JudgeChallenger(Enabled(), s);
  EXPECT_TRUE(v.roll_back);
  EXPECT_EQ(v.reason, "error rate 0.31 > 0.05 over 42 requests in 300 s");
  s.requests = 100;
  s.errors = 5;  // exactly at the threshold: not above it
  EXPECT_FALSE(JudgeChallenger(Enabled(), s).roll_back);
  s.errors = 6;
  EXPECT_TRUE(JudgeChallenger(Enabled(), s).roll_back);
}

TEST(JudgeChallenger, ThrottledRequestsSayNothingAboutTheModel) {
  WindowStats s;
  s.requests = 30;
  s.throttled = 15;  // 15 answered: under minRequests
  s.errors = 10;
  EXPECT_FALSE(JudgeChallenger(Enabled(), s).roll_back);
  s.requests = 40;  // 25 answered, 10 failed
  EXPECT_EQ(JudgeChallenger(Enabled(), s).reason, "error rate 0.40 > 0.05 over 25 requests in 300 s");
}

TEST(JudgeChallenger, FeedbackNeedsEnoughRatingsAndAShareBelowTheMinimum) {
  WindowStats s;
  s.requests = 3;
  s.feedback = 4;
  EXPECT_FALSE(JudgeChallenger(Enabled(), s).roll_back);  // 4 < minFeedback
  s.feedback = 10;
  s.positive = 5;  // 0.5: not below
  EXPECT_FALSE(JudgeChallenger(Enabled(), s).roll_back);
  s.positive = 2;
  RollbackVerdict v = JudgeChallenger(Enabled(), s);
  EXPECT_TRUE(v.roll_back);
  EXPECT_EQ(v.reason, "positive feedback 0.20 < 0.50 over 10 ratings in 300 s");
}

TEST(JudgeChallenger, AnEvaluationRegressionRollsBackUnlessThePolicyIgnoresIt) {
  WindowStats healthy;
  healthy.requests = 100;
  EXPECT_FALSE(JudgeChallenger(Enabled(), healthy).roll_back);
  RollbackVerdict v = JudgeChallenger(Enabled(), healthy, "overallScore worse than banking/1");
  EXPECT_TRUE(v.roll_back);
  EXPECT_EQ(v.reason, "evaluation regressed: overallScore worse than banking/1");
  RollbackPolicy p = Enabled();
  p.on_evaluation_regression = false;
  EXPECT_FALSE(JudgeChallenger(p, healthy, "overallScore worse").roll_back);
}

TEST(JudgeChallenger, ZeroMinimumsStillNeedOneRequestOrRating) {
  RollbackPolicy p = Enabled();
  p.min_requests = 0;
  p.min_feedback = 0;
  EXPECT_FALSE(JudgeChallenger(p, WindowStats{}).roll_back);
}

}  // namespace
}  // namespace lathe::service
