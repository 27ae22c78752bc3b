// Requests that must not escape a Deny: every service's declaration (its authz.cc) names the
// resource as stored, whatever spelling the request used, and sets the condition keys AWS sets.
#include <gtest/gtest.h>

#include "aws/query_protocol.h"
#include "aws/service.h"
#include "services/iam/backend.h"
#include "services/iam/enforcement.h"
#include "services/iam/service.h"
#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";

class DenyEscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    iam_ = std::make_unique<IamBackend>(store_.get());
    CreateUserInput in;
    in.name = "ci";
    Result<User> u = iam_->CreateUser(kAccount, in);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    ctx_.region = "us-east-1";
    ctx_.caller = aws::Caller{"AKIAEXAMPLE", kAccount, u->arn, u->id};
  }
  void Policy(const std::string& document) { ASSERT_TRUE(iam_->PutUserPolicy(kAccount, "ci", "p", document).ok()); }
  std::optional<std::string> Authorize(const aws::AccessRequest& access) {
    Enforcer enforcer(iam_.get());
    return enforcer.Authorize(ctx_, "127.0.0.1", access);
  }
  // What IAM's declaration requires of the query-protocol request `form`.
  aws::AccessRequest Iam(std::string_view operation, const std::string& form) {
    Result<aws::QueryParams> params = aws::QueryParams::Parse(form);
    EXPECT_TRUE(params.ok()) << params.status().ToString();
    params_ = std::move(*params);
    aws::OperationView v;
    v.context = &ctx_;
    v.request = &request_;
    v.service = "iam";
    v.operation = operation;
    v.params = &params_;
    return IamAccessRules(iam_.get())(v);
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<IamBackend> iam_;
  aws::RequestContext ctx_;
  http::Request request_;
  aws::QueryParams params_;
};

TEST_F(DenyEscapeTest, IamEntitiesAreNamedAsStoredWhateverTheRequestsSpelling) {
  CreateUserInput admin;
  admin.name = "admin";
  admin.path = "/ops/";
  ASSERT_TRUE(iam_->CreateUser(kAccount, admin).ok());
  ASSERT_TRUE(iam_->CreateGroup(kAccount, "Admins", "/").ok());
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},
    {"Effect":"Deny","Action":"iam:*","Resource":["arn:aws:iam::123456789012:user/ops/admin",
                                                  "arn:aws:iam::123456789012:group/Admins"]}]})");
  for (const char* spelling : {"admin", "ADMIN", "Admin"}) {
    aws::AccessRequest r = Iam("CreateAccessKey", std::string("UserName=") + spelling);
    EXPECT_EQ(r.resources[0], "arn:aws:iam::123456789012:user/ops/admin") << spelling;
    EXPECT_TRUE(Authorize(r)) << spelling;
  }
  EXPECT_EQ(Iam("AddUserToGroup", "GroupName=aDmInS&UserName=ci").resources[0], "arn:aws:iam::123456789012:group/Admins");
  EXPECT_TRUE(Authorize(Iam("PutGroupPolicy", "GroupName=ADMINS&PolicyName=x&PolicyDocument=%7B%7D")));
  // An entity that does not exist is "*": the operation fails NoSuchEntity after the check.
  EXPECT_EQ(Iam("DeleteUser", "UserName=nobody").resources[0], "*");
  // Creating names what the request asks for, with its path.
  EXPECT_EQ(Iam("CreateUser", "UserName=new&Path=%2Fx%2F").resources[0], "arn:aws:iam::123456789012:user/x/new");
}

TEST_F(DenyEscapeTest, AttachingAPolicyNamesItInIamPolicyArn) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},
    {"Effect":"Deny","Action":"iam:Attach*","Resource":"*",
     "Condition":{"ArnEquals":{"IAM:policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}}}]})");
  const std::string admin = "PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess";
  const std::string read = "PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess";
  for (const char* op : {"AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy"}) {
    aws::AccessRequest r = Iam(op, "UserName=ci&GroupName=g&RoleName=r&" + admin);
    ASSERT_EQ(r.checks.size(), 1u);
    EXPECT_EQ(r.checks[0].context.at("iam:policyarn"), std::vector<std::string>{"arn:aws:iam::aws:policy/AdministratorAccess"});
    EXPECT_TRUE(Authorize(r)) << op;
    EXPECT_FALSE(Authorize(Iam(op, "UserName=ci&GroupName=g&RoleName=r&" + read))) << op;
  }
  EXPECT_EQ(Iam("DetachUserPolicy", "UserName=ci&" + admin).checks[0].context.count("iam:policyarn"), 1u);
  EXPECT_EQ(Iam("ListAttachedUserPolicies", "UserName=ci").checks[0].context.count("iam:policyarn"), 0u);
}

}  // namespace
}  // namespace lathe::iam
