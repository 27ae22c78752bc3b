// The retention planner over hand-made snapshots: what goes, what stays and why, bytes counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "services/cleanup/plan.h"

namespace lathe::cleanup {
namespace {

constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour;
constexpr int64_t kNow = 1000 * kDay;
const std::string kDataDir = "/data";

std::string ModelArn(const std::string& id) {
  return "arn:aws:bedrock:us-east-1:123456789012:custom-model/lathe.default-v1/" + id;
}

store::ResourceRow Model(const std::string& id, int64_t age_ms) {
  store::ResourceRow m;
  m.kind = "custom-model";
  m.id = id;
  m.name = "model-" + id;
  m.arn = ModelArn(id);
  m.status = "Active";
  m.created_ms = kNow - age_ms;
  m.doc = {{"modelArn", m.arn}, {"_dir", kDataDir + "/jobs/job-" + id + "/run/model"}};
  return m;
}

store::ResourceRow Served(const char* kind, const std::string& id, const std::string& model_arn, int64_t age_ms,
                          int64_t last_invoked_ago = -1) {
  store::ResourceRow r;
  r.kind = kind;
  r.id = id;
  r.name = "served-" + id;
  r.arn = "arn:aws:bedrock:us-east-1:123456789012:" + std::string(kind) + "/" + id;
  r.status = "InService";
  r.created_ms = kNow - age_ms;
  r.doc = {{"modelArn", model_arn}};
  if (last_invoked_ago >= 0)
    r.doc[std::string(kind) == "provisioned-model" ? "_lastInvokedMs" : "lastInvokedMs"] = kNow - last_invoked_ago;
  return r;
}

registry::ModelVersion Version(const std::string& group, int n, const std::string& model_id) {
  registry::ModelVersion v;
  v.group = group;
  v.version = n;
  v.arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/" + group + "/" + std::to_string(n);
  v.custom_model_arn = model_id.empty() ? "" : ModelArn(model_id);
  return v;
}

service::RetentionPolicy Policy(int keep, int64_t max_age, int64_t idle_pt = -1, int64_t idle_dep = -1) {
  service::RetentionPolicy p;
  p.keep_versions = keep;
  p.model_max_age_ms = max_age;
  p.idle_throughput_ms = idle_pt;
  p.idle_deployment_ms = idle_dep;
  return p;
}

Snapshot Base() {
  Snapshot s;
  s.now_ms = kNow;
  s.data_dir = kDataDir;
  s.scope.region = "us-east-1";
  s.scope.account = "123456789012";
  return s;
}

std::vector<std::string> Names(const Plan& plan, ItemKind kind) {
  std::vector<std::string> out;
  for (const auto& i : plan.items)
    if (i.kind == kind) out.push_back(i.name);
  return out;
}

std::string KeptReason(const Plan& plan, const std::string& name) {
  for (const auto& k : plan.kept)
    if (k.name == name) return k.reason;
  return "(not kept)";
}

using ::testing::ElementsAre;

TEST(CleanupPlan, EmptyPolicyDeletesNothing) {
  Snapshot s = Base();
  s.custom_models = {Model("a", 400 * kDay)};
  s.throughputs = {Served("provisioned-model", "p", ModelArn("a"), 400 * kDay)};
  Plan plan = MakePlan(service::RetentionPolicy{}, s);
  EXPECT_TRUE(plan.items.empty());
  EXPECT_FALSE(service::RetentionPolicy{}.enabled());
}

TEST(CleanupPlan, AliasedVersionKeptEvenWhenOldAndOutsideTheLastN) {
  Snapshot s = Base();
  s.custom_models = {Model("m1", 90 * kDay), Model("m2", 80 * kDay), Model("m3", 70 * kDay)};
  s.versions = {Version("g", 1, "m1"), Version("g", 2, "m2"), Version("g", 3, "m3")};
  s.aliases["g"] = {{"production", 1}};
  Plan plan = MakePlan(Policy(1, 30 * kDay), s);
  EXPECT_THAT(Names(plan, ItemKind::kCustomModel), ElementsAre("model-m2"));
  EXPECT_EQ(KeptReason(plan, "model-m1"), "version g/1 holds alias production");
  EXPECT_EQ(KeptReason(plan, "model-m3"), "version g/3 is among the newest 1 of its group");
  ASSERT_EQ(plan.items.size(), 1u);
  EXPECT_THAT(plan.items[0].versions, ElementsAre("g/2"));  // marked, not deleted
}

TEST(CleanupPlan, LastNVersionsPerGroupKept) {
  Snapshot s = Base();
  for (int i = 1; i <= 5; ++i) {
    s.custom_models.push_back(Model("a" + std::to_string(i), 100 * kDay));
    s.versions.push_back(Version("alpha", i, "a" + std::to_string(i)));
  }
  s.custom_models.push_back(Model("b1", 100 * kDay));
  s.versions.push_back(Version("beta", 1, "b1"));
  Plan plan = MakePlan(Policy(2, 30 * kDay), s);
  EXPECT_THAT(Names(plan, ItemKind::kCustomModel), ElementsAre("model-a1", "model-a2", "model-a3"));
  // keepVersions 0: only aliases protect.
  EXPECT_EQ(Names(MakePlan(Policy(0, 30 * kDay), s), ItemKind::kCustomModel).size(), 6u);
  // Unset: the newest version of each group stays.
  EXPECT_EQ(Names(MakePlan(Policy(-1, 30 * kDay), s), ItemKind::kCustomModel).size(), 4u);
}

TEST(CleanupPlan, InUseModelsKept) {
  Snapshot s = Base();
  s.custom_models = {Model("pt", 100 * kDay), Model("dep", 100 * kDay), Model("champ", 100 * kDay),
                     Model("base", 100 * kDay), Model("eval", 100 * kDay), Model("free", 100 * kDay),
                     Model("done", 100 * kDay)};
  s.throughputs = {Served("provisioned-model", "p1", ModelArn("pt"), kHour)};
  s.deployments = {Served("custom-model-deployment", "d1", ModelArn("dep"), kHour)};
  s.deployments[0].doc["_serving"] = {{"champion", {{"served", "g/1"}, {"modelArn", ModelArn("champ")}}}};
  store::ResourceRow job;
  job.kind = "job";
  job.id = "j1";
  job.status = "InProgress";
  job.doc = {{"baseModelArn", ModelArn("base")}};
  store::ResourceRow finished = job;
  finished.status = "Completed";
  finished.doc = {{"baseModelArn", ModelArn("done")}};
  s.jobs = {job, finished};
  store::ResourceRow ev;
  ev.kind = "evaluation-job";
  ev.status = "InProgress";
  ev.doc = {{"_models", {{{"arn", ModelArn("eval")}}}}};
  s.evaluation_jobs = {ev};
  Plan plan = MakePlan(Policy(0, 30 * kDay, 24 * kHour, 24 * kHour), s);
  EXPECT_THAT(Names(plan, ItemKind::kCustomModel), ElementsAre("model-free", "model-done"));
  for (const char* kept : {"model-pt", "model-dep", "model-champ", "model-base", "model-eval"})
    EXPECT_EQ(KeptReason(plan, kept), "in use") << kept;
}

TEST(CleanupPlan, DeploymentOnAnAliasProtectsTheResolvedVersion) {
  Snapshot s = Base();
  s.custom_models = {Model("m1", 100 * kDay), Model("m2", 100 * kDay)};
  s.versions = {Version("g", 1, "m1"), Version("g", 2, "m2")};
  s.aliases["g"] = {{"staging", 1}};
  s.deployments = {Served("custom-model-deployment", "d1", "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/2", kHour)};
  Plan plan = MakePlan(Policy(0, 30 * kDay), s);
  EXPECT_TRUE(Names(plan, ItemKind::kCustomModel).empty());
  EXPECT_EQ(KeptReason(plan, "model-m2"), "in use");
}

TEST(CleanupPlan, ModelOfAnIdleThroughputGoesWithIt) {
  Snapshot s = Base();
  s.custom_models = {Model("m", 100 * kDay)};
  s.throughputs = {Served("provisioned-model", "p", ModelArn("m"), 10 * kDay)};
  Plan plan = MakePlan(Policy(0, 30 * kDay, 24 * kHour), s);
  ASSERT_EQ(plan.items.size(), 2u);
  EXPECT_EQ(plan.items[0].kind, ItemKind::kThroughput);  // first: the model is free after it
  EXPECT_EQ(plan.items[1].kind, ItemKind::kCustomModel);
}

TEST(CleanupPlan, YoungModelsKept) {
  Snapshot s = Base();
  s.custom_models = {Model("young", 30 * kDay - 1), Model("old", 30 * kDay)};
  Plan plan = MakePlan(Policy(0, 30 * kDay), s);
  EXPECT_THAT(Names(plan, ItemKind::kCustomModel), ElementsAre("model-old"));
  EXPECT_EQ(KeptReason(plan, "model-young"), "2591999999ms old (deleted after 30d)");
}

TEST(CleanupPlan, IdleThresholdsAreExact) {
  Snapshot s = Base();
  s.throughputs = {Served("provisioned-model", "used", "x", 100 * kDay, 24 * kHour - 1),
                   Served("provisioned-model", "idle", "x", 100 * kDay, 24 * kHour),
                   Served("provisioned-model", "never", "x", 24 * kHour),      // creation counts as the last use
                   Served("provisioned-model", "new", "x", 24 * kHour - 1)};
  s.deployments = {Served("custom-model-deployment", "dused", "x", 100 * kDay, 2 * kHour - 1),
                   Served("custom-model-deployment", "didle", "x", 100 * kDay, 2 * kHour),
                   Served("custom-model-deployment", "dstats", "x", 100 * kDay, 5 * kHour)};
  s.deployment_last_request["dstats"] = kNow - kHour;  // the stats know a newer request than the row
  store::ResourceRow loading = Served("provisioned-model", "loading", "x", 100 * kDay);
  loading.status = "Creating";
  s.throughputs.push_back(loading);
  Plan plan = MakePlan(Policy(-1, -1, 24 * kHour, 2 * kHour), s);
  EXPECT_THAT(Names(plan, ItemKind::kThroughput), ElementsAre("served-idle", "served-never"));
  EXPECT_THAT(Names(plan, ItemKind::kDeployment), ElementsAre("served-didle"));
  EXPECT_EQ(KeptReason(plan, "served-loading"), "still loading (Creating)");
  EXPECT_EQ(plan.items[0].reason, "no request for 1d (idle after 1d)");
}

TEST(CleanupPlan, BytesCountedFromTheJobFolder) {
  Snapshot s = Base();
  s.custom_models = {Model("a", 100 * kDay), Model("b", 100 * kDay)};
  store::ResourceRow outside = Model("c", 100 * kDay);
  outside.doc["_dir"] = "/elsewhere/model";  // not lathe's files: nothing removed, nothing counted
  s.custom_models.push_back(outside);
  store::ResourceRow imported = Model("d", 100 * kDay);
  imported.doc["_dir"] = kDataDir + "/custom-models/d/";
  s.custom_models.push_back(imported);
  s.folder_bytes = {{"/data/jobs/job-a", 1000}, {"/data/jobs/job-b", 234}, {"/data/custom-models/d", 5}};
  Plan plan = MakePlan(Policy(0, 30 * kDay), s);
  ASSERT_EQ(plan.items.size(), 4u);
  EXPECT_EQ(plan.items[0].bytes, 1000u);
  EXPECT_THAT(plan.items[0].folders, ElementsAre("/data/jobs/job-a"));
  EXPECT_TRUE(plan.items[2].folders.empty());
  EXPECT_THAT(plan.items[3].folders, ElementsAre("/data/custom-models/d"));
  EXPECT_EQ(plan.total_bytes, 1239u);
}

TEST(CleanupPlan, HostileFoldersNeverLeaveTheDataDir) {
  store::ResourceRow m = Model("x", 0);
  for (const char* dir : {"/data/../etc", "/data/jobs/../../etc", "/data", "/data/jobs/", "/data/jobs/..", "/data/files/x",
                          "/datax/jobs/1", "relative/jobs/1", ""}) {
    m.doc["_dir"] = dir;
    EXPECT_TRUE(ModelFolders(m, kDataDir).empty()) << dir;
  }
  m.doc["_dir"] = 42;  // not a string: not a folder lathe made
  EXPECT_TRUE(ModelFolders(m, kDataDir).empty());
  m.doc["_dir"] = "/data/./jobs/j1/run/model";
  EXPECT_THAT(ModelFolders(m, kDataDir), ElementsAre("/data/jobs/j1"));
}

TEST(CleanupPlan, VersionsWhoseModelIsGoneAreMarkedOnce) {
  Snapshot s = Base();
  s.versions = {Version("g", 1, "gone"), Version("g", 2, ""), Version("g", 3, "gone2")};
  s.versions[2].metadata[kModelDeletedKey] = "2026-01-01T00:00:00Z";
  // An empty policy marks nothing; any part of a policy turns the marks on.
  EXPECT_TRUE(MakePlan(Policy(-1, -1), s).items.empty());
  Plan plan = MakePlan(Policy(-1, -1, 24 * kHour), s);
  EXPECT_THAT(Names(plan, ItemKind::kVersionMark), ElementsAre("g/1"));
}

TEST(CleanupPlan, OnlyThisServersModelArnsAreMarked) {
  Snapshot s = Base();
  s.versions = {Version("g", 1, "gone"), Version("g", 2, ""), Version("g", 3, "")};
  s.versions[1].custom_model_arn = "arn:aws:bedrock:eu-west-1:123456789012:custom-model/x/elsewhere";
  s.versions[2].custom_model_arn = "arn:aws:bedrock:us-east-1:999999999999:custom-model/x/other-account";
  Plan plan = MakePlan(Policy(0, 30 * kDay), s);
  EXPECT_THAT(Names(plan, ItemKind::kVersionMark), ElementsAre("g/1"));
}

TEST(CleanupPlan, ModelOfAnIdleDeploymentWaitsForIt) {
  Snapshot s = Base();
  s.custom_models = {Model("a", 400 * kDay)};
  s.deployments = {Served("custom-model-deployment", "d", "model-a", 400 * kDay)};
  Plan plan = MakePlan(Policy(0, 30 * kDay, -1, kHour), s);
  ASSERT_EQ(plan.items.size(), 2u);
  EXPECT_THAT(plan.items[1].after, ElementsAre(s.deployments[0].arn));
}

TEST(CleanupPlan, KeptListIsBounded) {
  Snapshot s = Base();
  for (size_t i = 0; i < kMaxKeptListed + 5; ++i) s.custom_models.push_back(Model("m" + std::to_string(i), kDay));
  Plan plan = MakePlan(Policy(0, 30 * kDay), s);
  EXPECT_EQ(plan.kept.size(), kMaxKeptListed);
  EXPECT_EQ(plan.kept_unlisted, 5u);
  EXPECT_EQ(PlanToJson(plan)["keptUnlisted"], 5);
}

TEST(RetentionPolicy, ParsesTheConfigObjectAndDurations) {
  auto p = service::RetentionPolicyFromJson(
      {{"keepVersions", 3}, {"modelMaxAge", "30d"}, {"idleThroughput", "24h"}, {"idleDeployment", "90m"}}, "retention");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->keep_versions, 3);
  EXPECT_EQ(p->model_max_age_ms, 30 * kDay);
  EXPECT_EQ(p->idle_throughput_ms, 24 * kHour);
  EXPECT_EQ(p->idle_deployment_ms, 90 * 60 * 1000);
  EXPECT_EQ(service::RetentionPolicyToJson(*p)["idleDeployment"], "90m");
  for (const nlohmann::json& bad :
       {nlohmann::json{{"keepVersions", -1}}, nlohmann::json{{"keepVersions", "3"}}, nlohmann::json{{"modelMaxAge", 30}},
        nlohmann::json{{"modelMaxAge", "30"}}, nlohmann::json{{"modelMaxAge", "30y"}}, nlohmann::json{{"modelMaxAge", "-1d"}},
        nlohmann::json{{"modelMaxAge", std::string(100, '9') + "d"}}, nlohmann::json{{"modelMaxAge", "99999999d"}},
        nlohmann::json{{"idle", "1h"}}, nlohmann::json::array()}) {
    auto r = service::RetentionPolicyFromJson(bad, "retention");
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad.dump();
  }
  auto off = service::RetentionPolicyFromJson({{"modelMaxAge", nullptr}}, "r", *p);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->model_max_age_ms, -1);
  EXPECT_EQ(off->idle_throughput_ms, 24 * kHour);
}

}  // namespace
}  // namespace lathe::cleanup
