// A registry over a fresh lathe.db in a temporary folder, with a clock the test sets.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "services/registry/registry.h"
#include "store/metadata_store.h"
#include "test_util.h"

namespace lathe::registry {

inline constexpr const char* kRegion = "us-east-1";
inline constexpr const char* kAccount = "123456789012";
inline const std::string kSha1(64, 'a');
inline const std::string kSha2(64, 'b');

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenStore();
    registry_ = MakeRegistry(db_.get());
  }

  std::unique_ptr<store::MetadataStore> OpenStore() {
    auto opened = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(*opened);
  }

  std::unique_ptr<Registry> MakeRegistry(store::MetadataStore* db) {
    auto r = std::make_unique<Registry>(db, kRegion, kAccount);
    r->set_clock([this] { return now_.load(); });
    return r;
  }

  static DataObject Data(const std::string& uri, const std::string& sha256 = "", uint64_t records = 10) {
    DataObject d;
    d.uri = uri;
    d.purpose = "training";
    d.sha256 = sha256;
    d.records = records;
    d.format = "prompt-completion";
    return d;
  }

  static NewVersion Version(const std::string& group, std::vector<DataObject> data = {}) {
    NewVersion v;
    v.group = group;
    v.custom_model_arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0/abc";
    v.base_model = "amazon.nova-micro-v1:0";
    v.training_job_arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/xyz";
    v.hyperparameters = {{"epochCount", "2"}, {"learningRate", "0.0001"}};
    v.data = std::move(data);
    v.created_by = "pipeline";
    return v;
  }

  // Registers and expects success; returns the version number.
  int Register(const std::string& group, std::vector<DataObject> data = {}) {
    auto v = registry_->Register(Version(group, std::move(data)));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->version : 0;
  }

  size_t Events(const std::string& detail_type) {
    auto events = db_->EventsAfter(0, 100000);
    EXPECT_TRUE(events.ok());
    size_t n = 0;
    for (const auto& e : *events) n += e.source == "lathe.registry" && e.detail_type == detail_type;
    return n;
  }

  lathe::testing::TempDir dir_;
  std::atomic<int64_t> now_{1'790'000'000'000};
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace lathe::registry
