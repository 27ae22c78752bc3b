// A job's role bounds what the job reads and writes (services/iam/role_access.h): the role's
// inline and attached policies decide; roles IAM does not hold bound nothing.
#include "services/iam/role_access.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kRole[] = "arn:aws:iam::123456789012:role/BedrockFineTuningRole";
constexpr char kTrust[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
// Reads the training bucket; writes nothing.
constexpr char kReadTraining[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::training","arn:aws:s3:::training/*"]}]})";
constexpr char kWriteOutput[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":"s3:PutObject","Resource":"arn:aws:s3:::out/jobs/*"}]})";
constexpr char kDenyCondition[] = R"({"Version":"2012-10-17","Statement":[{"Sid":"NotThisRole","Effect":"Deny",
  "Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}}]})";

class RoleAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    iam_ = std::make_unique<IamBackend>(store_.get());
    CreateRoleInput in;
    in.name = "BedrockFineTuningRole";
    in.assume_role_policy = kTrust;
    ASSERT_TRUE(iam_->CreateRole(kAccount, in).ok());
    ASSERT_TRUE(iam_->PutRolePolicy(kAccount, "BedrockFineTuningRole", "read", kReadTraining).ok());
  }
  std::string Refusal(const std::string& role, const std::string& action, const std::string& resource) {
    return RoleRefusal(iam_.get(), kAccount, role, action, resource);
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<IamBackend> iam_;
};

TEST_F(RoleAccessTest, TheRolesInlinePolicyDecides) {
  EXPECT_EQ(Refusal(kRole, "s3:GetObject", "arn:aws:s3:::training/data/train.jsonl"), "");
  EXPECT_EQ(Refusal(kRole, "s3:GetObject", "arn:aws:s3:::elsewhere/train.jsonl"),
            "User: arn:aws:iam::123456789012:role/BedrockFineTuningRole is not authorized to perform: s3:GetObject "
            "on resource: arn:aws:s3:::elsewhere/train.jsonl because no identity-based policy allows the "
            "s3:GetObject action");
  const std::string put = Refusal(kRole, "s3:PutObject", "arn:aws:s3:::out/jobs/");
  EXPECT_NE(put.find("is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::out/jobs/"),
            std::string::npos)
      << put;
}

TEST_F(RoleAccessTest, AttachedPoliciesAndDenysCount) {
  // An attached customer managed policy is not kept by lathe; an inline one stands in for it,
  // and AWS's managed AmazonS3FullAccess is attachable.
  ASSERT_TRUE(iam_->PutRolePolicy(kAccount, "BedrockFineTuningRole", "write", kWriteOutput).ok());
  EXPECT_EQ(Refusal(kRole, "s3:PutObject", "arn:aws:s3:::out/jobs/"), "");
  EXPECT_NE(Refusal(kRole, "s3:PutObject", "arn:aws:s3:::out/other/"), "");
  ASSERT_TRUE(
      iam_->AttachRolePolicy(kAccount, "BedrockFineTuningRole", "arn:aws:iam::aws:policy/AmazonS3FullAccess").ok());
  EXPECT_EQ(Refusal(kRole, "s3:PutObject", "arn:aws:s3:::out/other/"), "");
  // The role's own condition keys: a Deny on aws:PrincipalType AssumedRole beats every Allow.
  ASSERT_TRUE(iam_->PutRolePolicy(kAccount, "BedrockFineTuningRole", "deny", kDenyCondition).ok());
  const std::string denied = Refusal(kRole, "s3:GetObject", "arn:aws:s3:::training/data/train.jsonl");
  EXPECT_NE(denied.find("with an explicit deny in an identity-based policy"), std::string::npos) << denied;
}

TEST_F(RoleAccessTest, RolesIamDoesNotHoldBoundNothing) {
  // The tutorials' roles, never created in lathe: jobs with them behave as before.
  EXPECT_EQ(Refusal("arn:aws:iam::123456789012:role/NeverCreated", "s3:PutObject", "arn:aws:s3:::x/"), "");
  // Another account's role, and what is no role ARN.
  EXPECT_EQ(Refusal("arn:aws:iam::210987654321:role/BedrockFineTuningRole", "s3:PutObject", "arn:aws:s3:::x/"), "");
  EXPECT_EQ(Refusal("arn:aws:iam::123456789012:user/BedrockFineTuningRole", "s3:PutObject", "arn:aws:s3:::x/"), "");
  EXPECT_EQ(Refusal("", "s3:PutObject", "arn:aws:s3:::x/"), "");
  EXPECT_EQ(Refusal(std::string(5000, 'r'), "s3:PutObject", "arn:aws:s3:::x/"), "");
}

TEST_F(RoleAccessTest, ARespelledRoleIsStillTheRoleIamHolds) {
  // iam:PassRole resolves a role named in any case to the stored one; so does the job's bound.
  for (const std::string arn : {"arn:aws:iam::123456789012:role/bedrockfinetuningrole",
                                "arn:aws:iam::123456789012:role/other/path/BEDROCKFINETUNINGROLE"}) {
    EXPECT_EQ(Refusal(arn, "s3:GetObject", "arn:aws:s3:::training/train.jsonl"), "") << arn;
    EXPECT_NE(Refusal(arn, "s3:PutObject", "arn:aws:s3:::x/"), "") << arn;
  }
}

}  // namespace
}  // namespace lathe::iam
