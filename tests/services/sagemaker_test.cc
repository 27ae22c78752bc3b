// SageMaker's Model Registry subset through the awsJson 1.1 wire, as botocore sends it: the
// operation table over a real registry in a temporary lathe.db. Shapes out, the errors botocore's
// model declares, and bad input: wrong types, oversize and hostile names, forged NextTokens,
// ARNs of another account, members lathe does not serve.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/sagemaker/names.h"
#include "services/sagemaker/service.h"
#include "test_util.h"

namespace lathe::sagemaker {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

constexpr const char* kAccount = "123456789012";

aws::RequestContext Context() {
  aws::RequestContext ctx;
  ctx.request_id = "11111111-2222-3333-4444-555555555555";
  ctx.region = "us-east-1";
  ctx.service = "sagemaker";
  ctx.caller.account = kAccount;
  ctx.caller.arn = std::string("arn:aws:iam::") + kAccount + ":root";
  return ctx;
}

class SageMakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    registry_ = std::make_unique<registry::Registry>(store_.get(), "us-east-1", kAccount);
    service_ = NewSageMakerService(registry_.get());
  }
  // {status, body}; every answer is JSON, an error carries __type.
  std::pair<int, json> Call(const std::string& operation, const json& body) { return CallRaw(operation, body.dump()); }
  std::pair<int, json> CallRaw(const std::string& operation, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers.push_back({"X-Amz-Target", "SageMaker." + operation});
    http::Response res;
    service_->Serve(Context(), req, body, res);
    json out = json::parse(res.body, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << res.body;
    return {res.status, out};
  }
  // The error's code ("ValidationException"), or "" when the call succeeded.
  std::string ErrorOf(const std::string& operation, const json& body) {
    auto [status, out] = Call(operation, body);
    if (status == 200) return "";
    EXPECT_EQ(status, out.value("__type", "") == "InternalFailure" ? 500 : 400) << out;
    std::string type = out.value("__type", "");
    return type.substr(type.find('#') + 1);
  }
  std::string CreateVersion(const json& extra = json::object()) {
    json in = {{"ModelPackageGroupName", "banking-assistant"}, {"ModelPackageDescription", "fine-tuned"}};
    in.update(extra);
    auto [status, out] = Call("CreateModelPackage", in);
    EXPECT_EQ(status, 200) << out;
    return out.value("ModelPackageArn", "");
  }
  void CreateGroup(const std::string& name = "banking-assistant") {
    auto [status, out] = Call("CreateModelPackageGroup", {{"ModelPackageGroupName", name}});
    ASSERT_EQ(status, 200) << out;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<aws::JsonTargetService> service_;
};

TEST_F(SageMakerTest, GroupsRoundTripWithTheModelsShapes) {
  auto [status, out] = Call("CreateModelPackageGroup", {{"ModelPackageGroupName", "banking-assistant"},
                                                        {"ModelPackageGroupDescription", "support answers"},
                                                        {"Tags", {{{"Key", "team"}, {"Value", "ml"}}}}});
  ASSERT_EQ(status, 200) << out;
  const std::string arn = out["ModelPackageGroupArn"];
  EXPECT_EQ(arn, "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/banking-assistant");
  for (const std::string& ref : {std::string("banking-assistant"), arn}) {
    std::tie(status, out) = Call("DescribeModelPackageGroup", {{"ModelPackageGroupName", ref}});
    ASSERT_EQ(status, 200) << out;
    EXPECT_EQ(out["ModelPackageGroupName"], "banking-assistant");
    EXPECT_EQ(out["ModelPackageGroupArn"], arn);
    EXPECT_EQ(out["ModelPackageGroupDescription"], "support answers");
    EXPECT_EQ(out["ModelPackageGroupStatus"], "Completed");
    EXPECT_TRUE(out["CreationTime"].is_number());
    EXPECT_TRUE(out.contains("CreatedBy"));
  }
  // A second group of the same name is SageMaker's ValidationException.
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", "banking-assistant"}}), "ValidationException");
  EXPECT_EQ(ErrorOf("DescribeModelPackageGroup", {{"ModelPackageGroupName", "nope"}}), "ValidationException");
}

TEST_F(SageMakerTest, PackagesAreNumberedVersionsWithTheirModel) {
  CreateGroup();
  const std::string v1 = CreateVersion({{"CustomerMetadataProperties", {{"customModelArn", "arn:aws:bedrock:us-east-1:123456789012:custom-model/m1"},
                                                                        {"baseModel", "stories260K"}}},
                                        {"MetadataProperties", {{"CommitId", "abc123"}}}});
  const std::string v2 = CreateVersion({{"ModelApprovalStatus", "Approved"},
                                        {"InferenceSpecification", {{"Containers", {{{"ModelDataUrl", "s3://models/m2/"}}}}}}});
  EXPECT_EQ(v1, "arn:aws:sagemaker:us-east-1:123456789012:model-package/banking-assistant/1");
  EXPECT_EQ(v2, "arn:aws:sagemaker:us-east-1:123456789012:model-package/banking-assistant/2");

  auto [status, out] = Call("DescribeModelPackage", {{"ModelPackageName", v1}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["ModelPackageGroupName"], "banking-assistant");
  EXPECT_EQ(out["ModelPackageVersion"], 1);
  EXPECT_EQ(out["ModelPackageArn"], v1);
  EXPECT_EQ(out["ModelPackageDescription"], "fine-tuned");
  EXPECT_EQ(out["ModelApprovalStatus"], "PendingManualApproval");
  EXPECT_EQ(out["ModelPackageStatus"], "Completed");
  EXPECT_TRUE(out["ModelPackageStatusDetails"].is_object());
  EXPECT_EQ(out["CustomerMetadataProperties"]["baseModel"], "stories260K");
  EXPECT_EQ(out["MetadataProperties"]["CommitId"], "abc123");
  EXPECT_FALSE(out["CustomerMetadataProperties"].contains("lathe:CommitId"));
  // The registry's version carries the model and lineage lathe read from the metadata.
  auto version = registry_->GetVersion("banking-assistant", 1);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->custom_model_arn, "arn:aws:bedrock:us-east-1:123456789012:custom-model/m1");
  EXPECT_EQ(version->base_model, "stories260K");

  // By "<group>/<version>" too, and the container's ModelDataUrl is the second's model.
  std::tie(status, out) = Call("DescribeModelPackage", {{"ModelPackageName", "banking-assistant/2"}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["ModelApprovalStatus"], "Approved");
  EXPECT_EQ(out["InferenceSpecification"]["Containers"][0]["ModelDataUrl"], "s3://models/m2/");
  EXPECT_EQ(registry_->GetVersion("banking-assistant", 2)->custom_model_arn, "s3://models/m2/");

  EXPECT_EQ(ErrorOf("DescribeModelPackage", {{"ModelPackageName", "banking-assistant/3"}}), "ValidationException");
  // A package in a group that does not exist.
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "no-such-group"}}), "ValidationException");
}

// MetadataProperties values go up to 1024 bytes (botocore) and are lathe's own entries: they
// neither meet the 256-byte customer bound nor count toward the customer's 50.
TEST_F(SageMakerTest, MetadataPropertiesTakeTheirOwnBoundsBesideFiftyCustomerEntries) {
  CreateGroup();
  json fifty = json::object();
  for (int i = 0; i < 50; ++i) fifty["k" + std::to_string(i)] = "v";
  const std::string long_value(1000, 'x');
  const std::string arn = CreateVersion({{"CustomerMetadataProperties", fifty},
                                         {"MetadataProperties", {{"CommitId", long_value}, {"Repository", "r"}}}});
  ASSERT_FALSE(arn.empty());
  auto [status, out] = Call("DescribeModelPackage", {{"ModelPackageName", arn}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["MetadataProperties"]["CommitId"], long_value);
  EXPECT_EQ(out["CustomerMetadataProperties"].size(), 50u);
}

TEST_F(SageMakerTest, ClientTokenRegistersOnce) {
  CreateGroup();
  const std::string a = CreateVersion({{"ClientToken", "token-1"}});
  const std::string b = CreateVersion({{"ClientToken", "token-1"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"ClientToken", "bad token!"}}),
            "ValidationException");
}

TEST_F(SageMakerTest, ListsFilterSortAndPage) {
  CreateGroup();
  CreateGroup("other-group");
  for (int i = 0; i < 5; ++i) CreateVersion(i % 2 ? json{{"ModelApprovalStatus", "Approved"}} : json::object());
  auto [status, out] = Call("ListModelPackages", {{"ModelPackageGroupName", "banking-assistant"}, {"SortOrder", "Ascending"}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["ModelPackageSummaryList"].size(), 5u);
  EXPECT_EQ(out["ModelPackageSummaryList"][0]["ModelPackageVersion"], 1);
  EXPECT_EQ(out["ModelPackageSummaryList"][0]["ModelPackageGroupName"], "banking-assistant");
  EXPECT_FALSE(out.contains("NextToken"));

  std::tie(status, out) = Call("ListModelPackages", {{"ModelPackageGroupName", "banking-assistant"},
                                                     {"ModelApprovalStatus", "Approved"}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["ModelPackageSummaryList"].size(), 2u);
  // Oldest first by default (botocore's SortOrder: "The default is Ascending").
  EXPECT_EQ(out["ModelPackageSummaryList"][0]["ModelPackageVersion"], 2);
  EXPECT_EQ(out["ModelPackageSummaryList"][1]["ModelPackageVersion"], 4);

  // Pages of 2, in order, none repeated.
  std::vector<int> seen;
  json in = {{"ModelPackageGroupName", "banking-assistant"}, {"MaxResults", 2}, {"SortOrder", "Ascending"}};
  for (int page = 0; page < 5; ++page) {
    std::tie(status, out) = Call("ListModelPackages", in);
    ASSERT_EQ(status, 200) << out;
    for (const json& s : out["ModelPackageSummaryList"]) seen.push_back(s["ModelPackageVersion"]);
    if (!out.contains("NextToken")) break;
    in["NextToken"] = out["NextToken"];
  }
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5}));
  // Descending pages of one group come from the store a page at a time, newest first.
  seen.clear();
  in = {{"ModelPackageGroupName", "banking-assistant"}, {"MaxResults", 2}, {"SortOrder", "Descending"}};
  for (int page = 0; page < 5; ++page) {
    std::tie(status, out) = Call("ListModelPackages", in);
    ASSERT_EQ(status, 200) << out;
    for (const json& s : out["ModelPackageSummaryList"]) seen.push_back(s["ModelPackageVersion"]);
    if (!out.contains("NextToken")) break;
    in["NextToken"] = out["NextToken"];
  }
  EXPECT_EQ(seen, (std::vector<int>{5, 4, 3, 2, 1}));
  // Rejected on the wire includes Archived (scanned, not pushed down).
  registry_->UpdateVersion("banking-assistant/1", registry::VersionStatus::kArchived, "", {}, {}, "ops");
  registry_->UpdateVersion("banking-assistant/3", registry::VersionStatus::kRejected, "", {}, {}, "ops");
  std::tie(status, out) = Call("ListModelPackages", {{"ModelPackageGroupName", "banking-assistant"},
                                                     {"ModelApprovalStatus", "Rejected"}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["ModelPackageSummaryList"].size(), 2u) << out;

  // Forged, truncated and other lists' tokens.
  for (const std::string& token : {std::string("5"), std::string("AAAA"), std::string(9000, 'x')})
    EXPECT_EQ(ErrorOf("ListModelPackages", {{"ModelPackageGroupName", "banking-assistant"}, {"NextToken", token}}),
              "ValidationException") << token;
  std::tie(status, out) = Call("ListModelPackageGroups", {{"MaxResults", 1}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_TRUE(out.contains("NextToken"));
  EXPECT_EQ(ErrorOf("ListModelPackages", {{"ModelPackageGroupName", "banking-assistant"}, {"NextToken", out["NextToken"]}}),
            "ValidationException");

  // Groups: name filter, sort by name, creation time window.
  std::tie(status, out) = Call("ListModelPackageGroups", {{"NameContains", "other"}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["ModelPackageGroupSummaryList"].size(), 1u);
  EXPECT_EQ(out["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"], "other-group");
  std::tie(status, out) = Call("ListModelPackageGroups", {{"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  ASSERT_EQ(out["ModelPackageGroupSummaryList"].size(), 2u);
  EXPECT_EQ(out["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"], "banking-assistant");
  std::tie(status, out) = Call("ListModelPackageGroups", {{"CreationTimeAfter", 4102444800}});  // 2100
  EXPECT_EQ(out["ModelPackageGroupSummaryList"].size(), 0u);
  std::tie(status, out) = Call("ListModelPackages", {{"CreationTimeBefore", 946684800}, {"ModelPackageGroupName", "banking-assistant"}});
  EXPECT_EQ(out["ModelPackageSummaryList"].size(), 0u);
  // Without a group SageMaker lists unversioned packages (lathe has none) unless asked for versioned.
  std::tie(status, out) = Call("ListModelPackages", json::object());
  EXPECT_EQ(out["ModelPackageSummaryList"].size(), 0u);
  std::tie(status, out) = Call("ListModelPackages", {{"ModelPackageType", "Versioned"}});
  EXPECT_EQ(out["ModelPackageSummaryList"].size(), 5u);
  // Another account's group.
  EXPECT_EQ(ErrorOf("ListModelPackages",
                    {{"ModelPackageGroupName", "arn:aws:sagemaker:us-east-1:999999999999:model-package-group/banking-assistant"}}),
            "ValidationException");
}

TEST_F(SageMakerTest, UpdateSetsApprovalAndMetadata) {
  CreateGroup();
  const std::string arn = CreateVersion({{"CustomerMetadataProperties", {{"a", "1"}, {"b", "2"}}}});
  auto [status, out] = Call("UpdateModelPackage", {{"ModelPackageArn", arn},
                                                   {"ModelApprovalStatus", "Approved"},
                                                   {"ApprovalDescription", "beats v0"},
                                                   {"CustomerMetadataProperties", {{"c", "3"}}},
                                                   {"CustomerMetadataPropertiesToRemove", {"a"}}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["ModelPackageArn"], arn);
  std::tie(status, out) = Call("DescribeModelPackage", {{"ModelPackageName", arn}});
  EXPECT_EQ(out["ModelApprovalStatus"], "Approved");
  EXPECT_EQ(out["ApprovalDescription"], "beats v0");
  EXPECT_EQ(out["CustomerMetadataProperties"], (json{{"b", "2"}, {"c", "3"}}));
  EXPECT_TRUE(out["LastModifiedTime"].is_number());
  EXPECT_EQ(ErrorOf("UpdateModelPackage", {{"ModelPackageArn", arn}, {"ModelApprovalStatus", "Archived"}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("UpdateModelPackage", {{"ModelPackageArn", "arn:aws:sagemaker:us-east-1:999999999999:model-package/banking-assistant/1"},
                                           {"ModelApprovalStatus", "Rejected"}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("UpdateModelPackage", {{"ModelPackageArn", arn}, {"ModelCard", {{"ModelCardStatus", "Draft"}}}}),
            "ValidationException");
}

TEST_F(SageMakerTest, DeleteRules) {
  CreateGroup();
  const std::string v1 = CreateVersion();
  CreateVersion();
  EXPECT_EQ(ErrorOf("DeleteModelPackageGroup", {{"ModelPackageGroupName", "banking-assistant"}}), "ConflictException");
  // An aliased version stays.
  ASSERT_TRUE(registry_->SetAlias("banking-assistant", "production", 1, "test", "first").ok());
  EXPECT_EQ(ErrorOf("DeleteModelPackage", {{"ModelPackageName", v1}}), "ConflictException");
  // ...and is not rejected while it serves (UpdateModelPackage's declared ConflictException).
  EXPECT_EQ(ErrorOf("UpdateModelPackage", {{"ModelPackageArn", v1}, {"ModelApprovalStatus", "Rejected"}}),
            "ConflictException");
  EXPECT_EQ(ErrorOf("DeleteModelPackage", {{"ModelPackageName", "banking-assistant/2"}}), "");
  EXPECT_EQ(ErrorOf("DescribeModelPackage", {{"ModelPackageName", "banking-assistant/2"}}), "ValidationException");
  // A third version is numbered 3: numbers are never reused.
  EXPECT_EQ(CreateVersion(), "arn:aws:sagemaker:us-east-1:123456789012:model-package/banking-assistant/3");
}

TEST_F(SageMakerTest, BadInputIsRefusedAsAwsRefusesIt) {
  CreateGroup();
  // Wrong JSON types: SerializationException.
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", 5}}), "SerializationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"CustomerMetadataProperties", "x"}}),
            "SerializationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"CustomerMetadataProperties", {{"k", 1}}}}),
            "SerializationException");
  EXPECT_EQ(ErrorOf("ListModelPackages", {{"MaxResults", "10"}}), "SerializationException");
  EXPECT_EQ(ErrorOf("ListModelPackageGroups", {{"CreationTimeAfter", "yesterday"}}), "SerializationException");
  auto [status, out] = CallRaw("ListModelPackageGroups", "[1, 2");
  EXPECT_EQ(status, 400);
  // Missing required members.
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", json::object()), "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", json::object()), "ValidationException");
  EXPECT_EQ(ErrorOf("DescribeModelPackage", json::object()), "ValidationException");
  EXPECT_EQ(ErrorOf("UpdateModelPackage", json::object()), "ValidationException");
  // Oversize and hostile names.
  for (const std::string& name : {std::string(64, 'a'), std::string("../etc"), std::string("a b"), std::string("-lead"),
                                  std::string("trail-"), std::string("caf\xc3\xa9"), std::string("a\nb"), std::string(""),
                                  std::string(100000, 'x')})
    EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", name}}), "ValidationException") << name.substr(0, 20);
  for (const std::string& ref : {std::string("banking-assistant/0"), std::string("banking-assistant/x"),
                                 std::string("banking-assistant/1234567890"), std::string("banking-assistant/1/2"),
                                 std::string("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/banking-assistant/1"),
                                 std::string("arn:aws:s3:::bucket/key"), std::string(200, 'a')})
    EXPECT_EQ(ErrorOf("DescribeModelPackage", {{"ModelPackageName", ref}}), "ValidationException") << ref.substr(0, 40);
  // Oversize members and collections.
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", "g2"}, {"ModelPackageGroupDescription", std::string(1025, 'd')}}),
            "ValidationException");
  json many = json::object();
  for (int i = 0; i < 51; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"CustomerMetadataProperties", many}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"},
                                           {"CustomerMetadataProperties", {{"k", std::string(257, 'v')}}}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"},
                                           {"CustomerMetadataProperties", {{"lathe:CommitId", "forged"}}}}),
            "ValidationException");
  json tags = json::array();
  for (int i = 0; i < 51; ++i) tags.push_back({{"Key", "k" + std::to_string(i)}, {"Value", "v"}});
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", "g3"}, {"Tags", tags}}), "ValidationException");
  EXPECT_EQ(ErrorOf("ListModelPackageGroups", {{"MaxResults", 0}}), "ValidationException");
  EXPECT_EQ(ErrorOf("ListModelPackageGroups", {{"MaxResults", 101}}), "ValidationException");
  EXPECT_EQ(ErrorOf("ListModelPackageGroups", {{"SortBy", "Size"}}), "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"ModelApprovalStatus", "approved"}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"},
                                           {"InferenceSpecification", {{"Containers", json::array()}}}}),
            "ValidationException");
  // Members lathe does not serve, given non-empty, say so; empty ones are harmless.
  std::tie(status, out) = Call("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"},
                                                      {"ModelMetrics", {{"ModelQuality", {{"Statistics", {{"S3Uri", "s3://b/k"}}}}}}}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(out.value("message", out.value("Message", "")).find("lathe does not support ModelMetrics"), std::string::npos) << out;
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"ModelPackageName", "unversioned"}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackageGroup", {{"ModelPackageGroupName", "g4"}, {"ManagedConfiguration", {{"x", 1}}}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("CreateModelPackage", {{"ModelPackageGroupName", "banking-assistant"}, {"CertifyForMarketplace", false},
                                           {"ModelMetrics", json::object()}}),
            "");
  // ARNs of another account.
  EXPECT_EQ(ErrorOf("DescribeModelPackageGroup",
                    {{"ModelPackageGroupName", "arn:aws:sagemaker:us-east-1:999999999999:model-package-group/banking-assistant"}}),
            "ValidationException");
  EXPECT_EQ(ErrorOf("DeleteModelPackage",
                    {{"ModelPackageName", "arn:aws:sagemaker:us-east-1:999999999999:model-package/banking-assistant/1"}}),
            "ValidationException");
  EXPECT_TRUE(registry_->GetVersion("banking-assistant", 1).ok());
  // An operation outside the subset.
  std::tie(status, out) = Call("CreateTrainingJob", json::object());
  EXPECT_EQ(status, 400);
}

TEST(SageMakerNames, EntityNamesAndReferences) {
  EXPECT_TRUE(IsEntityName("a"));
  EXPECT_TRUE(IsEntityName("banking-assistant-2"));
  EXPECT_TRUE(IsEntityName("a--b"));
  EXPECT_FALSE(IsEntityName(""));
  EXPECT_FALSE(IsEntityName("-a"));
  EXPECT_FALSE(IsEntityName("a_b"));
  EXPECT_FALSE(IsEntityName(std::string(64, 'a')));
  auto ref = VersionRefFrom("arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/12", kAccount, "m");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->group, "g");
  EXPECT_EQ(ref->version, 12);
  EXPECT_FALSE(VersionRefFrom("g", kAccount, "m").ok());
  auto group = GroupNameFrom("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g", kAccount, "m");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(*group, "g");
  EXPECT_FALSE(GroupNameFrom("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1", kAccount, "m").ok());
}

}  // namespace
}  // namespace lathe::sagemaker
