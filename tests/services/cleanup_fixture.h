// A data directory with custom models (rows and folders, as a finished job leaves them), registry
// versions and aliases, and provisioned throughput, opened as `lathe cleanup` opens it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "core/arn.h"
#include "service/bedrock_service.h"
#include "service/deployment_service.h"
#include "service/deployment_stats.h"
#include "services/cleanup/cleaner.h"
#include "services/registry/registry.h"
#include "test_util.h"

namespace lathe::cleanup {

inline constexpr int64_t kHourMs = 3600 * 1000, kDayMs = 24 * kHourMs;

class CleanupFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = dir_.path() + "/data";
    Open();
  }

  void Open() {
    service::ServiceConfig config;
    config.data_dir = data_dir_;
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";
    config.scope.account = "123456789012";
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    registry_ = std::make_unique<registry::Registry>(bedrock_->store(), config.scope.region, config.scope.account);
    cleaner_ = std::make_unique<Cleaner>(bedrock_.get(), registry_.get(), hooks_);
  }
  void Close() {
    cleaner_.reset();
    registry_.reset();
    bedrock_.reset();
  }

  store::MetadataStore* db() { return bedrock_->store(); }

  // A custom model `age_ms` old whose job folder holds `bytes` bytes of weights; returns its ARN.
  std::string AddModel(const std::string& id, int64_t age_ms, size_t bytes = 1000) {
    const std::string job_dir = data_dir_ + "/jobs/job-" + id;
    std::filesystem::create_directories(job_dir + "/run/model");
    std::ofstream(job_dir + "/run/model/model.safetensors") << std::string(bytes, 'w');
    std::ofstream(job_dir + "/train.log") << "log\n";
    store::ResourceRow m;
    m.kind = service::kCustomModelKind;
    m.id = id;
    m.name = "model-" + id;
    m.arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/lathe.default-v1/" + id;
    m.status = "Active";
    m.created_ms = NowMillis() - age_ms;
    m.doc = {{"modelArn", m.arn}, {"modelName", m.name}, {"_dir", job_dir + "/run/model"}};
    EXPECT_TRUE(db()->Insert(m).ok());
    return m.arn;
  }

  int Register(const std::string& group, const std::string& model_arn) {
    registry::NewVersion v;
    v.group = group;
    v.custom_model_arn = model_arn;
    v.base_model = service::kDefaultModelId;
    v.created_by = "test";
    auto r = registry_->Register(v);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->version : 0;
  }

  std::string AddThroughput(const std::string& id, const std::string& model_arn, int64_t idle_ms) {
    store::ResourceRow r;
    r.kind = service::kThroughputKind;
    r.id = id;
    r.name = "pt-" + id;
    r.arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/" + id;
    r.status = "InService";
    r.created_ms = NowMillis() - idle_ms;
    r.doc = {{"provisionedModelArn", r.arn}, {"modelArn", model_arn}, {"desiredModelArn", model_arn}};
    EXPECT_TRUE(db()->Insert(r).ok());
    return r.arn;
  }

  // Reopens with hooks_ set, runs `policy` for real, and expects one item, skipped with an outcome
  // starting with `outcome`.
  void ExpectOneSkipped(const service::RetentionPolicy& policy, const std::string& outcome) {
    Close();
    Open();
    auto report = cleaner_->Run(policy, false);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->results.size(), 1u);
    EXPECT_EQ(report->results[0].outcome.substr(0, outcome.size()), outcome) << report->results[0].outcome;
  }

  bool HasModel(const std::string& id) { return db()->Find(service::kCustomModelKind, id).ok(); }
  bool HasFolder(const std::string& id) { return std::filesystem::exists(data_dir_ + "/jobs/job-" + id); }

  static service::RetentionPolicy Policy(int keep, int64_t max_age, int64_t idle_pt = -1) {
    service::RetentionPolicy p;
    p.keep_versions = keep;
    p.model_max_age_ms = max_age;
    p.idle_throughput_ms = idle_pt;
    return p;
  }

  // lathe.db agrees with the disk: every custom model row has its folder, and every version whose
  // custom model is gone is marked or named by a pending intent.
  void ExpectConsistent() {
    auto models = db()->List(service::kCustomModelKind);
    ASSERT_TRUE(models.ok());
    for (const auto& m : *models)
      EXPECT_TRUE(std::filesystem::exists(m.doc.value("_dir", ""))) << m.arn << " lost its folder";
    auto intents = db()->List(kIntentKind);
    ASSERT_TRUE(intents.ok());
    std::set<std::string> pending;
    for (const auto& i : *intents)
      for (const auto& v : i.doc["versions"]) pending.insert(v.get<std::string>());
    auto groups = registry_->ListGroups({});
    ASSERT_TRUE(groups.ok());
    for (const auto& g : *groups) {
      auto versions = registry_->ListVersions(g.name, {});
      ASSERT_TRUE(versions.ok());
      for (const auto& v : *versions) {
        const std::string key = v.group + "/" + std::to_string(v.version);
        if (!db()->Find(service::kCustomModelKind, v.custom_model_arn).ok())
          EXPECT_TRUE(v.metadata.count(kModelDeletedKey) || pending.count(key)) << key << " points at a missing model";
        else
          EXPECT_FALSE(v.metadata.count(kModelDeletedKey)) << key << " marked but its model is there";
      }
    }
  }

  lathe::testing::TempDir dir_;
  std::string data_dir_;
  CleanupHooks hooks_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<Cleaner> cleaner_;
};

}  // namespace lathe::cleanup
