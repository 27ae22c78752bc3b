// The registry's signal for automatic rollback: an alias holder's evaluation recorded after it
// took the alias, with verdict "worse", is a regression; older evaluations, other verdicts and a
// holder that changed since the caller resolved are not.
#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

using RegistryRegression = RegistryFixture;

EvaluationRecord Evaluation(const std::string& id, const std::string& verdict, int64_t created_ms) {
  EvaluationRecord e;
  e.evaluation = id;
  e.baseline = "g/1";
  e.overall_score = 0.41;
  e.verdict = verdict;
  e.created_ms = created_ms;
  return e;
}

TEST_F(RegistryRegression, OnlyTheNewestEvaluationSinceTheMoveCounts) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "alice", "").ok());
  // An evaluation before the move ("worse" then) says nothing about the holder now.
  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-old", "worse", now_ - 1)).ok());
  now_ += 1000;
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "bob", "promoted").ok());
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 2), "");
  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-same-ms", "worse", now_)).ok());
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 2), "");  // recorded with the move, before it

  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-1", "no significant difference", now_ + 10)).ok());
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 2), "");
  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-2", "worse", now_ + 20)).ok());
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 2),
            "evaluation eval-2 of g/2 is worse than g/1 (overallScore 0.41)");
  // A newer, better evaluation clears it.
  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-3", "better", now_ + 30)).ok());
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 2), "");
}

TEST_F(RegistryRegression, AnotherHolderOrNoAliasIsNoRegression) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->SetAlias("g", "production", 2, "bob", "").ok());
  ASSERT_TRUE(registry_->AddEvaluation("g", 2, Evaluation("eval-2", "worse", now_ + 20)).ok());
  EXPECT_NE(*registry_->AliasRegression("g", "production", 2), "");
  EXPECT_EQ(*registry_->AliasRegression("g", "production", 1), "");  // the caller's holder moved on
  EXPECT_EQ(*registry_->AliasRegression("g", "staging", 2), "");
  EXPECT_EQ(registry_->AliasRegression("g", "bad alias!", 2).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(registry_->AliasRegression(std::string(5000, 'g'), "production", 2).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(EvaluationRegression, IsPureOverTheVersionsRecords) {
  ModelVersion v;
  v.group = "g";
  v.version = 3;
  EXPECT_EQ(EvaluationRegression(v, 0), "");
  EvaluationRecord e = Evaluation("e", "worse", 5);
  e.baseline = "";
  v.evaluations = {e};
  EXPECT_EQ(EvaluationRegression(v, 4), "evaluation e of g/3 is worse than its baseline (overallScore 0.41)");
  EXPECT_EQ(EvaluationRegression(v, 5), "");
}

}  // namespace
}  // namespace lathe::registry
