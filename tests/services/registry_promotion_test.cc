// The promotion gate (DecidePromotion) and PromoteIfBetter over a group's policy.
#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

using RegistryPromotion = RegistryFixture;
using nlohmann::json;

json Cmp(double mean_diff, const std::string& verdict = "better") {
  return {{"meanDiff", mean_diff}, {"verdict", verdict}};
}

EvaluationRecord Vs(json comparison, const std::string& verdict = "better", const std::string& baseline = "") {
  EvaluationRecord e;
  e.evaluation = "eval";
  e.baseline = baseline;
  e.test_set = "s3://tests/reference.jsonl";
  e.comparison = std::move(comparison);
  e.verdict = verdict;
  return e;
}

PromotionPolicy Policy(const std::string& primary = "rougeL") {
  PromotionPolicy p;
  p.primary_metric = primary;
  p.min_margin = 0.02;
  p.max_regression = 0.05;
  return p;
}

TEST(RegistryGate, TheFirstVersionIsPromoted) {
  PromotionDecision d = DecidePromotion(Policy(), 0, Vs(json::object(), ""));
  EXPECT_TRUE(d.promote);
  EXPECT_EQ(d.holder_version, 0);
  EXPECT_NE(d.reason.find("first version"), std::string::npos);
}

TEST(RegistryGate, BetterBeyondTheMarginWithSignificanceIsPromoted) {
  PromotionDecision d = DecidePromotion(Policy(), 3, Vs({{"rougeL", Cmp(0.08)}, {"bleu", Cmp(-0.01, "worse")}}));
  EXPECT_TRUE(d.promote) << d.reason;
  EXPECT_EQ(d.holder_version, 3);
  EXPECT_NE(d.reason.find("rougeL +0.0800"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("bleu 0.0100"), std::string::npos) << d.reason;
}

TEST(RegistryGate, NotSignificantIsNotPromotedUnlessThePolicyWaivesIt) {
  EvaluationRecord e = Vs({{"rougeL", Cmp(0.08, "no significant difference")}});
  PromotionDecision d = DecidePromotion(Policy(), 1, e);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("not significant (verdict: no significant difference)"), std::string::npos) << d.reason;
  PromotionPolicy lenient = Policy();
  lenient.require_significance = false;
  EXPECT_TRUE(DecidePromotion(lenient, 1, e).promote);
}

TEST(RegistryGate, AGainWithinTheMarginIsNotPromoted) {
  PromotionDecision d = DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.02)}}));
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("+0.0200"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("margin 0.0200"), std::string::npos) << d.reason;
  EXPECT_FALSE(DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(-0.1, "worse")}})).promote);
}

TEST(RegistryGate, AnotherMetricRegressingPastTheThresholdBlocks) {
  PromotionDecision d =
      DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1)}, {"exactMatch", Cmp(-0.12, "worse")}, {"bleu", Cmp(-0.01)}}));
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("exactMatch regressed by 0.1200"), std::string::npos) << d.reason;
  // Metrics that are not quality scores (latency) never block.
  EXPECT_TRUE(DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1)}, {"latencyMs", Cmp(500)}})).promote);
}

TEST(RegistryGate, LowerIsBetterMetricsCountTheOtherWay) {
  // Primary referenceLoss: a drop is the gain.
  EXPECT_TRUE(DecidePromotion(Policy("referenceLoss"), 1, Vs({{"referenceLoss", Cmp(-0.3)}})).promote);
  EXPECT_FALSE(DecidePromotion(Policy("referenceLoss"), 1, Vs({{"referenceLoss", Cmp(0.3)}})).promote);
  // Refusal rising by 0.1 is a regression of 0.1.
  PromotionDecision d = DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1)}, {"refusal", Cmp(0.1, "worse")}}));
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("refusal regressed by 0.1000"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("lower is better"), std::string::npos) << d.reason;
  EXPECT_TRUE(DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1)}, {"refusal", Cmp(-0.2)}})).promote);
}

// max_regression is in 0..1 score units: a loss (no fixed scale) counts as a fraction of the
// holder's value, judgeScore (1..5) over its range.
TEST(RegistryGate, RegressionsOfUnscaledMetricsAreRelative) {
  EvaluationRecord small = Vs({{"rougeL", Cmp(0.1)}, {"referenceLoss", Cmp(0.1, "worse")}});
  small.metrics = {{"referenceLoss", 3.1}};  // the holder's 3.0 rose by 0.1: 3.3%
  EXPECT_TRUE(DecidePromotion(Policy(), 1, small).promote);
  EvaluationRecord big = Vs({{"rougeL", Cmp(0.1)}, {"referenceLoss", Cmp(0.3, "worse")}});
  big.metrics = {{"referenceLoss", 3.3}};  // 10%
  PromotionDecision d = DecidePromotion(Policy(), 1, big);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("referenceLoss regressed by 0.1000"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("fraction of the holder's value"), std::string::npos) << d.reason;
  // judgeScore down 0.1 on a 1..5 scale is 0.025 of it.
  EXPECT_TRUE(DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1)}, {"judgeScore", Cmp(-0.1, "worse")}})).promote);
}

TEST(RegistryGate, TheWrongTestSetOrNoComparisonIsNotPromoted) {
  PromotionPolicy p = Policy();
  p.reference_test_set = "s3://tests/other.jsonl";
  EXPECT_NE(DecidePromotion(p, 1, Vs({{"rougeL", Cmp(0.1)}})).reason.find("reference test set"), std::string::npos);
  PromotionDecision d = DecidePromotion(Policy(), 1, Vs({{"bleu", Cmp(0.1)}}));
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("no comparison of rougeL"), std::string::npos) << d.reason;
}

TEST_F(RegistryPromotion, PromoteIfBetterMovesTheAliasOnlyWhenTheGatePasses) {
  ASSERT_TRUE(registry_->CreateGroup("g", "", "").ok());
  ASSERT_TRUE(registry_->SetPolicy("g", Policy()).ok());
  EXPECT_EQ(registry_->GetGroup("g")->policy.primary_metric, "rougeL");
  for (int i = 0; i < 3; ++i) Register("g");

  auto first = registry_->PromoteIfBetter("g", 1, "production", Vs(json::object(), ""), "pipeline");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->promote);
  auto worse = registry_->PromoteIfBetter("g", 2, "production", Vs({{"rougeL", Cmp(-0.05, "worse")}}, "worse", "g/1"),
                                          "pipeline");
  ASSERT_TRUE(worse.ok());
  EXPECT_FALSE(worse->promote);
  EXPECT_EQ(worse->holder_version, 1);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);
  EXPECT_EQ(registry_->GetVersion("g/2")->evaluations.size(), 1u);  // recorded either way

  auto better = registry_->PromoteIfBetter("g", 3, "production", Vs({{"rougeL", Cmp(0.1)}}, "better", "g/1"), "pipeline");
  ASSERT_TRUE(better.ok());
  EXPECT_TRUE(better->promote) << better->reason;
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 3);
  auto history = registry_->AliasHistory("g", "production");
  EXPECT_EQ(history->back().reason, better->reason);
  EXPECT_EQ(history->back().actor, "pipeline");
}

// overallScore is not a per-case metric, so the evaluation's comparison lacks it: the gate
// compares with the holder's own score on the same test set.
TEST_F(RegistryPromotion, OverallScoreIsComparedWithTheHoldersEvaluation) {
  Register("g");
  Register("g");
  Register("g");
  PromotionPolicy p;  // overallScore, margin 0
  p.require_significance = false;  // the holder's own score gives a difference, no paired verdict
  ASSERT_TRUE(registry_->SetPolicy("g", p).ok());
  EvaluationRecord e1 = Vs(json::object(), "");
  e1.overall_score = 0.70;
  ASSERT_TRUE(registry_->PromoteIfBetter("g", 1, "production", e1, "pipeline")->promote);
  EvaluationRecord e2 = Vs(json::object(), "better", "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1");
  e2.overall_score = 0.65;
  auto lower = registry_->PromoteIfBetter("g", 2, "production", e2, "pipeline");
  EXPECT_FALSE(lower->promote);
  EXPECT_NE(lower->reason.find("overallScore changed by -0.0500"), std::string::npos) << lower->reason;
  EvaluationRecord e3 = Vs(json::object(), "better", "g/1");
  e3.overall_score = 0.80;
  auto higher = registry_->PromoteIfBetter("g", 3, "production", e3, "pipeline");
  EXPECT_TRUE(higher->promote) << higher->reason;
  EXPECT_EQ(registry_->PromoteIfBetter("g", 3, "production", e3, "pipeline")->promote, false);  // already there
}

// The primary metric's own verdict decides significance; the record's overall verdict (which
// may be on another metric) never stands in for it.
TEST(RegistryGate, SignificanceIsThePrimaryMetricsOwnVerdict) {
  EvaluationRecord e = Vs({{"rougeL", {{"meanDiff", 0.1}}}}, "better");
  PromotionDecision d = DecidePromotion(Policy(), 1, e);
  EXPECT_FALSE(d.promote);
  EXPECT_NE(d.reason.find("verdict: none"), std::string::npos) << d.reason;
  EXPECT_FALSE(DecidePromotion(Policy(), 1, Vs({{"rougeL", Cmp(0.1, "no significant difference")}}, "better")).promote);
}

// The gate compares with the alias holder; a comparison with anything else says nothing.
TEST_F(RegistryPromotion, AComparisonWithAnotherVersionThanTheHolderIsNotPromoted) {
  for (int i = 0; i < 3; ++i) Register("g");
  ASSERT_TRUE(registry_->SetPolicy("g", Policy()).ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "ops", "").ok());
  auto d = registry_->PromoteIfBetter("g", 3, "production", Vs({{"rougeL", Cmp(0.1)}}, "better", "g/1"), "pipeline");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->promote);
  EXPECT_NE(d->reason.find("not with version 2"), std::string::npos) << d->reason;
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 2);
  // Against the custom model ARN of the holder it is a real comparison.
  auto ok = registry_->PromoteIfBetter("g", 3, "production",
                                       Vs({{"rougeL", Cmp(0.1)}}, "better", Version("g").custom_model_arn), "pipeline");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->promote) << ok->reason;
  // A retry of the same promotion records its evaluation once.
  EXPECT_FALSE(registry_->PromoteIfBetter("g", 3, "production",
                                          Vs({{"rougeL", Cmp(0.1)}}, "better", Version("g").custom_model_arn),
                                          "pipeline")->promote);
  EXPECT_EQ(registry_->GetVersion("g/3")->evaluations.size(), 2u);  // vs g/1, vs the custom model
}

// Two processes (two Registry objects over one lathe.db): a rollback lands while a promotion is
// deciding against the holder it read. The promotion must not move the alias from where the
// rollback left it.
TEST_F(RegistryPromotion, ARollbackDuringAPromotionMakesThePromotionConflict) {
  for (int i = 0; i < 3; ++i) Register("g");
  ASSERT_TRUE(registry_->SetPolicy("g", Policy()).ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "ops", "").ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "ops", "").ok());
  auto other_db = OpenStore();
  std::unique_ptr<Registry> other = MakeRegistry(other_db.get());
  // The promoting registry's clock runs the other process's rollback the first time the
  // promotion asks the time inside its alias move (after it read the holder, before it writes).
  auto promoting = MakeRegistry(db_.get());
  bool rolled = false;
  int calls = 0;
  promoting->set_clock([&] {
    if (++calls >= 2 && !rolled) {  // the first call stamps the evaluation
      rolled = true;
      auto back = other->Rollback("g", "production", "ops", "bad release");
      EXPECT_TRUE(back.ok()) << back.status().ToString();
    }
    return now_.load();
  });
  auto d = promoting->PromoteIfBetter("g", 3, "production", Vs({{"rougeL", Cmp(0.1)}}, "better", "g/2"), "pipeline");
  ASSERT_TRUE(rolled);
  EXPECT_EQ(d.status().code(), Status::Code::kConflict) << (d.ok() ? d->reason : d.status().ToString());
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 1);  // the rollback stands
}

// And the other way round: a promotion lands while a rollback is deciding which move to undo.
TEST_F(RegistryPromotion, APromotionDuringARollbackMakesTheRollbackConflict) {
  for (int i = 0; i < 3; ++i) Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "ops", "").ok());
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "ops", "").ok());
  auto other_db = OpenStore();
  std::unique_ptr<Registry> other = MakeRegistry(other_db.get());
  auto rolling = MakeRegistry(db_.get());
  bool moved = false;
  rolling->set_clock([&] {
    if (!moved) {
      moved = true;
      EXPECT_TRUE(other->SetAlias("g", "production", 3, "pipeline", "promoted").ok());
    }
    return now_.load();
  });
  auto back = rolling->Rollback("g", "production", "ops", "");
  ASSERT_TRUE(moved);
  EXPECT_EQ(back.status().code(), Status::Code::kConflict);
  EXPECT_EQ(registry_->Aliases("g")->at("production"), 3);
}

}  // namespace
}  // namespace lathe::registry
