// Requests that must not escape a Deny: every service's declaration (its authz.cc) names the
// resource as stored, whatever spelling the request used, and sets the condition keys AWS sets.
#include <tuple>

#include <gtest/gtest.h>

#include "aws/query_protocol.h"
#include "aws/service.h"
#include "services/iam/backend.h"
#include "services/iam/enforcement.h"
#include "services/iam/service.h"
#include "services/bedrock/operations.h"
#include "services/events/service.h"
#include "services/lambda/service.h"
#include "services/sns/service.h"
#include "services/states/service.h"
#include "services/sts/service.h"
#include "services/iam/wildcard.h"
#include "iam_user_fixture.h"
#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";

class DenyEscapeTest : public IamUserTest {
 protected:
  void Policy(const std::string& document) { ASSERT_TRUE(iam_->PutUserPolicy(kAccount, "ci", "p", document).ok()); }
  // A rest-protocol request with this test's labels_ and query_.
  aws::OperationView Rest(std::string_view operation, std::string_view body) {
    return View(operation, labels_, query_, body);
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

  aws::QueryParams params_;
  std::map<std::string, std::string> labels_, query_;
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

TEST_F(DenyEscapeTest, OnlyTheAdministratorChoosesWhatAFunctionRuns) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","iam:PassRole"],"Resource":"*"}]})");
  labels_["FunctionName"] = "f";
  for (const char* op : {"CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"}) {
    aws::AccessRequest r = lambda::LambdaAccess(Rest(op, R"({"FunctionName":"f","Role":"arn:aws:iam::123456789012:role/r"})"));
    std::optional<std::string> m = Authorize(r);
    ASSERT_TRUE(m) << op;
    EXPECT_NE(m->find("only the account's administrator may: functions run with the administrator's credentials"),
              std::string::npos) << *m;
    aws::RequestContext root = ctx_;
    root.caller = aws::Caller{"LATHEKEY", kAccount, "arn:aws:iam::123456789012:root", kAccount};
    EXPECT_FALSE(Enforcer(iam_.get()).Authorize(root, "", r)) << op;
  }
  for (const char* op : {"Invoke", "GetFunction", "DeleteFunction"})
    EXPECT_FALSE(Authorize(lambda::LambdaAccess(Rest(op, "")))) << op;
  // A built-in function starts a Bedrock job with the event's roleArn: PassRole on it.
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]})");
  std::optional<std::string> m = Authorize(lambda::LambdaAccess(Rest("Invoke", R"({"roleArn":"arn:aws:iam::123456789012:role/Admin"})")));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("iam:PassRole on resource: arn:aws:iam::123456789012:role/Admin"), std::string::npos) << *m;
}

TEST_F(DenyEscapeTest, APolicyThatCannotBeReadRefusesRatherThanDropItsDeny) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})");
  CreatePolicyInput in;
  in.name = "no-deletes";
  in.document = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]})";
  Result<ManagedPolicy> deny = iam_->CreatePolicy(kAccount, in);
  ASSERT_TRUE(deny.ok()) << deny.status().ToString();
  ASSERT_TRUE(iam_->CreateGroup(kAccount, "g", "/").ok());
  ASSERT_TRUE(iam_->AddUserToGroup(kAccount, "g", "ci").ok());
  ASSERT_TRUE(iam_->AttachGroupPolicy(kAccount, "g", deny->arn).ok());
  EXPECT_TRUE(Authorize(aws::Require("s3:DeleteBucket", {"arn:aws:s3:::b"})));
  // The stored rows stop reading (a damaged database): refused, not allowed without the Deny.
  for (const auto& [kind, id, member] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"iam-policy", deny->arn, "defaultVersion"}, {"iam-group", "arn:aws:iam::123456789012:group/g", "path"}}) {
    Result<store::ResourceRow> row = store_->Find(kind, id);
    ASSERT_TRUE(row.ok()) << kind;
    const nlohmann::json before = row->doc;
    row->doc[member] = 5;
    ASSERT_TRUE(store_->Update(*row).ok());
    iam_ = std::make_unique<IamBackend>(store_.get());  // nothing cached
    std::optional<std::string> m = Authorize(aws::Require("s3:GetObject", {"arn:aws:s3:::b/k"}));
    ASSERT_TRUE(m) << kind;
    EXPECT_NE(m->find("because its policies cannot be read"), std::string::npos) << *m;
    EXPECT_EQ(m->find("defaultVersion"), std::string::npos) << *m;  // the store's words stay in the log
    row->doc = before;
    ASSERT_TRUE(store_->Update(*row).ok());
  }
}

TEST_F(DenyEscapeTest, ATargetNeedsWhatDeliveringToItDoes) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["events:*","iam:PassRole"],"Resource":"*"},
    {"Effect":"Allow","Action":["lambda:InvokeFunction","states:StartExecution","sns:Publish"],
     "Resource":["arn:aws:lambda:us-east-1:123456789012:function:mine","arn:aws:states:us-east-1:123456789012:stateMachine:mine",
                 "arn:aws:sns:us-east-1:123456789012:mine"]}]})");
  for (const char* service : {"lambda:us-east-1:123456789012:function:", "states:us-east-1:123456789012:stateMachine:",
                              "sns:us-east-1:123456789012:"}) {
    auto put = [&](const std::string& name) {
      const std::string body = std::string(R"({"Rule":"r","Targets":[{"Id":"1","Arn":"arn:aws:)") + service + name + R"("}]})";
      return Authorize(events::EventsAccess(Rest("PutTargets", body)));
    };
    EXPECT_FALSE(put("mine")) << service;
    std::optional<std::string> m = put("admins");
    ASSERT_TRUE(m) << service;
    EXPECT_NE(m->find(std::string("on resource: arn:aws:") + service + "admins"), std::string::npos) << *m;
  }
  aws::AccessRequest r = events::EventsAccess(Rest("PutTargets", R"({"Rule":"r","Targets":[{"Id":"1",
    "Arn":"arn:aws:states:us-east-1:123456789012:stateMachine:mine","RoleArn":"arn:aws:iam::123456789012:role/x"}]})"));
  ASSERT_EQ(r.checks.size(), 3u);
  EXPECT_EQ(r.checks[2].action, "iam:PassRole");
}

TEST_F(DenyEscapeTest, RolesADefinitionOrRuleNamesNeedPassRoleWhenWritten) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["states:*","events:*"],"Resource":"*"},
    {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/StepRole"}]})");
  const std::string definition = R"({\"StartAt\":\"Tune\",\"States\":{\"Tune\":{\"Type\":\"Task\",)"
                                 R"(\"Resource\":\"arn:aws:states:::bedrock:createModelCustomizationJob\",)"
                                 R"(\"Parameters\":{\"RoleArn\":\"arn:aws:iam::123456789012:role/Admin\"},\"End\":true}}})";
  const std::string body = R"({"name":"m","roleArn":"arn:aws:iam::123456789012:role/StepRole","definition":")" + definition + R"("})";
  std::optional<std::string> m = Authorize(states::StatesAccess(Rest("CreateStateMachine", body)));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("iam:PassRole on resource: arn:aws:iam::123456789012:role/Admin"), std::string::npos) << *m;
  // Too deep to look into: PassRole on every role is required.
  std::string deep = "\\\"x\\\"";
  for (int i = 0; i < 70; ++i) deep = "{\\\"P\\\":" + deep + "}";
  m = Authorize(states::StatesAccess(Rest("CreateStateMachine", R"({"name":"m","definition":")" + deep + R"("})")));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("iam:PassRole on resource: *"), std::string::npos) << *m;
  m = Authorize(events::EventsAccess(Rest("PutRule", R"({"Name":"r","RoleArn":"arn:aws:iam::123456789012:role/Admin"})")));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("iam:PassRole"), std::string::npos) << *m;
  EXPECT_FALSE(Authorize(events::EventsAccess(Rest("PutRule", R"({"Name":"r","RoleArn":"arn:aws:iam::123456789012:role/StepRole"})"))));
}

TEST_F(DenyEscapeTest, ServerWideCleanupIsTheAdministratorsAndStsExemptsOnlyGetCallerIdentity) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}]})");
  aws::OperationView cleanup = Rest("LatheCleanup", "{}");
  cleanup.service = "bedrock";
  std::optional<std::string> m = Authorize(bedrock::BedrockAccess(cleanup));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("only the account's administrator may"), std::string::npos) << *m;
  cleanup.operation = "ListCustomModels";
  EXPECT_FALSE(Authorize(bedrock::BedrockAccess(cleanup)));
  aws::OperationView sts = Rest("GetCallerIdentity", "");
  sts.service = "sts";
  EXPECT_FALSE(Authorize(sts::StsAccess(sts)));
  sts.operation = "AssumeRole";
  m = Authorize(sts::StsAccess(sts));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("sts:AssumeRole"), std::string::npos) << *m;
}

TEST_F(DenyEscapeTest, FunctionsAndSubscriptionsAreNamedByTheirFullArn) {
  const std::string fn = "arn:aws:lambda:us-east-1:123456789012:function:secret";
  for (const char* spelling : {"secret", "123456789012:function:secret", "us-east-1:123456789012:function:secret",
                               "arn:aws:lambda:us-east-1:123456789012:function:secret"}) {
    labels_["FunctionName"] = spelling;
    EXPECT_EQ(lambda::LambdaAccess(Rest("Invoke", "")).resources[0], fn) << spelling;
  }
  labels_["FunctionName"] = "secret:prod";
  EXPECT_EQ(lambda::LambdaAccess(Rest("Invoke", "")).resources[0], fn + ":prod");
  labels_["FunctionName"] = "bad name";
  EXPECT_EQ(lambda::LambdaAccess(Rest("Invoke", "")).resources[0], "*");
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:alerts";
  const std::string sub = topic + ":0b8b5a57-43c4-4f1b-b9a4-4a3e1f0c2d11";
  Result<aws::QueryParams> params = aws::QueryParams::Parse("SubscriptionArn=" + sub);
  ASSERT_TRUE(params.ok());
  params_ = std::move(*params);
  aws::OperationView v = Rest("Unsubscribe", "");
  v.params = &params_;
  EXPECT_EQ(sns::SnsAccess(v).resources[0], topic);
}

TEST_F(DenyEscapeTest, BedrockJobsAndModelsGivenByNameAreNamedByTheirArn) {
  const std::string model = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-lite-v1:0:4k/abc123";
  const std::string job = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-lite-v1:0:4k/xyz";
  bedrock::BedrockArnLookup lookup = [&](std::string_view kind, const std::string& id) -> std::string {
    if (kind == "custom-model" && (id == "my-model" || id == model)) return model;
    if (kind == "model-customization-job" && id == "my-job") return job;
    return "";
  };
  auto access = [&](std::string_view operation, const char* label, const std::string& value) {
    labels_ = {{label, value}};
    aws::OperationView v = Rest(operation, "");
    v.service = "bedrock";
    return bedrock::BedrockAccess(v, lookup).resources[0];
  };
  EXPECT_EQ(access("Converse", "modelId", "my-model"), model);
  EXPECT_EQ(access("InvokeModel", "modelId", "amazon.titan-text-express-v1"),
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1");
  EXPECT_EQ(access("GetCustomModel", "modelIdentifier", "my-model"), model);
  EXPECT_EQ(access("DeleteCustomModel", "modelIdentifier", model), model);
  EXPECT_EQ(access("GetModelCustomizationJob", "jobIdentifier", "my-job"), job);
  EXPECT_EQ(access("StopModelCustomizationJob", "jobIdentifier", "nobody"), "*");
  labels_.clear();
}

TEST_F(DenyEscapeTest, ValuesTooLongToMatchAreRefusedNotLetPastADeny) {
  Policy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
    {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret/*"}]})");
  const std::string key(kMaxMatchLength + 1, 'k');
  std::optional<std::string> m = Authorize(aws::Require("s3:GetObject", {"arn:aws:s3:::secret/" + key}));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("longer than 4096 characters"), std::string::npos) << *m;
  aws::AccessContext context;
  context["s3:prefix"] = {key};
  EXPECT_TRUE(Authorize(aws::Require("s3:ListBucket", {"arn:aws:s3:::open"}, context)));
  EXPECT_FALSE(Authorize(aws::Require("s3:GetObject", {"arn:aws:s3:::open/k"})));
}

TEST_F(DenyEscapeTest, UnresolvableVariablesLeaveNegatedStatementsOut) {
  // The user has no team or acl tag: the NotResource pattern and the StringNotEquals value cannot
  // be resolved, and neither statement may then grant everything.
  Policy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::${aws:PrincipalTag/team}-private/*"},
    {"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
     "Condition":{"StringNotEquals":{"s3:x-amz-acl":"${aws:PrincipalTag/acl}"}}}]})");
  EXPECT_TRUE(Authorize(aws::Require("s3:GetObject", {"arn:aws:s3:::ml-private/k"})));
  aws::AccessContext acl;
  acl["s3:x-amz-acl"] = {"public-read"};
  EXPECT_TRUE(Authorize(aws::Require("s3:PutObject", {"arn:aws:s3:::b/k"}, acl)));
}

}  // namespace
}  // namespace lathe::iam
