// A BedrockService whose one model, "test.stories", is ../shared's stories260K (imported into a
// temporary folder): the runtime streaming tests of tests/service and tests/services share it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {

class StoriesServiceTest : public ::testing::Test {
 protected:
  static constexpr const char* kModel = "test.stories";
  void SetUp() override {
    if (lathe::testing::SharedDir().empty())
      GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    const std::string stories = lathe::testing::SharedDir() + "/models/stories260K";
    auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_.File("stories"));
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    config_.data_dir = dir_.path() + "/data";
    config_.models = {{kModel, dir_.File("stories")}};
    auto opened = BedrockService::Open(config_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
  }
  lathe::testing::TempDir dir_;
  ServiceConfig config_;
  std::unique_ptr<BedrockService> bedrock_;
};

}  // namespace lathe::service
