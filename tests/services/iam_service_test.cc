// IAM and STS through the query protocol: form bodies in, XML out, as botocore sends and reads.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "services/iam/service.h"
#include "services/iam/shapes.h"
#include "services/sts/service.h"
#include "test_util.h"

namespace lathe {
namespace {

using lathe::testing::TempDir;

aws::RequestContext Context() {
  aws::RequestContext ctx;
  ctx.request_id = "11111111-2222-3333-4444-555555555555";
  ctx.region = "us-east-1";
  ctx.service = "iam";
  ctx.caller.account = "123456789012";
  ctx.caller.arn = "arn:aws:iam::123456789012:user/alice";
  ctx.caller.user_id = "AIDAEXAMPLEUSERID0001";
  ctx.caller.access_key_id = "LATHEKEY";
  return ctx;
}

struct Answer {
  int status = 0;
  std::string body;
  pugi::xml_document doc;
  pugi::xml_node root() const { return doc.document_element(); }
};

class IamServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    backend_ = std::make_unique<iam::IamBackend>(store_.get());
    service_ = iam::NewIamService(backend_.get());
  }
  std::unique_ptr<Answer> Call(const std::string& form) {
    http::Response r;
    service_->ServeForm(Context(), "", form, &r);
    auto a = std::make_unique<Answer>();
    a->status = r.status;
    a->body = r.body;
    EXPECT_TRUE(a->doc.load_string(r.body.c_str())) << r.body;
    return a;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<iam::IamBackend> backend_;
  std::unique_ptr<aws::QueryService> service_;
};

TEST_F(IamServiceTest, TheTutorialsRoleFromBotocoresBodies) {
  const std::string dir = std::string(LATHE_SOURCE_DIR) + "/tests/aws/data/";
  auto created = Call(testing::ReadFile(dir + "iam_create_role.txt"));
  ASSERT_EQ(created->status, 200) << created->body;
  pugi::xml_node role = created->root().child("CreateRoleResult").child("Role");
  EXPECT_STREQ(role.child_value("Arn"), "arn:aws:iam::123456789012:role/service/BedrockFineTuningRole");
  EXPECT_STREQ(role.child_value("Path"), "/service/");
  EXPECT_STREQ(role.child_value("MaxSessionDuration"), "7200");
  EXPECT_STREQ(role.child("Tags").first_child().child_value("Value"), "ml ops");
  // The trust policy comes back URL-encoded, as AWS sends it.
  std::string encoded = role.child_value("AssumeRolePolicyDocument");
  EXPECT_EQ(encoded.substr(0, 9), "%7B%0A%20");
  EXPECT_EQ(encoded.find('"'), std::string::npos);

  auto put = Call(testing::ReadFile(dir + "iam_put_role_policy.txt"));
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_STREQ(put->root().name(), "PutRolePolicyResponse");
  EXPECT_FALSE(put->root().child("PutRolePolicyResult"));

  auto get = Call("Action=GetRolePolicy&Version=2010-05-08&RoleName=BedrockFineTuningRole&PolicyName=BedrockS3Access");
  ASSERT_EQ(get->status, 200) << get->body;
  EXPECT_STREQ(get->root().child("GetRolePolicyResult").child_value("PolicyName"), "BedrockS3Access");

  auto list = Call("Action=ListRolePolicies&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  EXPECT_STREQ(list->root().child("ListRolePoliciesResult").child("PolicyNames").child_value("member"),
               "BedrockS3Access");
  EXPECT_STREQ(list->root().child("ListRolePoliciesResult").child_value("IsTruncated"), "false");

  auto conflict = Call("Action=DeleteRole&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  EXPECT_EQ(conflict->status, 409);
  EXPECT_STREQ(conflict->root().child("Error").child_value("Code"), "DeleteConflict");
  EXPECT_STREQ(conflict->root().child_value("RequestId"), "11111111-2222-3333-4444-555555555555");
}

TEST_F(IamServiceTest, ListRolesPagesWithMarkerAndMaxItems) {
  for (const char* name : {"a", "b", "c"}) {
    std::string trust = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22*%22%2C"
                        "%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D";
    auto r = Call(std::string("Action=CreateRole&Version=2010-05-08&RoleName=") + name +
                  "&AssumeRolePolicyDocument=" + trust);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto first = Call("Action=ListRoles&Version=2010-05-08&MaxItems=2");
  pugi::xml_node result = first->root().child("ListRolesResult");
  EXPECT_STREQ(result.child_value("IsTruncated"), "true");
  EXPECT_EQ(std::distance(result.child("Roles").begin(), result.child("Roles").end()), 2);
  std::string marker = result.child_value("Marker");
  ASSERT_FALSE(marker.empty());
  auto second = Call("Action=ListRoles&Version=2010-05-08&MaxItems=2&Marker=" + iam::UrlEncodeDocument(marker));
  pugi::xml_node rest = second->root().child("ListRolesResult");
  EXPECT_STREQ(rest.child_value("IsTruncated"), "false");
  EXPECT_STREQ(rest.child("Roles").child("member").child_value("RoleName"), "c");
  EXPECT_FALSE(rest.child("Marker"));
  // Markers are opaque: a role name is not one.
  auto forged = Call("Action=ListRoles&Version=2010-05-08&Marker=c");
  EXPECT_EQ(forged->status, 400);
  EXPECT_STREQ(forged->root().child("Error").child_value("Code"), "ValidationError");
  // ListRoles leaves RoleLastUsed and Tags to GetRole, as AWS does.
  EXPECT_FALSE(rest.child("Roles").child("member").child("RoleLastUsed"));
  EXPECT_TRUE(Call("Action=GetRole&Version=2010-05-08&RoleName=c")->root().child("GetRoleResult").child("Role").child("RoleLastUsed"));
  auto bad = Call("Action=ListRoles&Version=2010-05-08&MaxItems=0");
  EXPECT_EQ(bad->status, 400);
  EXPECT_STREQ(bad->root().child("Error").child_value("Code"), "ValidationError");
}

TEST_F(IamServiceTest, ErrorsCarryIamCodesAndStatuses) {
  auto missing = Call("Action=GetRole&Version=2010-05-08&RoleName=ghost");
  EXPECT_EQ(missing->status, 404);
  EXPECT_STREQ(missing->root().child("Error").child_value("Code"), "NoSuchEntity");
  EXPECT_STREQ(missing->root().child("Error").child_value("Type"), "Sender");
  auto no_name = Call("Action=GetRole&Version=2010-05-08");
  EXPECT_EQ(no_name->status, 400);
  EXPECT_STREQ(no_name->root().child("Error").child_value("Code"), "ValidationError");
  auto malformed = Call("Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B");
  EXPECT_EQ(malformed->status, 400);
  EXPECT_STREQ(malformed->root().child("Error").child_value("Code"), "MalformedPolicyDocument");
  EXPECT_STREQ(malformed->root().child("Error").child_value("Message"), "Syntax errors in policy.");
  auto unknown = Call("Action=CreateLoginProfile&Version=2010-05-08&UserName=u");
  EXPECT_STREQ(unknown->root().child("Error").child_value("Code"), "InvalidAction");
}

TEST_F(IamServiceTest, UsersKeysGroupsAndPoliciesOverTheWire) {
  auto user = Call("Action=CreateUser&Version=2010-05-08&UserName=bob&Path=%2Fml%2F&Tags.member.1.Key=team&"
                   "Tags.member.1.Value=ml");
  ASSERT_EQ(user->status, 200) << user->body;
  pugi::xml_node u = user->root().child("CreateUserResult").child("User");
  EXPECT_STREQ(u.child_value("Arn"), "arn:aws:iam::123456789012:user/ml/bob");
  EXPECT_STREQ(u.child("Tags").first_child().child_value("Key"), "team");
  // The secret comes back once, in CreateAccessKey's answer.
  auto key = Call("Action=CreateAccessKey&Version=2010-05-08&UserName=bob");
  ASSERT_EQ(key->status, 200) << key->body;
  pugi::xml_node k = key->root().child("CreateAccessKeyResult").child("AccessKey");
  EXPECT_EQ(std::string(k.child_value("SecretAccessKey")).size(), 40u);
  EXPECT_STREQ(k.child_value("Status"), "Active");
  const std::string id = k.child_value("AccessKeyId");
  auto listed = Call("Action=ListAccessKeys&Version=2010-05-08&UserName=bob");
  EXPECT_EQ(listed->body.find(k.child_value("SecretAccessKey")), std::string::npos);
  EXPECT_STREQ(listed->root().child("ListAccessKeysResult").child("AccessKeyMetadata").first_child().child_value(
                   "AccessKeyId"), id.c_str());
  auto bad_status = Call("Action=UpdateAccessKey&Version=2010-05-08&UserName=bob&AccessKeyId=" + id + "&Status=Off");
  EXPECT_EQ(bad_status->status, 400);
  EXPECT_STREQ(bad_status->root().child("Error").child_value("Code"), "ValidationError");
  EXPECT_EQ(Call("Action=UpdateAccessKey&Version=2010-05-08&UserName=bob&AccessKeyId=" + id + "&Status=Inactive")->status,
            200);
  // The caller of these tests is the IAM user alice, who does not exist here: no UserName means
  // alice, as IAM infers it from the signing key.
  auto self = Call("Action=ListAccessKeys&Version=2010-05-08");
  EXPECT_STREQ(self->root().child("Error").child_value("Code"), "NoSuchEntity");

  auto policy = Call("Action=CreatePolicy&Version=2010-05-08&PolicyName=Reader&PolicyDocument=" +
                     iam::UrlEncodeDocument(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}})"));
  ASSERT_EQ(policy->status, 200) << policy->body;
  const std::string arn = policy->root().child("CreatePolicyResult").child("Policy").child_value("Arn");
  EXPECT_EQ(arn, "arn:aws:iam::123456789012:policy/Reader");
  EXPECT_EQ(Call("Action=CreateGroup&Version=2010-05-08&GroupName=readers")->status, 200);
  EXPECT_EQ(Call("Action=AttachGroupPolicy&Version=2010-05-08&GroupName=readers&PolicyArn=" + arn)->status, 200);
  EXPECT_EQ(Call("Action=AddUserToGroup&Version=2010-05-08&GroupName=readers&UserName=bob")->status, 200);
  auto got = Call("Action=GetPolicy&Version=2010-05-08&PolicyArn=" + arn);
  EXPECT_STREQ(got->root().child("GetPolicyResult").child("Policy").child_value("AttachmentCount"), "1");
  auto version = Call("Action=GetPolicyVersion&Version=2010-05-08&VersionId=v1&PolicyArn=" + arn);
  pugi::xml_node v = version->root().child("GetPolicyVersionResult").child("PolicyVersion");
  EXPECT_STREQ(v.child_value("IsDefaultVersion"), "true");
  EXPECT_EQ(std::string(v.child_value("Document")).substr(0, 3), "%7B");
  auto group = Call("Action=GetGroup&Version=2010-05-08&GroupName=readers");
  EXPECT_STREQ(group->root().child("GetGroupResult").child("Users").first_child().child_value("UserName"), "bob");
  auto aws_only = Call("Action=ListPolicies&Version=2010-05-08&Scope=AWS&MaxItems=2");
  pugi::xml_node page = aws_only->root().child("ListPoliciesResult");
  EXPECT_STREQ(page.child_value("IsTruncated"), "true");
  EXPECT_STREQ(Call("Action=ListPolicies&Version=2010-05-08&Scope=Nobody")->root().child("Error").child_value("Code"),
               "ValidationError");
  // DeleteUser refuses while a policy is attached, then takes the keys with it.
  EXPECT_EQ(Call("Action=PutUserPolicy&Version=2010-05-08&UserName=bob&PolicyName=p&PolicyDocument=%7B%7D")->status,
            400);
  EXPECT_EQ(Call("Action=DeleteUser&Version=2010-05-08&UserName=bob")->status, 200);
  EXPECT_FALSE(backend_->LookUpAccessKey(id));
}

TEST(StsService, GetCallerIdentityAnswersTheSigner) {
  auto sts = sts::NewStsService();
  EXPECT_EQ(sts->signing_name(), "sts");
  http::Response r;
  aws::RequestContext ctx = Context();
  ctx.service = "sts";
  sts->ServeForm(ctx, "", testing::ReadFile(std::string(LATHE_SOURCE_DIR) + "/tests/aws/data/sts_get_caller_identity.txt"),
                 &r);
  ASSERT_EQ(r.status, 200) << r.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "GetCallerIdentityResponse");
  EXPECT_STREQ(root.attribute("xmlns").value(), "https://sts.amazonaws.com/doc/2011-06-15/");
  pugi::xml_node result = root.child("GetCallerIdentityResult");
  EXPECT_STREQ(result.child_value("Account"), "123456789012");
  EXPECT_STREQ(result.child_value("Arn"), "arn:aws:iam::123456789012:user/alice");
  EXPECT_STREQ(result.child_value("UserId"), "AIDAEXAMPLEUSERID0001");
  EXPECT_STREQ(root.child("ResponseMetadata").child_value("RequestId"), ctx.request_id.c_str());
}

}  // namespace
}  // namespace lathe
