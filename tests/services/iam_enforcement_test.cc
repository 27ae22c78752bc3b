// Enforcement's parts without sockets: IAM's decision and AWS's refusal text (enforcement.h),
// the services' action and resource declarations (each folder's authz.cc), SimulatePrincipalPolicy's
// bounds (simulation.h) and the audit trail (audit_trail.h) with hostile files.
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "aws/service.h"
#include "services/bedrock/operations.h"
#include "services/iam/audit_trail.h"
#include "services/iam/backend.h"
#include "services/iam/enforcement.h"
#include "services/iam/simulation.h"
#include "services/s3/service.h"
#include "services/states/service.h"
#include "iam_user_fixture.h"
#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kGuide[] = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["bedrock:CreateModelCustomizationJob","bedrock:InvokeModel"],"Resource":"*"},
  {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],
   "Resource":["arn:aws:s3:::train","arn:aws:s3:::train/*"]},
  {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/BedrockFineTuningRole"},
  {"Sid":"OnlyData","Effect":"Deny","Action":"s3:ListBucket","Resource":"arn:aws:s3:::train",
   "Condition":{"StringNotLike":{"s3:prefix":"data/*"}}}]})";

class EnforcementTest : public IamUserTest {
 protected:
  void SetUp() override {
    IamUserTest::SetUp();
    ASSERT_TRUE(iam_->PutUserPolicy(kAccount, "ci", "guide", kGuide).ok());
  }
};

TEST_F(EnforcementTest, TheAdministratorMayDoAnythingAUserWhatItsPoliciesAllow) {
  aws::RequestContext root = ctx_;
  root.caller = aws::Caller{"LATHEKEY", kAccount, "arn:aws:iam::123456789012:root", kAccount};
  Enforcer enforcer(iam_.get());
  EXPECT_FALSE(enforcer.Authorize(root, "", aws::Require("s3:DeleteBucket", {"arn:aws:s3:::other"})));
  EXPECT_FALSE(Authorize(aws::Require("s3:GetObject", {"arn:aws:s3:::train/data/a.jsonl"})));
  std::optional<std::string> m = Authorize(aws::Require("s3:DeleteBucket", {"arn:aws:s3:::other"}));
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: s3:DeleteBucket on resource: "
                "arn:aws:s3:::other because no identity-based policy allows the s3:DeleteBucket action");
}

TEST_F(EnforcementTest, ConditionKeysOfTheRequestDecide) {
  std::map<std::string, std::string> labels{{"Bucket", "train"}}, in_data{{"prefix", "data/"}}, elsewhere{{"prefix", "x"}};
  aws::AccessRules rules = s3::S3AccessRules();
  EXPECT_FALSE(Authorize(rules(View("ListObjectsV2", labels, in_data, ""))));
  std::optional<std::string> m = Authorize(rules(View("ListObjectsV2", labels, elsewhere, "")));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("with an explicit deny in an identity-based policy (guide Sid OnlyData)"), std::string::npos) << *m;
}

TEST_F(EnforcementTest, ResourceTagsComeFromTheLookup) {
  ASSERT_TRUE(iam_->PutUserPolicy(kAccount, "ci", "team", R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/Team":"ml"}}}]})")
                  .ok());
  Result<Principal> p = iam_->PrincipalFor(kAccount, user_arn_);
  ASSERT_TRUE(p.ok());
  ResourceTagLookup tags = [](const std::string& arn) {
    return arn.ends_with(":ours") ? std::map<std::string, std::string>{{"TEAM", "ml"}} : std::map<std::string, std::string>{};
  };
  const std::string ours = "arn:aws:sns:us-east-1:123456789012:ours", theirs = "arn:aws:sns:us-east-1:123456789012:theirs";
  EXPECT_TRUE(Decide(*p, {}, aws::Require("sns:Publish", {ours}), tags).allowed);
  EXPECT_FALSE(Decide(*p, {}, aws::Require("sns:Publish", {theirs}), tags).allowed);
  EXPECT_FALSE(Decide(*p, {}, aws::Require("sns:Publish", {ours})).allowed);  // no lookup: no tags
}

TEST_F(EnforcementTest, JobsThatActWithARoleNeedPassRoleOnIt) {
  std::map<std::string, std::string> none;
  const std::string body = R"({"jobName":"j","roleArn":"arn:aws:iam::123456789012:role/BedrockFineTuningRole",
    "jobTags":[{"key":"team","value":"ml"}]})";
  aws::AccessRequest r = bedrock::BedrockAccess(View("CreateModelCustomizationJob", none, none, body));
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[1].action, "iam:PassRole");
  EXPECT_EQ(r.checks[1].context.at("iam:passedtoservice"), std::vector<std::string>{"bedrock.amazonaws.com"});
  EXPECT_EQ(r.checks[0].context.at("aws:requesttag/team"), std::vector<std::string>{"ml"});
  EXPECT_FALSE(Authorize(r));
  std::string other = body;
  other.replace(other.find("BedrockFineTuningRole"), 21, "AdminRole");
  std::optional<std::string> m = Authorize(bedrock::BedrockAccess(View("CreateModelCustomizationJob", none, none, other)));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("iam:PassRole on resource: arn:aws:iam::123456789012:role/AdminRole"), std::string::npos) << *m;
  // Step Functions too.
  m = Authorize(states::StatesAccess(View("CreateStateMachine", none, none, R"({"roleArn":"arn:aws:iam::1:role/x"})")));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("states:CreateStateMachine"), std::string::npos) << *m;
}

TEST_F(EnforcementTest, DeclarationsNameAwsResources) {
  std::map<std::string, std::string> model{{"modelId", "amazon.titan-text-express-v1"}}, none;
  aws::AccessRequest r = bedrock::BedrockAccess(View("Converse", model, none, ""));
  EXPECT_EQ(r.action, "bedrock:InvokeModel");
  EXPECT_EQ(r.resources[0], "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1");
  aws::AccessRules s3 = s3::S3AccessRules();
  std::map<std::string, std::string> object{{"Bucket", "b"}, {"Key", "k/1"}}, version{{"versionId", "v"}};
  EXPECT_EQ(s3(View("GetObject", object, version, "")).action, "s3:GetObjectVersion");
  EXPECT_EQ(s3(View("HeadObject", object, none, "")).checks[0].resources[0], "arn:aws:s3:::b/k/1");
  const std::string del = "<Delete><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>1</VersionId></Object></Delete>";
  r = s3(View("DeleteObjects", {{"Bucket", "b"}}, none, del));
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].resources, std::vector<std::string>{"arn:aws:s3:::b/a"});
  EXPECT_EQ(r.checks[1].action, "s3:DeleteObjectVersion");
  // Malformed bodies require the broadest thing: the operation refuses them anyway.
  EXPECT_EQ(s3(View("DeleteObjects", {{"Bucket", "b"}}, none, "<Delete")).checks[0].resources[0], "arn:aws:s3:::b/*");
}

TEST_F(EnforcementTest, DisabledKeysAndDeletedUsersAreNoLongerFound) {
  Result<NewAccessKey> key = iam_->CreateAccessKey(kAccount, "ci");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(iam_->LookUpAccessKey(key->info.id));
  ASSERT_TRUE(iam_->UpdateAccessKey(kAccount, "ci", key->info.id, KeyStatus::kInactive).ok());
  EXPECT_FALSE(iam_->LookUpAccessKey(key->info.id));
  ASSERT_TRUE(iam_->UpdateAccessKey(kAccount, "ci", key->info.id, KeyStatus::kActive).ok());
  ASSERT_TRUE(iam_->DeleteUserPolicy(kAccount, "ci", "guide").ok());
  ASSERT_TRUE(iam_->DeleteUser(kAccount, "ci").ok());
  EXPECT_FALSE(iam_->LookUpAccessKey(key->info.id));
  // A request in flight from the deleted user: refused (closed), naming why.
  std::optional<std::string> m = Authorize(aws::Require("s3:GetObject"));
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("cannot be read"), std::string::npos) << *m;
}

TEST_F(EnforcementTest, SimulationIsBoundedAndNamesTheDecidingStatement) {
  SimulationInput in;
  in.account = kAccount;
  in.source_arn = user_arn_;
  in.actions = {"s3:ListBucket"};
  in.resources = {"arn:aws:s3:::train"};
  in.context["s3:prefix"] = {"logs/"};
  Result<std::vector<SimulationResult>> r = Simulate(iam_.get(), in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].evaluation.decision, Decision::kExplicitDeny);
  EXPECT_EQ((*r)[0].evaluation.deciding->sid, "OnlyData");
  in.actions.assign(kMaxSimulatedActions + 1, "s3:GetObject");
  EXPECT_EQ(Simulate(iam_.get(), in).status().aws_code(), "InvalidInput");
  in.actions = {"s3:GetObject"};
  in.extra_policies = {std::string(20000, '{')};
  EXPECT_EQ(Simulate(iam_.get(), in).status().aws_code(), "MalformedPolicyDocument");
  in.extra_policies.clear();
  for (const char* source : {"arn:aws:iam::123456789012:user/nobody", "arn:aws:iam::123456789012:role/nothing"}) {
    in.source_arn = source;
    EXPECT_EQ(Simulate(iam_.get(), in).status().aws_code(), "NoSuchEntity") << source;
  }
  for (const char* source : {"arn:aws:iam::999999999999:user/ci", "arn:aws:s3:::bucket", "", "arn:aws:iam::123456789012:"}) {
    in.source_arn = source;
    EXPECT_EQ(Simulate(iam_.get(), in).status().aws_code(), "InvalidInput") << source;
  }
}

// A user's refused s3:DeleteBucket, as the trail records it.
AuditRecord DeniedDelete() {
  AuditRecord r;
  r.time_ms = 1764600000000;
  r.service = "s3";
  r.operation = "DeleteBucket";
  r.action = "s3:DeleteBucket";
  r.resources = {"arn:aws:s3:::other"};
  r.principal_arn = "arn:aws:iam::123456789012:user/ci-7";
  r.account = kAccount;
  r.source_ip = "10.0.0.7";
  r.request_id = "req-1";
  r.http_status = 403;
  r.error_code = "AccessDenied";
  return r;
}

// A trail in `folder` that holds `records`, closed again.
void WriteTrail(const std::string& folder, const std::vector<AuditRecord>& records) {
  Result<std::unique_ptr<AuditTrail>> trail = AuditTrail::Open(folder);
  ASSERT_TRUE(trail.ok()) << trail.status().ToString();
  for (const AuditRecord& r : records) (*trail)->Append(r);
}

TEST(AuditTrailTest, AppendsRecordsThatQueriesFilterAndSurvivesHostileLines) {
  TempDir dir;
  const std::string folder = dir.path() + "/audit";
  AuditRecord list = DeniedDelete();
  list.time_ms += 1000;
  list.operation = "ListBuckets";
  list.action = "s3:ListAllMyBuckets";
  list.error_code.clear();
  list.http_status = 200;
  list.user_agent = std::string(100000, 'u');  // cut to fit
  WriteTrail(folder, {DeniedDelete(), list});
  struct stat st {};
  ASSERT_EQ(::stat((folder + "/trail.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    std::ofstream hostile(folder + "/trail.jsonl", std::ios::app);
    hostile << "{\"eventTime\": 5, \"action\": []}\n" << std::string(40000, 'x') << "\n{\"torn\n";
  }
  AuditFilter filter;
  Result<std::vector<nlohmann::json>> all = AuditTrail::Query(folder, filter);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0]["userIdentity"]["userName"], "ci-7");
  EXPECT_EQ((*all)[0]["eventSource"], "s3.amazonaws.com");
  EXPECT_FALSE((*all)[0]["readOnly"].get<bool>());
  EXPECT_TRUE((*all)[1]["readOnly"].get<bool>());
  filter.denied_only = true;
  EXPECT_EQ(AuditTrail::Query(folder, filter)->size(), 1u);
  filter.denied_only = false;
  filter.principal = "arn:aws:iam::*:user/ci-*";
  filter.action = "S3:List*";
  EXPECT_EQ(AuditTrail::Query(folder, filter)->size(), 1u);
  filter = {};
  filter.since_ms = 1764600000500;
  EXPECT_EQ(AuditTrail::Query(folder, filter)->size(), 1u);
  EXPECT_EQ(AuditTrail::Query(dir.path() + "/none", filter).status().code(), Status::Code::kNotFound);
}

TEST(AuditTrailTest, UnauthenticatedCallsGoToTheirOwnFileAsUnknown) {
  TempDir dir;
  const std::string folder = dir.path() + "/audit";
  AuditRecord forged = DeniedDelete();
  forged.time_ms -= 1000;  // earlier than the authenticated one: Query orders by time
  forged.principal_arn.clear();
  forged.account.clear();
  forged.access_key_id = "AKIAFORGED";
  forged.error_code = "SignatureDoesNotMatch";
  WriteTrail(folder, {DeniedDelete(), forged, forged, forged});
  struct stat authenticated {}, unauthenticated {};
  ASSERT_EQ(::stat((folder + "/trail.jsonl").c_str(), &authenticated), 0);
  ASSERT_EQ(::stat((folder + "/unauthenticated.jsonl").c_str(), &unauthenticated), 0);
  EXPECT_EQ(unauthenticated.st_mode & 0777, 0600u);
  EXPECT_GT(unauthenticated.st_size, 2 * authenticated.st_size);  // the three went there
  AuditFilter filter;
  Result<std::vector<nlohmann::json>> all = AuditTrail::Query(folder, filter);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0]["userIdentity"]["type"], "Unknown");
  EXPECT_EQ((*all)[0]["userIdentity"]["accessKeyId"], "AKIAFORGED");
  EXPECT_EQ((*all)[3]["userIdentity"]["type"], "IAMUser");
  filter.limit = 1;
  all = AuditTrail::Query(folder, filter);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0]["userIdentity"]["type"], "IAMUser");  // the newest, whichever file
}

}  // namespace
}  // namespace lathe::iam
