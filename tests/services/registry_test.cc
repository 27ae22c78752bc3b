// The model registry's groups, versions and lineage (services/registry/registry.h), in process
// over a temporary lathe.db.
#include <set>
#include <thread>

#include "services/registry_fixture.h"

namespace lathe::registry {
namespace {

using RegistryVersions = RegistryFixture;
using RegistryLineage = RegistryFixture;
using RegistryAtomicity = RegistryFixture;
using RegistryExport = RegistryFixture;

TEST_F(RegistryVersions, NumbersInOrderAndKeepsWhatEachVersionRecords) {
  NewVersion first = Version("banking-assistant", {Data("s3://data/train.jsonl", kSha1, 500)});
  first.description = "first fine-tune";
  first.metadata = {{"team", "support"}};
  first.tags = {{"env", "test"}};
  EvaluationRecord eval;
  eval.evaluation = "eval-1";
  eval.overall_score = 0.71;
  eval.metrics = {{"rougeL", 0.4}};
  first.evaluations = {eval};
  auto v1 = registry_->Register(first);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->arn, "arn:aws:sagemaker:us-east-1:123456789012:model-package/banking-assistant/1");
  EXPECT_EQ(Register("banking-assistant"), 2);
  EXPECT_EQ(Register("banking-assistant"), 3);
  EXPECT_EQ(Register("other-group"), 1);

  auto group = registry_->GetGroup("banking-assistant");  // created by the first Register
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->latest_version, 3);
  EXPECT_EQ(group->arn, "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/banking-assistant");
  EXPECT_TRUE(registry_->GetGroup(group->arn).ok());

  auto got = registry_->GetVersion(v1->arn);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->description, "first fine-tune");
  EXPECT_EQ(got->custom_model_arn, first.custom_model_arn);
  EXPECT_EQ(got->hyperparameters["epochCount"], "2");
  ASSERT_EQ(got->data.size(), 1u);
  EXPECT_EQ(got->data[0].records, 500u);
  EXPECT_EQ(got->data[0].sha256, kSha1);
  ASSERT_EQ(got->evaluations.size(), 1u);
  EXPECT_DOUBLE_EQ(got->evaluations[0].overall_score, 0.71);
  EXPECT_EQ(got->metadata.at("team"), "support");
  EXPECT_EQ(got->status, VersionStatus::kPending);
  EXPECT_EQ(got->created_ms, now_.load());
  EXPECT_EQ(db_->Tags(v1->arn)->at("env"), "test");
  EXPECT_TRUE(registry_->GetVersion("banking-assistant/2").ok());

  auto listed = registry_->ListVersions("banking-assistant", {});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*listed)[i].version, i + 1);
  ListOptions newest;
  newest.descending = true;
  newest.limit = 1;
  EXPECT_EQ(registry_->ListVersions("banking-assistant", newest)->at(0).version, 3);
  EXPECT_EQ(Events("Model Version Registered"), 4u);
}

TEST_F(RegistryVersions, FourThreadsNumberWithoutGapsOrDuplicates) {
  constexpr int kPerThread = 15;
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> got(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto v = registry_->Register(Version("g", {Data("s3://b/" + std::to_string(t) + ".jsonl")}));
        if (v.ok()) got[t].push_back(v->version);
      }
    });
  for (auto& th : threads) th.join();
  std::set<int> all;
  size_t total = 0;
  for (const auto& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
    for (size_t i = 1; i < g.size(); ++i) EXPECT_LT(g[i - 1], g[i]);  // each thread sees its own in order
  }
  EXPECT_EQ(total, 4u * kPerThread);
  ASSERT_EQ(all.size(), 4u * kPerThread);
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), 4 * kPerThread);
}

// Two Registry objects, each with its own connection to lathe.db, race as two processes would:
// their mutexes do not exclude each other, so the store's unique name decides.
TEST_F(RegistryVersions, TwoRegistriesOverOneDatabaseNumberWithoutCollisions) {
  auto second_db = OpenStore();
  auto second = MakeRegistry(second_db.get());
  constexpr int kEach = 20;
  std::vector<int> a, b;
  std::thread ta([&] {
    for (int i = 0; i < kEach; ++i)
      if (auto v = registry_->Register(Version("shared")); v.ok()) a.push_back(v->version);
  });
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i)
      if (auto v = second->Register(Version("shared")); v.ok()) b.push_back(v->version);
  });
  ta.join();
  tb.join();
  std::set<int> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(a.size() + b.size(), 2u * kEach);
  EXPECT_EQ(all.size(), 2u * kEach);
  EXPECT_EQ(*all.rbegin(), 2 * kEach);
  EXPECT_EQ(registry_->ListVersions("shared", {})->size(), 2u * kEach);
}

TEST_F(RegistryVersions, SameClientTokenRegistersOnce) {
  NewVersion v = Version("g");
  v.client_token = "pipeline-run-42";
  auto first = registry_->Register(v);
  auto again = registry_->Register(v);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->version, again->version);
  v.client_token = "pipeline-run-43";
  EXPECT_EQ(registry_->Register(v)->version, 2);
  auto other_db = OpenStore();  // another process retrying sees the same version
  v.client_token = "pipeline-run-42";
  EXPECT_EQ(MakeRegistry(other_db.get())->Register(v)->version, 1);
  EXPECT_EQ(registry_->ListVersions("g", {})->size(), 2u);
}

TEST_F(RegistryVersions, DeletedLatestNumberIsNotGivenAgain) {
  Register("g");
  Register("g");
  ASSERT_TRUE(registry_->DeleteVersion("g/2").ok());
  EXPECT_EQ(registry_->GetVersion("g/2").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(Register("g"), 3);
}

TEST_F(RegistryVersions, UpdateChangesStatusAndMetadataAndRecordsTheActor) {
  NewVersion v = Version("g");
  v.metadata = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(registry_->Register(v).ok());
  now_ += 1000;
  auto updated = registry_->UpdateVersion("g/1", VersionStatus::kApproved, "looks good", {{"c", "3"}}, {"a"}, "alice");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  auto got = registry_->GetVersion("g/1");
  EXPECT_EQ(got->status, VersionStatus::kApproved);
  EXPECT_EQ(got->approval_description, "looks good");
  EXPECT_EQ(got->metadata, (std::map<std::string, std::string>{{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(got->last_modified_by, "alice");
  EXPECT_EQ(got->last_modified_ms, now_.load());
  ListOptions approved;
  approved.status = VersionStatus::kApproved;
  EXPECT_EQ(registry_->ListVersions("g", approved)->size(), 1u);
}

TEST_F(RegistryVersions, GroupsCreateListAndDeleteOnlyWhenEmpty) {
  ASSERT_TRUE(registry_->CreateGroup("g", "a group", "alice", {{"k", "v"}}).ok());
  EXPECT_EQ(registry_->CreateGroup("g", "", "").status().code(), Status::Code::kAlreadyExists);
  ASSERT_TRUE(registry_->CreateGroup("h", "", "").ok());
  ListOptions contains;
  contains.name_contains = "h";
  EXPECT_EQ(registry_->ListGroups(contains)->size(), 1u);
  EXPECT_EQ(registry_->ListGroups({})->size(), 2u);
  Register("g");
  EXPECT_EQ(registry_->DeleteGroup("g").code(), Status::Code::kConflict);
  ASSERT_TRUE(registry_->DeleteVersion("g/1").ok());
  ASSERT_TRUE(registry_->DeleteGroup("g").ok());
  EXPECT_EQ(registry_->GetGroup("g").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(registry_->DeleteGroup("g").code(), Status::Code::kNotFound);
}

TEST_F(RegistryLineage, QueryableBothWaysByUriAndByContent) {
  const std::string train = "s3://data/banking/train.jsonl";
  const std::string val = "s3://data/banking/validation.jsonl";
  Register("banking", {Data(train, kSha1)});
  DataObject validation = Data(val, kSha2);
  validation.purpose = "validation";
  Register("banking", {Data(train, kSha1), validation});
  // The same bytes under another key, in another group (the digest spelled in capitals).
  Register("copy", {Data("s3://elsewhere/copy.jsonl", std::string(64, 'A'))});
  Register("banking", {Data("s3://data/banking/other.jsonl")});

  auto by_uri = registry_->VersionsTrainedOn(train);
  ASSERT_TRUE(by_uri.ok()) << by_uri.status().ToString();
  ASSERT_EQ(by_uri->size(), 2u);
  EXPECT_EQ((*by_uri)[0].version, 1);
  EXPECT_EQ((*by_uri)[1].version, 2);

  auto by_content = registry_->VersionsTrainedOn(train, kSha1);
  ASSERT_TRUE(by_content.ok());
  ASSERT_EQ(by_content->size(), 3u);
  EXPECT_EQ((*by_content)[0].group, "banking");
  EXPECT_EQ((*by_content)[2].group, "copy");
  EXPECT_EQ(registry_->VersionsTrainedOn("", kSha1)->size(), 3u);
  EXPECT_EQ(registry_->VersionsTrainedOn(val)->size(), 1u);

  // Model -> data: the version lists its objects.
  auto v2 = registry_->GetVersion("banking/2");
  ASSERT_EQ(v2->data.size(), 2u);
  EXPECT_EQ(v2->data[1].purpose, "validation");

  // Deleting a version takes its lineage rows with it.
  ASSERT_TRUE(registry_->DeleteVersion("copy/1").ok());
  EXPECT_EQ(registry_->VersionsTrainedOn("", kSha1)->size(), 2u);
  store::MetadataStore::ListFilter of_copy;
  of_copy.doc_equals["group"] = "copy";
  EXPECT_EQ(*db_->Count("data-lineage", of_copy), 0u);
}

// A fault inside the batch (a lineage row whose id is taken) rolls back the version row and the
// group row written before it in the same transaction, and publishes nothing.
TEST_F(RegistryAtomicity, AFailingBatchLeavesNothingHalfWritten) {
  store::ResourceRow squatter;
  squatter.kind = "data-lineage";
  squatter.id = squatter.name = "g/1/000";
  ASSERT_TRUE(db_->Insert(squatter).ok());
  auto v = registry_->Register(Version("g", {Data("s3://b/k.jsonl", kSha1)}));
  EXPECT_EQ(v.status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(registry_->GetGroup("g").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(db_->List("model-version")->size(), 0u);
  EXPECT_EQ(db_->List("data-lineage")->size(), 1u);  // only the squatter
  EXPECT_EQ(db_->EventsAfter(0, 100)->size(), 0u);

  // An alias move whose history row cannot be written leaves no alias row and no event.
  ASSERT_TRUE(db_->Delete("data-lineage", "g/1/000").ok());
  ASSERT_EQ(Register("g"), 1);
  store::ResourceRow move;
  move.kind = "alias-move";
  move.id = move.name = "g/production/000000000001";
  ASSERT_TRUE(db_->Insert(move).ok());
  EXPECT_FALSE(registry_->SetAlias("g", "production", 1, "alice", "").ok());
  EXPECT_TRUE(registry_->Aliases("g")->empty());
  EXPECT_EQ(Events("Model Alias Moved"), 0u);
}

TEST_F(RegistryExport, WritesTheGuidesFolderLayout) {
  NewVersion v = Version("banking-assistant", {Data("s3://data/train.jsonl", kSha1, 500)});
  EvaluationRecord e;
  e.evaluation = "eval-7";
  e.overall_score = 0.82;
  e.metrics = {{"rougeL", 0.5}};
  v.evaluations = {e};
  ASSERT_TRUE(registry_->Register(v).ok());
  ASSERT_TRUE(registry_->SetAlias("banking-assistant", "production", 1, "alice", "first").ok());
  auto files = registry_->ExportFiles("banking-assistant", 1);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ(files->at("banking-assistant-v1/model-id.txt"), v.custom_model_arn + "\n");
  auto config = nlohmann::json::parse(files->at("banking-assistant-v1/training-config.json"));
  EXPECT_EQ(config["hyperParameters"]["epochCount"], "2");
  EXPECT_EQ(config["baseModel"], "amazon.nova-micro-v1:0");
  EXPECT_EQ(config["deployments"][0]["alias"], "production");
  EXPECT_TRUE(config["deployments"][0]["previousVersion"].is_null());
  auto manifest = nlohmann::json::parse(files->at("banking-assistant-v1/training-data-manifest.json"));
  EXPECT_EQ(manifest["trainingRecords"], 500);
  EXPECT_EQ(manifest["dataObjects"][0]["sha256"], kSha1);
  auto report = nlohmann::json::parse(files->at("banking-assistant-v1/evaluation-report.json"));
  EXPECT_DOUBLE_EQ(report["overallScore"].get<double>(), 0.82);
  EXPECT_EQ(report["evaluations"][0]["evaluation"], "eval-7");
  EXPECT_EQ(registry_->ExportFiles("banking-assistant", 2).status().code(), Status::Code::kNotFound);
  // After 1 -> 2 -> 3 and a rollback to 2, v2's rollback pointer is where the next rollback goes
  // (1), not where the last move came from (3); both moves onto v2 are listed with their dates.
  ASSERT_TRUE(registry_->Register(Version("banking-assistant")).ok());
  ASSERT_TRUE(registry_->Register(Version("banking-assistant")).ok());
  now_ += 1000;
  ASSERT_TRUE(registry_->SetAlias("banking-assistant", "production", 2, "bob", "second").ok());
  now_ += 1000;
  ASSERT_TRUE(registry_->SetAlias("banking-assistant", "production", 3, "bob", "third").ok());
  now_ += 1000;
  ASSERT_TRUE(registry_->Rollback("banking-assistant", "production", "carol", "bad").ok());
  auto v2 = registry_->ExportFiles("banking-assistant", 2);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  auto deployed = nlohmann::json::parse(v2->at("banking-assistant-v2/training-config.json"))["deployments"][0];
  EXPECT_EQ(deployed["previousVersion"], 3);
  EXPECT_EQ(deployed["rollbackTo"], 1);
  ASSERT_EQ(deployed["moves"].size(), 2u);
  EXPECT_EQ(deployed["moves"][0]["fromVersion"], 1);
  EXPECT_EQ(deployed["moves"][1]["rollback"], true);
}

}  // namespace
}  // namespace lathe::registry
