// The registry refuses bad input with InvalidArgument naming the field (or NotFound for another
// account's or region's ARN), before anything is stored.
#include <cmath>

#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

using RegistryInput = RegistryFixture;

void ExpectInvalid(const Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.message().rfind(field + ":", 0), 0u) << s.message();
}

const std::vector<std::string>& HostileNames() {
  static const std::vector<std::string> names = {
      "", "-lead", "trail-", "under_score", "a/b", "..", "../etc", "a.b", "sp ace", std::string("nul\0x", 5),
      std::string(64, 'a'), std::string(10 * 1024, 'a'), "caf\xc3\xa9", "x\n"};
  return names;
}

TEST_F(RegistryInput, GroupAndAliasNamesFollowSageMakersEntityName) {
  for (const std::string& name : HostileNames()) {
    SCOPED_TRACE(name.substr(0, 20));
    ExpectInvalid(registry_->CreateGroup(name, "", "").status(), "group");
    ExpectInvalid(registry_->Register(Version(name)).status(), "group");
  }
  EXPECT_TRUE(registry_->CreateGroup(std::string(63, 'a'), "", "").ok());
  EXPECT_TRUE(registry_->CreateGroup("a--b-9", "", "").ok());
  ASSERT_EQ(Register("g"), 1);
  for (const std::string& name : HostileNames()) {
    SCOPED_TRACE(name.substr(0, 20));
    ExpectInvalid(registry_->SetAlias("g", name, 1, "", "").status(), "alias");
    ExpectInvalid(registry_->AliasAt("g", name, 0).status(), "alias");
  }
  EXPECT_TRUE(db_->List("model-alias")->empty());
}

TEST_F(RegistryInput, BoundsNameTheField) {
  NewVersion v = Version("g");
  v.description = std::string(kMaxDescriptionBytes + 1, 'd');
  ExpectInvalid(registry_->Register(v).status(), "description");
  v = Version("g");
  for (size_t i = 0; i <= kMaxDataObjects; ++i) v.data.push_back(Data("s3://b/" + std::to_string(i)));
  ExpectInvalid(registry_->Register(v).status(), "data");
  v.data.resize(kMaxDataObjects);
  EXPECT_TRUE(registry_->Register(v).ok());  // exactly the bound is fine
  v = Version("g");
  v.evaluations.resize(kMaxEvaluations + 1);
  ExpectInvalid(registry_->Register(v).status(), "evaluations");
  // Metric and comparison names are names: no markup, no control bytes, bounded.
  EvaluationRecord bad;
  bad.metrics = {{"<script>", 1.0}};
  EXPECT_NE(registry_->AddEvaluation("g", 1, bad).message().find("evaluation.metrics"), std::string::npos);
  bad.metrics = nlohmann::json::object();
  bad.comparison = {{std::string(65, 'm'), {{"meanDiff", 0.1}}}};
  EXPECT_NE(registry_->AddEvaluation("g", 1, bad).message().find("evaluation.comparison"), std::string::npos);
  bad.comparison = {{"Builtin.Accuracy", {{"meanDiff", 0.1}}}, {"overallScore", {{"meanDiff", 0.1}}}};
  EXPECT_TRUE(registry_->AddEvaluation("g", 1, bad).ok());
  v = Version("g");
  for (size_t i = 0; i <= kMaxMetadataEntries; ++i) v.metadata["k" + std::to_string(i)] = "v";
  ExpectInvalid(registry_->Register(v).status(), "metadata");
  v = Version("g");
  v.data = {Data("s3://b/k", "not-a-digest")};
  ExpectInvalid(registry_->Register(v).status(), "data[0].sha256");
  v.data = {Data(std::string(5000, 'u'))};
  ExpectInvalid(registry_->Register(v).status(), "data[0].uri");
  v.data = {Data("s3://b/k")};
  v.data[0].purpose = "testing";
  ExpectInvalid(registry_->Register(v).status(), "data[0].purpose");
  v = Version("g");
  nlohmann::json deep = 1;
  for (int i = 0; i < 40; ++i) deep = nlohmann::json{{"x", deep}};
  v.hyperparameters = deep;
  ExpectInvalid(registry_->Register(v).status(), "hyperparameters");
  v = Version("g");
  v.hyperparameters = {{"blob", std::string(kMaxVersionDocBytes, 'x')}};
  ExpectInvalid(registry_->Register(v).status(), "version");
  v = Version("g");
  v.created_by = std::string("evil\0actor", 10);
  ExpectInvalid(registry_->Register(v).status(), "createdBy");
  ExpectInvalid(registry_->SetAlias("g", "prod", 1, "a", std::string(kMaxReasonBytes + 1, 'r')).status(), "reason");
  EXPECT_EQ(registry_->ListVersions("g", {})->size(), 1u);  // only the one at the bound
}

TEST_F(RegistryInput, ForgedAndMalformedReferences) {
  ASSERT_EQ(Register("g"), 1);
  const std::string ours = "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1";
  EXPECT_TRUE(registry_->GetVersion(ours).ok());
  // Another account's or region's ARN names nothing here.
  EXPECT_EQ(registry_->GetVersion("arn:aws:sagemaker:us-east-1:999999999999:model-package/g/1").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(registry_->GetVersion("arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(registry_->GetGroup("arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/g").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(registry_->DeleteVersion("arn:aws:sagemaker:us-east-1:999999999999:model-package/g/1").code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(registry_->GetVersion("g/1").ok());  // still there
  for (const std::string& bad :
       {std::string("arn:aws:sagemaker"), std::string("arn:aws:s3:us-east-1:123456789012:model-package/g/1"),
        std::string("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g"),
        std::string("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/../1"),
        std::string("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1/2"), std::string("g/01"),
        std::string("g/0"), std::string("g/-1"), std::string("g/abc"), std::string("g"), std::string("/1"),
        std::string("g/99999999999"), std::string("../g/1"), std::string(10 * 1024, '/')}) {
    SCOPED_TRACE(bad.substr(0, 40));
    EXPECT_EQ(registry_->GetVersion(bad).status().code(), Status::Code::kInvalidArgument);
  }
  EXPECT_EQ(registry_->Resolve("g:" + std::string(100, 'a')).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(registry_->Resolve("g:production").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(registry_->GetVersion("g", 0).status().code(), Status::Code::kInvalidArgument);
  ExpectInvalid(registry_->VersionsTrainedOn("", "").status(), "uri");
  ExpectInvalid(registry_->VersionsTrainedOn(std::string(10 * 1024, 'u')).status(), "uri");
  ExpectInvalid(registry_->VersionsTrainedOn("s3://b/k", "zz").status(), "sha256");
  ExpectInvalid(registry_->VersionsTrainedOn("s3://b/k", std::string(64, 'g')).status(), "sha256");
}

// Every operation refuses what it cannot store, and stores nothing.
TEST_F(RegistryInput, EveryOperationChecksItsArguments) {
  ASSERT_EQ(Register("g"), 1);
  const std::string hostile = "../" + std::string(10 * 1024, 'x');
  ExpectInvalid(registry_->CreateGroup("h", std::string(kMaxDescriptionBytes + 1, 'd'), "").status(), "description");
  ExpectInvalid(registry_->CreateGroup("h", "", "", {{"", "v"}}).status(), "tags key");
  ExpectInvalid(registry_->GetGroup(hostile).status(), "group");
  ExpectInvalid(registry_->DeleteGroup(hostile), "group");
  ExpectInvalid(registry_->SetPolicy(hostile, PromotionPolicy{}), "group");
  ListOptions long_filter;
  long_filter.name_contains = hostile;
  ExpectInvalid(registry_->ListGroups(long_filter).status(), "nameContains");
  ExpectInvalid(registry_->ListVersions(hostile, {}).status(), "group");
  ExpectInvalid(registry_->UpdateVersion("g/1", std::nullopt, std::string(kMaxDescriptionBytes + 1, 'a'), {}, {}, "")
                    .status(), "approvalDescription");
  ExpectInvalid(registry_->UpdateVersion("g/1", std::nullopt, "", {}, std::vector<std::string>(51, "k"), "").status(),
                "metadataRemove");
  ExpectInvalid(registry_->UpdateVersion("g/1", std::nullopt, "", {}, {}, std::string("a\0b", 3)).status(), "actor");
  EXPECT_EQ(ParseVersionStatus("Approvedish").status().code(), Status::Code::kInvalidArgument);
  EvaluationRecord nan;
  nan.overall_score = std::nan("");
  ExpectInvalid(registry_->AddEvaluation("g", 1, nan), "evaluation.overallScore");
  EvaluationRecord not_object;
  not_object.metrics = nlohmann::json::array();
  ExpectInvalid(registry_->AddEvaluation("g", 1, not_object), "evaluation.metrics");
  ExpectInvalid(registry_->AddEvaluation(hostile, 1, EvaluationRecord{}), "group");
  for (size_t i = 0; i < kMaxEvaluations; ++i) ASSERT_TRUE(registry_->AddEvaluation("g", 1, EvaluationRecord{}).ok());
  ExpectInvalid(registry_->AddEvaluation("g", 1, EvaluationRecord{}), "evaluations");
  ExpectInvalid(registry_->DeleteVersion(hostile), "version");
  ExpectInvalid(registry_->Rollback("g", hostile, "", "").status(), "alias");
  ExpectInvalid(registry_->AliasHistory(hostile, "p").status(), "group");
  ExpectInvalid(registry_->Aliases(hostile).status(), "group");
  ExpectInvalid(registry_->PromoteIfBetter("g", 1, hostile, EvaluationRecord{}, "").status(), "alias");
  ExpectInvalid(registry_->ExportFiles(hostile, 1).status(), "group");
  EXPECT_EQ(registry_->GetVersion("g/1")->evaluations.size(), kMaxEvaluations);
  EXPECT_EQ(registry_->ListGroups({})->size(), 1u);
}

TEST_F(RegistryInput, PolicyJsonNamesTheBadField) {
  auto ok = PolicyFromJson({{"primaryMetric", "rougeL"}, {"minMargin", 0.01}, {"requireSignificance", false}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->primary_metric, "rougeL");
  EXPECT_EQ(PolicyToJson(*ok)["minMargin"], 0.01);
  ExpectInvalid(PolicyFromJson({{"minMargin", -1}}).status(), "policy.minMargin");
  ExpectInvalid(PolicyFromJson({{"maxRegression", "a lot"}}).status(), "policy.maxRegression");
  ExpectInvalid(PolicyFromJson({{"primaryMetric", "a b"}}).status(), "policy.primaryMetric");
  ExpectInvalid(PolicyFromJson({{"requireSignificance", 1}}).status(), "policy.requireSignificance");
  ExpectInvalid(PolicyFromJson({{"surprise", 1}}).status(), "policy");
  ExpectInvalid(PolicyFromJson(nlohmann::json::array()).status(), "policy");
  ASSERT_TRUE(registry_->CreateGroup("g", "", "").ok());
  PromotionPolicy p;
  p.min_margin = -0.5;
  ExpectInvalid(registry_->SetPolicy("g", p), "policy.minMargin");
}

}  // namespace
}  // namespace lathe::registry
