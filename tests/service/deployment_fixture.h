// The fixture deployment_service_test.cc and deployment_canary_test.cc share: a BedrockService on
// the real stories260K model (two custom model rows on it), a registry the test moves by hand,
// and a clock the test sets.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/arn.h"
#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "service/deployment_service.h"
#include "test_util.h"

namespace lathe::service {

using lathe::testing::Eventually;
using lathe::testing::SharedDir;
using lathe::testing::TempDir;
using nlohmann::json;

inline const std::string kModelA = "arn:aws:bedrock:us-east-1:000000000000:custom-model/acme.stories/aaaaaaaaaaaa";
inline const std::string kModelB = "arn:aws:bedrock:us-east-1:000000000000:custom-model/acme.stories/bbbbbbbbbbbb";

// A registry the test moves by hand: reference -> what it resolves to. Its rollback is the real
// one's compare and set (registry::Registry::MoveAliasIf): it moves only from the expected holder.
struct FakeRegistry {
  std::mutex mu;
  std::map<std::string, ResolvedModel> refs;
  std::map<std::string, ResolvedModel> versions;  // "<group>/<version>" -> what it serves
  std::vector<std::string> rollbacks;              // the references moved back, one per move
  bool refuse_rollbacks = false;                   // every rollback fails (a registry that is down)
  ModelResolver resolver() {
    return [this](const std::string& ref) -> Result<ResolvedModel> {
      std::lock_guard<std::mutex> lock(mu);
      auto it = refs.find(ref);
      if (it == refs.end()) return Status::NotFound("no " + ref);
      return it->second;
    };
  }
  AliasRollback rollback() {
    return [this](const std::string& ref, const std::string& expected, const std::string& target, const std::string&,
                  const std::string&) -> Result<bool> {
      std::lock_guard<std::mutex> lock(mu);
      if (refuse_rollbacks) return Status::Internal("the registry is down");
      auto it = refs.find(ref);
      if (it == refs.end() || it->second.version != expected || !versions.count(target)) return false;
      it->second = versions[target];
      it->second.follows_alias = true;
      rollbacks.push_back(ref);
      return true;
    };
  }
  void Point(const std::string& ref, const std::string& arn, const std::string& version) {
    std::lock_guard<std::mutex> lock(mu);
    refs[ref] = ResolvedModel{arn, version, ref.find(':') != std::string::npos, ""};
    versions[version] = ResolvedModel{arn, version, false, ""};
  }
  std::string Holder(const std::string& ref) {
    std::lock_guard<std::mutex> lock(mu);
    return refs.count(ref) ? refs[ref].version : "";
  }
};

class DeploymentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K";
    const std::string stories = SharedDir() + "/models/stories260K";
    dir_ = tmp_.File("stories");
    ASSERT_TRUE(engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_).ok());
    config_.data_dir = tmp_.File("data");
    config_.models["acme.stories"] = dir_;
    Open();
  }
  void Open() {
    auto s = BedrockService::Open(config_, /*start=*/false);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
    for (const std::string& arn : {kModelA, kModelB}) {
      store::ResourceRow row;
      row.kind = kCustomModelKind;
      row.id = ArnResource(arn).substr(ArnResource(arn).rfind('/') + 1);
      row.name = "model-" + row.id.substr(0, 1);
      row.arn = arn;
      row.status = "Active";
      row.doc = {{"modelArn", arn}, {"modelName", row.name}, {"baseModelName", "acme.stories"}, {"_dir", dir_}};
      Status inserted = service_->store()->Insert(row);
      ASSERT_TRUE(inserted.ok() || inserted.code() == Status::Code::kAlreadyExists) << inserted.ToString();
    }
    service_->deployments().set_resolver(registry_.resolver());
    service_->deployments().set_alias_rollback(registry_.rollback());
    service_->deployments().set_clock([this] { return now_.load(); });
    service_->throughput().set_resolver(registry_.resolver());
    service_->Start();
  }
  DeploymentService& deployments() { return service_->deployments(); }
  std::string Create(const json& request) {
    auto created = deployments().Create(request);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? (*created)["customModelDeploymentArn"].get<std::string>() : "";
  }
  std::string StatusOf(const std::string& id) {
    auto got = deployments().Get(id);
    return got.ok() ? (*got)["status"].get<std::string>() : got.status().ToString();
  }
  bool Serving(const std::string& id, const std::string& served) {
    auto routed = deployments().Route(id, "");
    return routed.ok() && routed->served == served;
  }

  TempDir tmp_;
  std::string dir_;
  ServiceConfig config_;
  FakeRegistry registry_;
  std::atomic<int64_t> now_{1'790'000'000'000};
  std::unique_ptr<BedrockService> service_;
};

// A user id the deployment routes to `variant` (sticky), or "" when none of 200 is.
inline std::string UserOn(DeploymentService& d, const std::string& id, Variant variant) {
  for (int i = 0; i < 200; ++i) {
    const std::string user = "user-" + std::to_string(i);
    auto routed = d.Route(id, user);
    if (routed.ok() && routed->variant == variant) return user;
  }
  return "";
}

}  // namespace lathe::service
