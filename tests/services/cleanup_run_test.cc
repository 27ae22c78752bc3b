// The cleanup executor in-process: a dry run changes nothing; a real run deletes through the
// services, marks the registry, frees the bytes it promised; an interrupted run is finished by the
// next one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cleanup_fixture.h"
#include "services/cleanup/serve_cleanup.h"

namespace lathe::cleanup {
namespace {

namespace fs = std::filesystem;

TEST_F(CleanupFixture, DryRunChangesNothingAndCountsBytes) {
  AddModel("old", 40 * kDayMs, 5000);
  AddModel("young", kDayMs);
  auto report = cleaner_->Run(Policy(0, 30 * kDayMs), /*dry_run=*/true);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->plan.items.size(), 1u);
  EXPECT_EQ(report->plan.items[0].name, "model-old");
  EXPECT_EQ(report->plan.total_bytes, 5000u + 4u);  // the weights and the job's log
  EXPECT_TRUE(HasModel("old"));
  EXPECT_TRUE(HasFolder("old"));
  EXPECT_TRUE(report->results.empty());
}

TEST_F(CleanupFixture, RealRunDeletesMarksAndKeepsWhatThePolicyProtects) {
  const std::string a1 = AddModel("a1", 60 * kDayMs), a2 = AddModel("a2", 50 * kDayMs), a3 = AddModel("a3", 40 * kDayMs);
  const std::string b1 = AddModel("b1", 60 * kDayMs), served = AddModel("served", 60 * kDayMs);
  AddModel("loose", 60 * kDayMs, 300);
  Register("alpha", a1);
  Register("alpha", a2);
  Register("alpha", a3);
  Register("beta", b1);
  ASSERT_TRUE(registry_->SetAlias("alpha", "production", 1, "test", "first").ok());
  AddThroughput("busy", served, kHourMs);
  std::vector<std::string> progress;
  auto report = cleaner_->Run(Policy(1, 30 * kDayMs, 24 * kHourMs), false,
                              [&](const ItemResult& r) { progress.push_back(r.item.name + " " + r.outcome); });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_THAT(progress, ::testing::ElementsAre("model-loose deleted", "model-a2 deleted"));  // oldest first
  EXPECT_TRUE(HasModel("a1"));  // aliased
  EXPECT_TRUE(HasModel("a3"));  // newest of alpha
  EXPECT_TRUE(HasModel("b1"));  // newest of beta
  EXPECT_TRUE(HasModel("served"));
  EXPECT_FALSE(HasModel("a2"));
  EXPECT_FALSE(HasFolder("a2"));
  EXPECT_FALSE(HasFolder("loose"));
  EXPECT_EQ(report->freed_bytes, 1004u + 304u);
  auto v2 = registry_->GetVersion("alpha", 2);
  ASSERT_TRUE(v2.ok());  // lineage is history: the version stays
  EXPECT_EQ(v2->status, registry::VersionStatus::kArchived);
  EXPECT_TRUE(v2->metadata.count(kModelDeletedKey));
  EXPECT_THAT(v2->metadata[kModelDeletedReasonKey], ::testing::HasSubstr("old (deleted after 30d)"));
  EXPECT_TRUE(db()->List(kIntentKind)->empty());
  ExpectConsistent();
  // A second run finds nothing more.
  auto again = cleaner_->Run(Policy(1, 30 * kDayMs, 24 * kHourMs), false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->plan.items.empty());
}

TEST_F(CleanupFixture, IdleThroughputGoesThenItsModel) {
  const std::string m = AddModel("m", 60 * kDayMs);
  AddThroughput("idle", m, 25 * kHourMs);
  auto report = cleaner_->Run(Policy(0, 30 * kDayMs, 24 * kHourMs), false);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->results.size(), 2u);
  EXPECT_EQ(report->results[0].outcome, "deleted");
  EXPECT_EQ(report->results[1].outcome, "deleted");
  EXPECT_FALSE(db()->Find(service::kThroughputKind, "idle").ok());
  EXPECT_FALSE(HasModel("m"));
}

TEST_F(CleanupFixture, DeploymentUsedSinceThePlanIsKept) {
  store::ResourceRow d;
  d.kind = service::kDeploymentKind;
  d.id = d.name = "dep";
  d.arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep";
  d.status = "Active";
  d.created_ms = NowMillis() - 10 * kDayMs;
  ASSERT_TRUE(db()->Insert(d).ok());
  // The snapshot's stats say idle; by the time of the delete a request has come in.
  int asked = 0;
  hooks_.deployment_last_request = [&](const std::string&) { return ++asked == 1 ? int64_t{0} : NowMillis(); };
  Close();
  Open();
  service::RetentionPolicy p;
  p.idle_deployment_ms = kHourMs;
  auto report = cleaner_->Run(p, false);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->results.size(), 1u);
  EXPECT_EQ(report->results[0].outcome, "skipped: used since the plan was made");
  EXPECT_TRUE(db()->Find(service::kDeploymentKind, "dep").ok());
}

TEST_F(CleanupFixture, InUseRecheckedInsideTheServiceDelete) {
  const std::string m = AddModel("m", 60 * kDayMs);
  // Served by a deployment the snapshot did not see (created between the plan and the delete):
  // the custom model service's own Delete refuses, and nothing is touched.
  hooks_.deployment_serves = [&](const std::string& arn) { return arn == m; };
  ExpectOneSkipped(Policy(0, 30 * kDayMs), "skipped: Custom model model-m is in use");
  EXPECT_TRUE(HasModel("m"));
  EXPECT_TRUE(HasFolder("m"));
  EXPECT_TRUE(db()->List(kIntentKind)->empty());
}

TEST_F(CleanupFixture, DeploymentsWithoutAServerAreDeletedWithTheirStats) {
  store::ResourceRow d;
  d.kind = service::kDeploymentKind;
  d.id = "dep1";
  d.name = "dep";
  d.arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/dep1";
  d.status = "Active";
  d.created_ms = NowMillis() - 10 * kDayMs;
  d.doc = {{"lastInvokedMs", NowMillis() - 3 * kHourMs}};
  ASSERT_TRUE(db()->Insert(d).ok());
  store::ResourceRow stats;
  stats.kind = service::kDeploymentStatsKind;
  stats.id = stats.name = "dep1";
  ASSERT_TRUE(db()->Insert(stats).ok());
  service::RetentionPolicy p;
  p.idle_deployment_ms = 4 * kHourMs;
  auto kept = cleaner_->Run(p, false);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->plan.items.empty());
  p.idle_deployment_ms = 2 * kHourMs;
  auto gone = cleaner_->Run(p, false);
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->results.size(), 1u);
  EXPECT_EQ(gone->results[0].outcome, "deleted");
  EXPECT_FALSE(db()->Find(service::kDeploymentKind, "dep1").ok());
  EXPECT_FALSE(db()->Find(service::kDeploymentStatsKind, "dep1").ok());
}

TEST_F(CleanupFixture, NextRunFinishesAnInterruptedDeletion) {
  const std::string m = AddModel("m", 60 * kDayMs);
  Register("g", m);
  Register("g", AddModel("newer", kDayMs));
  // What a run killed after the model's row went leaves: the intent, the job folder half in
  // trash/, the version not yet marked.
  store::ResourceRow intent;
  intent.kind = kIntentKind;
  intent.id = intent.name = "m";
  intent.doc = {{"modelArn", m}, {"folders", {data_dir_ + "/jobs/job-m"}}, {"versions", {"g/1"}}, {"reason", "60d old"}};
  ASSERT_TRUE(db()->Insert(intent).ok());
  ASSERT_TRUE(db()->Delete(service::kCustomModelKind, "m").ok());
  fs::create_directories(data_dir_ + "/trash/m-1/run");
  ExpectConsistent();
  auto report = cleaner_->Run(service::RetentionPolicy{}, false);  // even with nothing to delete
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->recovered, 1u);
  EXPECT_FALSE(HasFolder("m"));
  EXPECT_TRUE(fs::is_empty(data_dir_ + "/trash"));
  EXPECT_TRUE(registry_->GetVersion("g", 1)->metadata.count(kModelDeletedKey));
  EXPECT_TRUE(db()->List(kIntentKind)->empty());
  ExpectConsistent();
}

TEST_F(CleanupFixture, IntentBeforeTheDeleteIsDropped) {
  const std::string m = AddModel("m", kDayMs);
  store::ResourceRow intent;
  intent.kind = kIntentKind;
  intent.id = intent.name = "m";
  intent.doc = {{"modelArn", m}, {"folders", {data_dir_ + "/jobs/job-m"}}, {"versions", nlohmann::json::array()}};
  ASSERT_TRUE(db()->Insert(intent).ok());
  auto report = cleaner_->Run(service::RetentionPolicy{}, false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->recovered, 0u);
  EXPECT_TRUE(HasModel("m"));  // the row never went: the model stays (too young for any policy)
  EXPECT_TRUE(HasFolder("m"));
  EXPECT_TRUE(db()->List(kIntentKind)->empty());
}

TEST_F(CleanupFixture, VersionOfAModelDeletedThroughTheApiIsMarked) {
  const std::string m = AddModel("m", kDayMs);
  Register("g", m);
  ASSERT_TRUE(registry_->SetAlias("g", "prod", 1, "t", "r").ok());
  ASSERT_TRUE(bedrock_->custom_models().Delete(m, [](const std::string&) { return false; }).ok());
  // An empty policy changes nothing, marks included.
  auto off = cleaner_->Run(service::RetentionPolicy{}, false);
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->plan.items.empty());
  EXPECT_FALSE(registry_->GetVersion("g", 1)->metadata.count(kModelDeletedKey));
  auto report = cleaner_->Run(Policy(0, 365 * kDayMs), false);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->results.size(), 1u);
  EXPECT_EQ(report->results[0].outcome, "marked");
  auto v = registry_->GetVersion("g", 1);
  EXPECT_TRUE(v->metadata.count(kModelDeletedKey));
  EXPECT_NE(v->status, registry::VersionStatus::kArchived);  // an aliased version may not be archived
  ExpectConsistent();
}


store::ResourceRow Deployment(const std::string& id, const std::string& model_arn, int64_t age_ms) {
  store::ResourceRow d;
  d.kind = service::kDeploymentKind;
  d.id = d.name = id;
  d.arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/" + id;
  d.status = "Active";
  d.created_ms = NowMillis() - age_ms;
  d.doc = {{"modelArn", model_arn}};
  return d;
}

TEST_F(CleanupFixture, ModelOfAnIdleDeploymentThatStaysIsKept) {
  const std::string m = AddModel("m", 60 * kDayMs);
  ASSERT_TRUE(db()->Insert(Deployment("dep", m, 10 * kDayMs)).ok());
  // What `lathe serve` sets until its DeploymentService deletes deployments: the delete is refused.
  hooks_.delete_deployment = [](const std::string& arn) { return Status::Unsupported("not here: " + arn); };
  Close();
  Open();
  service::RetentionPolicy p = Policy(0, 30 * kDayMs);
  p.idle_deployment_ms = kHourMs;
  auto report = cleaner_->Run(p, false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->results.size(), 2u);
  EXPECT_THAT(report->results[0].outcome, ::testing::StartsWith("skipped: not here"));
  EXPECT_THAT(report->results[1].outcome, ::testing::HasSubstr("which stays"));
  EXPECT_TRUE(HasModel("m"));
  EXPECT_TRUE(HasFolder("m"));
}

TEST_F(CleanupFixture, DeploymentRowMadeAfterThePlanKeepsItsModel) {
  const std::string m = AddModel("m", 60 * kDayMs);
  // Without a DeploymentService the in-use check reads the deployment rows themselves.
  hooks_.on_step = [&](const std::string& step) {
    if (step == "intent " + m) {
      ASSERT_TRUE(db()->Insert(Deployment("late", "model-m", 0)).ok());
    }
  };
  ExpectOneSkipped(Policy(0, 30 * kDayMs), "skipped: Custom model model-m is in use");
  EXPECT_TRUE(HasModel("m"));
}

TEST_F(CleanupFixture, AliasSetAfterThePlanKeepsTheModel) {
  const std::string old = AddModel("old", 60 * kDayMs);
  Register("g", old);
  Register("g", AddModel("new", kDayMs));
  hooks_.on_step = [&](const std::string& step) {
    if (step == "intent " + old) {
      ASSERT_TRUE(registry_->SetAlias("g", "production", 1, "t", "rollback").ok());
    }
  };
  ExpectOneSkipped(Policy(1, 30 * kDayMs), "skipped: Custom model model-old is in use");
  EXPECT_TRUE(HasModel("old"));
  EXPECT_TRUE(HasFolder("old"));
}

TEST_F(CleanupFixture, VersionNamingItsModelByNameOrIdProtectsIt) {
  Register("g", "model-byname");  // the version names the model by name
  AddModel("byname", 60 * kDayMs);
  Register("h", "byid");
  AddModel("byid", 60 * kDayMs);
  for (const char* group : {"g", "h"}) ASSERT_TRUE(registry_->SetAlias(group, "prod", 1, "t", "r").ok());
  auto report = cleaner_->Run(Policy(0, 30 * kDayMs), false);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->plan.items.empty());
  EXPECT_TRUE(HasModel("byname"));
  EXPECT_TRUE(HasModel("byid"));
}

TEST_F(CleanupFixture, IdleDeploymentReadsItsStatsRow) {
  ASSERT_TRUE(db()->Insert(Deployment("dep", "", 10 * kDayMs)).ok());
  {
    // A request an hour ago, as the last server flushed it (lastInvokedMs on the row is older).
    service::DeploymentStats stats(db());
    service::Outcome o;
    o.deployment_id = "dep";
    o.served = "m";
    o.time_ms = NowMillis() - kHourMs;
    stats.Record(o);
    ASSERT_TRUE(stats.Flush().ok());
  }
  service::RetentionPolicy p;
  p.idle_deployment_ms = 2 * kHourMs;
  auto report = cleaner_->Run(p, false);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->plan.items.empty());
  EXPECT_TRUE(db()->Find(service::kDeploymentKind, "dep").ok());
}

}  // namespace
}  // namespace lathe::cleanup

namespace lathe::cleanup {
namespace {

TEST_F(CleanupFixture, EndpointRequestIsChecked) {
  AddModel("old", 40 * kDayMs);
  service::RetentionPolicy configured;
  configured.model_max_age_ms = 30 * kDayMs;
  configured.keep_versions = 0;
  // The server's policy applies; the request's members override it.
  auto dry = HandleCleanupRequest(cleaner_.get(), configured, {{"dryRun", true}});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ((*dry)["items"].size(), 1u);
  EXPECT_EQ((*dry)["policy"]["modelMaxAge"], "30d");
  auto off = HandleCleanupRequest(cleaner_.get(), configured, {{"dryRun", true}, {"policy", {{"modelMaxAge", nullptr}}}});
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE((*off)["items"].empty());
  for (const nlohmann::json& bad :
       {nlohmann::json::array(), nlohmann::json{{"dryRun", "yes"}}, nlohmann::json{{"dryRun", 1}},
        nlohmann::json{{"policy", "30d"}}, nlohmann::json{{"policy", {{"modelMaxAge", 30}}}},
        nlohmann::json{{"policy", {{"keepVersions", 1e9}}}}, nlohmann::json{{std::string(10000, 'x'), true}},
        nlohmann::json{{"policy", {{"../../etc", "1d"}}}}, nlohmann::json{{"policy", {{std::string(10000, 'y'), "1d"}}}},
        nlohmann::json{{"policy", {{"idleThroughput", std::string(10000, '9') + "h"}}}},
        nlohmann::json{{"dataDir", 7}}, nlohmann::json{{"dataDir", ""}}, nlohmann::json{{"dataDir", std::string(5000, 'd')}},
        nlohmann::json{{"dataDir", "/elsewhere"}}, nlohmann::json{{"dataDir", data_dir_ + "/../other"}}}) {
    auto r = HandleCleanupRequest(cleaner_.get(), configured, bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad.dump().substr(0, 80);
    EXPECT_LT(r.status().message().size(), 400u);  // hostile names are not echoed whole
  }
  EXPECT_TRUE(HasModel("old"));
  // The data dir the caller means, in any spelling of it, is this server's.
  auto same = HandleCleanupRequest(cleaner_.get(), configured, {{"dryRun", true}, {"dataDir", data_dir_ + "/./"}});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
}

TEST_F(CleanupFixture, PeriodicCleanupRunsThePolicyUntilStopped) {
  AddModel("old", 40 * kDayMs);
  {
    PeriodicCleanup off(cleaner_.get(), service::RetentionPolicy{}, 1);
    off.Start();  // an empty policy starts nothing
    off.Stop();
    EXPECT_EQ(off.runs(), 0);
  }
  PeriodicCleanup periodic(cleaner_.get(), Policy(0, 30 * kDayMs), 1);
  periodic.Start();
  // A deadline, so a stuck loop fails the test instead of hanging it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (periodic.runs() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_GE(periodic.runs(), 2) << "periodic cleanup did not run twice within 60 s";
  periodic.Stop();
  EXPECT_FALSE(HasModel("old"));
}

}  // namespace
}  // namespace lathe::cleanup
