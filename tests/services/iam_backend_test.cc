#include "services/iam/backend.h"

#include <gtest/gtest.h>

#include "services/iam/policy_document.h"
#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kTrust[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
constexpr char kS3Policy[] = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]})";

class IamBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    backend_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<IamBackend>(store_.get());
  }
  Result<Role> Create(const std::string& name, const std::string& path = "/") {
    CreateRoleInput in;
    in.name = name;
    in.path = path;
    in.assume_role_policy = kTrust;
    return backend_->CreateRole(kAccount, in);
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<IamBackend> backend_;
};

TEST_F(IamBackendTest, CreatesARoleWithAwsShapedIdArnAndDefaults) {
  Result<Role> role = Create("BedrockFineTuningRole", "/service/");
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  EXPECT_EQ(role->arn, "arn:aws:iam::123456789012:role/service/BedrockFineTuningRole");
  ASSERT_EQ(role->id.size(), 21u);
  EXPECT_EQ(role->id.substr(0, 4), "AROA");
  for (char c : role->id) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << role->id;
  EXPECT_EQ(role->max_session_duration, 3600);
  EXPECT_GT(role->created_ms, 0);
  Result<Role> got = backend_->GetRole(kAccount, "BedrockFineTuningRole");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, role->id);
  EXPECT_EQ(got->assume_role_policy, kTrust);
}

TEST_F(IamBackendTest, CreatingTheSameNameTwiceInAnyCaseIsEntityAlreadyExists) {
  ASSERT_TRUE(Create("r1").ok());
  Result<Role> again = Create("R1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().aws_code(), "EntityAlreadyExists");
  EXPECT_EQ(again.status().http_status(), 409);
  EXPECT_EQ(again.status().message(), "Role with name R1 already exists.");
  // Another account has its own namespace.
  CreateRoleInput in;
  in.name = "r1";
  in.assume_role_policy = kTrust;
  EXPECT_TRUE(backend_->CreateRole("210987654321", in).ok());
  EXPECT_TRUE(backend_->GetRole(kAccount, "R1").ok());
}

TEST_F(IamBackendTest, MissingRolesAreNoSuchEntity) {
  Result<Role> r = backend_->GetRole(kAccount, "ghost");
  EXPECT_EQ(r.status().aws_code(), "NoSuchEntity");
  EXPECT_EQ(r.status().http_status(), 404);
  EXPECT_EQ(r.status().message(), "The role with name ghost cannot be found.");
  EXPECT_EQ(backend_->DeleteRole(kAccount, "ghost").aws_code(), "NoSuchEntity");
  EXPECT_EQ(backend_->PutRolePolicy(kAccount, "ghost", "p", kS3Policy).aws_code(), "NoSuchEntity");
}

TEST_F(IamBackendTest, InlinePoliciesPutGetListDeleteAndBlockDeletingTheRole) {
  ASSERT_TRUE(Create("r").ok());
  ASSERT_TRUE(backend_->PutRolePolicy(kAccount, "r", "b-policy", kS3Policy).ok());
  ASSERT_TRUE(backend_->PutRolePolicy(kAccount, "r", "a-policy", kS3Policy).ok());
  Result<std::string> doc = backend_->GetRolePolicy(kAccount, "r", "b-policy");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(*doc, kS3Policy);
  EXPECT_EQ(backend_->GetRolePolicy(kAccount, "r", "c-policy").status().aws_code(), "NoSuchEntity");
  Result<Page<std::string>> names = backend_->ListRolePolicies(kAccount, "r", {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->items, (std::vector<std::string>{"a-policy", "b-policy"}));
  EXPECT_FALSE(names->truncated());

  Status conflict = backend_->DeleteRole(kAccount, "r");
  EXPECT_EQ(conflict.aws_code(), "DeleteConflict");
  EXPECT_EQ(conflict.http_status(), 409);
  ASSERT_TRUE(backend_->DeleteRolePolicy(kAccount, "r", "a-policy").ok());
  ASSERT_TRUE(backend_->DeleteRolePolicy(kAccount, "r", "b-policy").ok());
  EXPECT_EQ(backend_->DeleteRolePolicy(kAccount, "r", "b-policy").aws_code(), "NoSuchEntity");
  EXPECT_TRUE(backend_->DeleteRole(kAccount, "r").ok());
  EXPECT_EQ(backend_->GetRole(kAccount, "r").status().aws_code(), "NoSuchEntity");
}

TEST_F(IamBackendTest, ManagedPoliciesAttachByArnAndBlockDeletingTheRole) {
  ASSERT_TRUE(Create("r").ok());
  const std::string s3 = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
  const std::string bedrock = "arn:aws:iam::aws:policy/service-role/AmazonBedrockFullAccess";
  ASSERT_TRUE(backend_->AttachRolePolicy(kAccount, "r", s3).ok());
  ASSERT_TRUE(backend_->AttachRolePolicy(kAccount, "r", s3).ok());  // idempotent, as in AWS
  ASSERT_TRUE(backend_->AttachRolePolicy(kAccount, "r", bedrock).ok());
  Result<Page<AttachedPolicy>> attached = backend_->ListAttachedRolePolicies(kAccount, "r", {});
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->items.size(), 2u);
  EXPECT_EQ(attached->items[0].name, "AmazonS3FullAccess");
  EXPECT_EQ(attached->items[1].name, "AmazonBedrockFullAccess");
  ListOptions service_role;
  service_role.path_prefix = "/service-role/";
  EXPECT_EQ(backend_->ListAttachedRolePolicies(kAccount, "r", service_role)->items.size(), 1u);

  EXPECT_EQ(backend_->DeleteRole(kAccount, "r").aws_code(), "DeleteConflict");
  EXPECT_EQ(backend_->AttachRolePolicy(kAccount, "r", "not-an-arn-at-all-really").aws_code(), "InvalidInput");
  EXPECT_EQ(backend_->AttachRolePolicy(kAccount, "r", "arn:aws:iam::aws:policy/bad name").aws_code(), "InvalidInput");
  EXPECT_EQ(backend_->AttachRolePolicy(kAccount, "r", "arn:aws:iam::123456789012:policy/Mine").aws_code(),
            "NoSuchEntity");
  EXPECT_EQ(backend_->DetachRolePolicy(kAccount, "r", "arn:aws:iam::aws:policy/Other").aws_code(), "NoSuchEntity");
  ASSERT_TRUE(backend_->DetachRolePolicy(kAccount, "r", s3).ok());
  ASSERT_TRUE(backend_->DetachRolePolicy(kAccount, "r", bedrock).ok());
  EXPECT_TRUE(backend_->DeleteRole(kAccount, "r").ok());
}

TEST_F(IamBackendTest, AttachedPoliciesAreBoundedPerRole) {
  ASSERT_TRUE(Create("r").ok());
  for (size_t i = 0; i < kMaxAttachedPoliciesPerRole; ++i)
    ASSERT_TRUE(backend_->AttachRolePolicy(kAccount, "r", "arn:aws:iam::aws:policy/P" + std::to_string(i)).ok());
  Status over = backend_->AttachRolePolicy(kAccount, "r", "arn:aws:iam::aws:policy/OneMore");
  EXPECT_EQ(over.aws_code(), "LimitExceeded");
  EXPECT_EQ(over.http_status(), 409);
}

TEST_F(IamBackendTest, ListRolesPagesByNameWithMarkers) {
  for (const char* name : {"delta", "Alpha", "charlie", "bravo", "echo"}) ASSERT_TRUE(Create(name).ok());
  ASSERT_TRUE(Create("other", "/team/").ok());
  ListOptions options;
  options.max_items = 2;
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    Result<Page<Role>> page = backend_->ListRoles(kAccount, options);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const Role& r : page->items) seen.push_back(r.name);
    if (!page->truncated()) break;
    options.marker = page->marker;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"Alpha", "bravo", "charlie", "delta", "echo", "other"}));
  ListOptions team;
  team.path_prefix = "/team/";
  Result<Page<Role>> only = backend_->ListRoles(kAccount, team);
  ASSERT_EQ(only->items.size(), 1u);
  EXPECT_EQ(only->items[0].name, "other");
  ListOptions bad;
  bad.marker = std::string(400, 'm');
  EXPECT_EQ(backend_->ListRoles(kAccount, bad).status().aws_code(), "ValidationError");
}

TEST_F(IamBackendTest, RolesAndPoliciesSurviveReopeningTheStore) {
  Result<Role> role = Create("kept");
  ASSERT_TRUE(role.ok());
  ASSERT_TRUE(backend_->PutRolePolicy(kAccount, "kept", "s3", kS3Policy).ok());
  ASSERT_TRUE(backend_->AttachRolePolicy(kAccount, "kept", "arn:aws:iam::aws:policy/AmazonS3FullAccess").ok());
  Reopen();
  Result<Role> again = backend_->GetRole(kAccount, "kept");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, role->id);
  EXPECT_EQ(again->arn, role->arn);
  EXPECT_EQ(again->created_ms, role->created_ms);
  EXPECT_EQ(*backend_->GetRolePolicy(kAccount, "kept", "s3"), kS3Policy);
  EXPECT_EQ(backend_->ListAttachedRolePolicies(kAccount, "kept", {})->items.size(), 1u);
  EXPECT_TRUE(backend_->RoleExists(kAccount, role->arn));
}

TEST_F(IamBackendTest, RoleExistsNeedsTheSameAccountPathAndName) {
  Result<Role> role = Create("JobRole", "/bedrock/");
  ASSERT_TRUE(role.ok());
  EXPECT_TRUE(backend_->RoleExists(kAccount, "arn:aws:iam::123456789012:role/bedrock/JobRole"));
  EXPECT_FALSE(backend_->RoleExists(kAccount, "arn:aws:iam::123456789012:role/JobRole"));
  EXPECT_FALSE(backend_->RoleExists(kAccount, "arn:aws:iam::210987654321:role/bedrock/JobRole"));
  EXPECT_FALSE(backend_->RoleExists("210987654321", role->arn));
  EXPECT_FALSE(backend_->RoleExists(kAccount, "arn:aws:iam::123456789012:role/bedrock/Missing"));
  EXPECT_FALSE(backend_->RoleExists(kAccount, "garbage"));
}

TEST_F(IamBackendTest, HostileNamesAreRefusedWithValidationError) {
  for (const std::string& name :
       {std::string(65, 'a'), std::string(""), std::string("caf\xC3\xA9"), std::string("a/b"),
        std::string("a\0b", 3), std::string("a b"), std::string("<x>"), std::string(100000, 'x')}) {
    Result<Role> r = Create(name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().aws_code(), "ValidationError") << name;
    EXPECT_LE(r.status().message().size(), 400u) << "the message echoes at most 64 characters";
  }
  EXPECT_TRUE(Create(std::string(64, 'a')).ok());
  EXPECT_TRUE(Create("a_b+c=d,e.f@g-h").ok());
  EXPECT_EQ(Create("p", "no-slashes").status().aws_code(), "ValidationError");
  EXPECT_EQ(Create("p", "/sp ace/").status().aws_code(), "ValidationError");
  EXPECT_EQ(Create("p", "/" + std::string(600, 'x') + "/").status().aws_code(), "ValidationError");
  ASSERT_TRUE(Create("r").ok());
  EXPECT_EQ(backend_->PutRolePolicy(kAccount, "r", std::string(129, 'p'), kS3Policy).aws_code(), "ValidationError");
  EXPECT_EQ(backend_->PutRolePolicy(kAccount, "r", "p/q", kS3Policy).aws_code(), "ValidationError");
}

TEST_F(IamBackendTest, TagsDescriptionAndSessionDurationAreChecked) {
  CreateRoleInput in;
  in.name = "tagged";
  in.assume_role_policy = kTrust;
  in.description = "Bedrock fine-tuning";
  in.max_session_duration = 7200;
  in.tags = {{"team", "ml ops"}, {"caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC"}};
  Result<Role> ok = backend_->CreateRole(kAccount, in);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->tags.size(), 2u);
  in.name = "t2";
  in.tags = {{"aws:reserved", "x"}};
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "InvalidInput");
  in.tags = {{"k", "v"}, {"k", "w"}};
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "InvalidInput");
  in.tags = {{"bad\x01", "v"}};
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "ValidationError");
  in.tags = std::vector<Tag>(51, Tag{"k", "v"});
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "ValidationError");
  in.tags.clear();
  in.max_session_duration = 100;
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "ValidationError");
  in.max_session_duration = 3600;
  in.description = std::string("line\x01");
  EXPECT_EQ(backend_->CreateRole(kAccount, in).status().aws_code(), "ValidationError");
}

TEST_F(IamBackendTest, PolicySizesAreBoundedLikeIamQuotas) {
  // A trust policy over 2048 non-space characters is refused.
  std::string big_trust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[)";
  for (int i = 0; i < 100; ++i) big_trust += std::string(i ? "," : "") + "\"arn:aws:iam::123456789012:root\"";
  big_trust += R"(]},"Action":"sts:AssumeRole"}]})";
  CreateRoleInput in;
  in.name = "big";
  in.assume_role_policy = big_trust;
  Result<Role> r = backend_->CreateRole(kAccount, in);
  EXPECT_EQ(r.status().aws_code(), "LimitExceeded");
  // Inline policies of one role share 10240 characters.
  ASSERT_TRUE(Create("r").ok());
  std::string resources;
  for (int i = 0; i < 250; ++i) resources += std::string(i ? "," : "") + "\"arn:aws:s3:::bucket-" + std::to_string(i) + "/*\"";
  std::string policy = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":[)" +
                       resources + "]}}";
  ASSERT_LT(PolicyQuotaChars(policy), kMaxInlinePolicyCharsPerRole);
  ASSERT_TRUE(backend_->PutRolePolicy(kAccount, "r", "one", policy).ok());
  Status second = backend_->PutRolePolicy(kAccount, "r", "two", policy);
  EXPECT_EQ(second.aws_code(), "LimitExceeded");
  EXPECT_EQ(backend_->ListRolePolicies(kAccount, "r", {})->items.size(), 1u) << "the refused policy is not kept";
}

}  // namespace
}  // namespace lathe::iam
