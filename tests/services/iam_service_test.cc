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
  auto unknown = Call("Action=CreateUser&Version=2010-05-08&UserName=u");
  EXPECT_STREQ(unknown->root().child("Error").child_value("Code"), "InvalidAction");
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
