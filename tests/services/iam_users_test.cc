// IAM users, access keys, groups and managed policies in the backend (no sockets): what the
// wire promises, the quotas, the order of a key's secret and row, and hostile input.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "services/iam/backend.h"
#include "test_util.h"

namespace lathe::iam {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kReadS3[] = R"({"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow",
  "Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]})";
constexpr char kDenyDelete[] = R"({"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny",
  "Action":"s3:Delete*","Resource":"*"}]})";

class IamUsersTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    backend_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<IamBackend>(store_.get(), dir_.path() + "/iam");
    ASSERT_TRUE(backend_->open_status().ok()) << backend_->open_status().ToString();
  }
  Result<User> Create(const std::string& name, const std::string& path = "/") {
    CreateUserInput in;
    in.name = name;
    in.path = path;
    return backend_->CreateUser(kAccount, in);
  }
  Decision Decide(const std::string& user_arn, const std::string& action, const std::string& resource) {
    Result<Principal> p = backend_->PrincipalFor(kAccount, user_arn);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return Decision::kImplicitDeny;
    return Evaluate(p->policies, {action, resource, {}}).decision;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<IamBackend> backend_;
};

TEST_F(IamUsersTest, UsersHaveAwsShapedIdsAndArnsAndNamesIgnoreCase) {
  Result<User> u = Create("Alice", "/engineering/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->arn, "arn:aws:iam::123456789012:user/engineering/Alice");
  EXPECT_EQ(u->id.substr(0, 4), "AIDA");
  EXPECT_EQ(u->id.size(), 21u);
  EXPECT_EQ(Create("alice").status().aws_code(), "EntityAlreadyExists");
  EXPECT_EQ(backend_->GetUser(kAccount, "ALICE")->arn, u->arn);
  EXPECT_EQ(backend_->GetUser(kAccount, "bob").status().aws_code(), "NoSuchEntity");
  EXPECT_EQ(backend_->GetUser("999999999999", "alice").status().aws_code(), "NoSuchEntity");
  ASSERT_TRUE(Create("bob").ok());
  ListOptions one;
  one.max_items = 1;
  auto page = backend_->ListUsers(kAccount, one);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "Alice");
  one.marker = page->marker;
  EXPECT_EQ(backend_->ListUsers(kAccount, one)->items[0].name, "bob");
  ListOptions eng;
  eng.path_prefix = "/engineering/";
  EXPECT_EQ(backend_->ListUsers(kAccount, eng)->items.size(), 1u);
}

TEST_F(IamUsersTest, HostileUserNamesAndPathsAreValidationErrors) {
  for (const std::string& name : {std::string(65, 'a'), std::string(""), std::string("a/b"), std::string("a\0b", 3),
                                  std::string("caf\xC3\xA9"), std::string("<script>"), std::string(100000, 'x')}) {
    Result<User> r = Create(name);
    ASSERT_FALSE(r.ok()) << name.substr(0, 20);
    EXPECT_EQ(r.status().aws_code(), "ValidationError");
    EXPECT_LE(r.status().message().size(), 400u);
  }
  EXPECT_EQ(Create("p", "nope").status().aws_code(), "ValidationError");
  EXPECT_EQ(backend_->GetUser(kAccount, std::string(129, 'a')).status().aws_code(), "ValidationError");
}

TEST_F(IamUsersTest, AccessKeysAreShownOnceAndTheirSecretsAreFilesOnlyTheOwnerReads) {
  ASSERT_TRUE(Create("alice").ok());
  Result<NewAccessKey> key = backend_->CreateAccessKey(kAccount, "alice");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->info.id.size(), 20u);
  EXPECT_EQ(key->info.id.substr(0, 4), "AKIA");
  EXPECT_EQ(key->secret.size(), 40u);
  auto identity = backend_->LookUpAccessKey(key->info.id);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->secret, key->secret);
  EXPECT_EQ(identity->user_arn, "arn:aws:iam::123456789012:user/alice");
  // Listing never shows the secret; the store's document never holds it.
  auto listed = backend_->ListAccessKeys(kAccount, "alice", {});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  std::string db = testing::ReadFile(dir_.path() + "/lathe.db");
  EXPECT_EQ(db.find(key->secret), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/iam").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_.path() + "/iam/access-keys.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Two keys per user, as IAM.
  ASSERT_TRUE(backend_->CreateAccessKey(kAccount, "alice").ok());
  EXPECT_EQ(backend_->CreateAccessKey(kAccount, "alice").status().aws_code(), "LimitExceeded");
  // Keys survive a restart with their secrets.
  Reopen();
  EXPECT_EQ(backend_->LookUpAccessKey(key->info.id)->secret, key->secret);
}

TEST_F(IamUsersTest, DisablingAKeyStopsItAtOnceAndDeletingTheUserRemovesItsKeys) {
  ASSERT_TRUE(Create("alice").ok());
  ASSERT_TRUE(Create("bob").ok());
  auto key = backend_->CreateAccessKey(kAccount, "alice");
  ASSERT_TRUE(key.ok());
  // Another user's name, or a key id that is not theirs, finds nothing.
  EXPECT_EQ(backend_->UpdateAccessKey(kAccount, "bob", key->info.id, KeyStatus::kInactive).aws_code(), "NoSuchEntity");
  ASSERT_TRUE(backend_->UpdateAccessKey(kAccount, "alice", key->info.id, KeyStatus::kInactive).ok());
  EXPECT_FALSE(backend_->LookUpAccessKey(key->info.id));
  ASSERT_TRUE(backend_->UpdateAccessKey(kAccount, "alice", key->info.id, KeyStatus::kActive).ok());
  EXPECT_TRUE(backend_->LookUpAccessKey(key->info.id));
  ASSERT_TRUE(backend_->DeleteUser(kAccount, "alice").ok());
  EXPECT_FALSE(backend_->LookUpAccessKey(key->info.id));
  EXPECT_EQ(std::string(testing::ReadFile(dir_.path() + "/iam/access-keys.json")).find(key->secret), std::string::npos);
  // A user made again under the same name does not inherit the key.
  ASSERT_TRUE(Create("alice").ok());
  EXPECT_TRUE(backend_->ListAccessKeys(kAccount, "alice", {})->items.empty());
  EXPECT_FALSE(backend_->LookUpAccessKey(key->info.id));
}

TEST_F(IamUsersTest, ForgedAndMalformedKeyIdsFindNothing) {
  ASSERT_TRUE(Create("alice").ok());
  auto key = backend_->CreateAccessKey(kAccount, "alice");
  ASSERT_TRUE(key.ok());
  std::string lower = key->info.id;
  // The first letter after AKIA in lower case (a digit would leave the id as it is).
  for (size_t i = 4; i < lower.size(); ++i)
    if (std::isupper(static_cast<unsigned char>(lower[i]))) {
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i])));
      break;
    }
  for (const std::string& forged : {std::string("AKIAAAAAAAAAAAAAAAAA"), lower, key->info.id + "A",
                                    key->info.id.substr(0, 19), std::string("' OR 1=1 --"), std::string(5000, 'A'),
                                    std::string("AKIA\0AAAAAAAAAAAAAAA", 20)})
    EXPECT_FALSE(backend_->LookUpAccessKey(forged)) << forged.substr(0, 30);
  EXPECT_EQ(backend_->UpdateAccessKey(kAccount, "alice", "short", KeyStatus::kInactive).aws_code(), "ValidationError");
  EXPECT_EQ(backend_->DeleteAccessKey(kAccount, "alice", "AKIAAAAAAAAAAAAAAAAA").aws_code(), "NoSuchEntity");
}

TEST_F(IamUsersTest, ASecretWithoutItsKeyRowIsDroppedAtStart) {
  ASSERT_TRUE(Create("alice").ok());
  auto key = backend_->CreateAccessKey(kAccount, "alice");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(store_->Delete("iam-access-key", key->info.id).ok());  // as if the row never got written
  Reopen();
  EXPECT_EQ(std::string(testing::ReadFile(dir_.path() + "/iam/access-keys.json")).find(key->secret), std::string::npos);
}

TEST_F(IamUsersTest, PoliciesFromUserGroupAndManagedPoliciesAllApply) {
  Result<User> alice = Create("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(Decide(alice->arn, "s3:GetObject", "arn:aws:s3:::b/k"), Decision::kImplicitDeny);
  ASSERT_TRUE(backend_->PutUserPolicy(kAccount, "alice", "read", kReadS3).ok());
  EXPECT_EQ(Decide(alice->arn, "s3:GetObject", "arn:aws:s3:::b/k"), Decision::kAllowed);
  EXPECT_EQ(Decide(alice->arn, "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::kImplicitDeny);

  Result<ManagedPolicy> deny = backend_->CreatePolicy(kAccount, {"NoDeletes", "/", kDenyDelete, "", {}});
  ASSERT_TRUE(deny.ok()) << deny.status().ToString();
  ASSERT_TRUE(backend_->CreateGroup(kAccount, "admins", "/").ok());
  ASSERT_TRUE(backend_->AttachGroupPolicy(kAccount, "admins", "arn:aws:iam::aws:policy/AdministratorAccess").ok());
  ASSERT_TRUE(backend_->AddUserToGroup(kAccount, "ADMINS", "alice").ok());
  EXPECT_EQ(Decide(alice->arn, "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::kAllowed);
  ASSERT_TRUE(backend_->AttachUserPolicy(kAccount, "alice", deny->arn).ok());
  EXPECT_EQ(Decide(alice->arn, "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::kExplicitDeny);
  EXPECT_EQ(Decide(alice->arn, "iam:CreateUser", "*"), Decision::kAllowed);

  // Attached policies block deleting the policy and the group; a new default version applies.
  EXPECT_EQ(backend_->DeletePolicy(kAccount, deny->arn).aws_code(), "DeleteConflict");
  EXPECT_EQ(backend_->GetPolicy(kAccount, deny->arn)->attachment_count, 1u);
  auto v2 = backend_->CreatePolicyVersion(kAccount, deny->arn,
                                          R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]})",
                                          true);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->id, "v2");
  EXPECT_EQ(Decide(alice->arn, "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::kAllowed);
  EXPECT_EQ(backend_->DeletePolicyVersion(kAccount, deny->arn, "v2").aws_code(), "DeleteConflict");
  ASSERT_TRUE(backend_->SetDefaultPolicyVersion(kAccount, deny->arn, "v1").ok());
  EXPECT_EQ(Decide(alice->arn, "s3:DeleteObject", "arn:aws:s3:::b/k"), Decision::kExplicitDeny);
  EXPECT_EQ(backend_->DeleteGroup(kAccount, "admins").aws_code(), "DeleteConflict");
  ASSERT_TRUE(backend_->RemoveUserFromGroup(kAccount, "admins", "alice").ok());
  EXPECT_EQ(backend_->RemoveUserFromGroup(kAccount, "admins", "alice").aws_code(), "NoSuchEntity");
  EXPECT_EQ(Decide(alice->arn, "iam:CreateUser", "*"), Decision::kImplicitDeny);
  // Policies left on a user block deleting it, as for roles.
  EXPECT_EQ(backend_->DeleteUser(kAccount, "alice").aws_code(), "DeleteConflict");
}

TEST_F(IamUsersTest, ManagedPolicyRulesAndQuotas) {
  EXPECT_EQ(backend_->CreatePolicy(kAccount, {"p", "no-slash", kReadS3, "", {}}).status().aws_code(), "ValidationError");
  EXPECT_EQ(backend_->CreatePolicy(kAccount, {"p", "/a//b/", kReadS3, "", {}}).status().aws_code(), "ValidationError");
  EXPECT_EQ(backend_->CreatePolicy(kAccount, {"p", "/", "{", "", {}}).status().aws_code(), "MalformedPolicyDocument");
  std::string big = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":")" +
                    std::string("arn:aws:s3:::") + std::string(6200, 'b') + "\"}]}";
  EXPECT_EQ(backend_->CreatePolicy(kAccount, {"big", "/", big, "", {}}).status().aws_code(), "LimitExceeded");
  auto p = backend_->CreatePolicy(kAccount, {"Reader", "/team/", kReadS3, "reads b", {}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->arn, "arn:aws:iam::123456789012:policy/team/Reader");
  EXPECT_EQ(backend_->CreatePolicy(kAccount, {"reader", "/", kReadS3, "", {}}).status().aws_code(),
            "EntityAlreadyExists");
  for (int i = 2; i <= 5; ++i) ASSERT_TRUE(backend_->CreatePolicyVersion(kAccount, p->arn, kReadS3, false).ok());
  EXPECT_EQ(backend_->CreatePolicyVersion(kAccount, p->arn, kReadS3, false).status().aws_code(), "LimitExceeded");
  EXPECT_EQ(backend_->DeletePolicy(kAccount, p->arn).aws_code(), "DeleteConflict");  // versions first
  for (const char* v : {"v2", "v3", "v4", "v5"}) ASSERT_TRUE(backend_->DeletePolicyVersion(kAccount, p->arn, v).ok());
  EXPECT_EQ(backend_->GetPolicyVersion(kAccount, p->arn, "v9").status().aws_code(), "NoSuchEntity");
  EXPECT_EQ(backend_->GetPolicyVersion(kAccount, p->arn, "version1").status().aws_code(), "ValidationError");
  ASSERT_TRUE(backend_->DeletePolicy(kAccount, p->arn).ok());
  // Another account's policy, an unknown AWS one, and forged ARNs are not attachable.
  ASSERT_TRUE(Create("alice").ok());
  EXPECT_EQ(backend_->AttachUserPolicy(kAccount, "alice", "arn:aws:iam::999999999999:policy/x").aws_code(),
            "NoSuchEntity");
  EXPECT_EQ(backend_->AttachUserPolicy(kAccount, "alice", "arn:aws:iam::aws:policy/NoSuchThing").aws_code(),
            "NoSuchEntity");
  EXPECT_EQ(backend_->AttachUserPolicy(kAccount, "alice", "arn:aws:s3:::not-a-policy-arn").aws_code(),
            "InvalidInput");
  EXPECT_EQ(backend_->DeletePolicy(kAccount, "arn:aws:iam::aws:policy/AdministratorAccess").aws_code(), "InvalidInput");
  // AWS managed policies are listed with the account's own.
  auto aws = backend_->ListPolicies(kAccount, PolicyScope::kAws, false, {});
  ASSERT_TRUE(aws.ok());
  EXPECT_GE(aws->items.size(), 10u);
  EXPECT_TRUE(backend_->ListPolicies(kAccount, PolicyScope::kLocal, false, {})->items.empty());
}

TEST_F(IamUsersTest, GroupQuotasAndMembership) {
  ASSERT_TRUE(Create("alice").ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(backend_->CreateGroup(kAccount, "g" + std::to_string(i), "/").ok());
    ASSERT_TRUE(backend_->AddUserToGroup(kAccount, "g" + std::to_string(i), "alice").ok());
  }
  ASSERT_TRUE(backend_->CreateGroup(kAccount, "g10", "/").ok());
  EXPECT_EQ(backend_->AddUserToGroup(kAccount, "g10", "alice").aws_code(), "LimitExceeded");
  EXPECT_EQ(backend_->AddUserToGroup(kAccount, "nope", "alice").aws_code(), "NoSuchEntity");
  EXPECT_EQ(backend_->CreateGroup(kAccount, "G1", "/").status().aws_code(), "EntityAlreadyExists");
  auto members = backend_->GetGroup(kAccount, "g3", {});
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->second.items.size(), 1u);
  EXPECT_EQ(backend_->ListGroupsForUser(kAccount, "alice", {})->items.size(), 10u);
  std::string too_much = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":")" +
                         std::string("arn:aws:s3:::") + std::string(5200, 'b') + "\"}]}";
  EXPECT_EQ(backend_->PutGroupPolicy(kAccount, "g1", "p", too_much).aws_code(), "LimitExceeded");
  EXPECT_EQ(backend_->PutUserPolicy(kAccount, "alice", "p", too_much).aws_code(), "LimitExceeded");
}

}  // namespace
}  // namespace lathe::iam
