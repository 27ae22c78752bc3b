// A BedrockService on the real stories260K model ("test.stories"), with the real `lathe train`
// as its worker and the test's folder as its file root: for tests that run jobs end to end.
// Skips when ../shared is absent.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {

// ../shared's stories260K imported into `folder` (a Hugging Face layout folder); the caller skips
// first when lathe::testing::SharedDir() is empty.
inline Status ImportStories260K(const std::string& folder) {
  const std::string stories = lathe::testing::SharedDir() + "/models/stories260K";
  auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", folder);
  return imported.ok() ? Status::Ok() : imported.status();
}

class StoriesService : public ::testing::Test {
 protected:
  void SetUp() override {
    if (lathe::testing::SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    Status imported = ImportStories260K(dir_.File("stories"));
    ASSERT_TRUE(imported.ok()) << imported.ToString();
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.models = {{"test.stories", dir_.File("stories")}};
    config.file_roots = {dir_.path()};
    config.worker_binary = LATHE_BINARY;
    auto opened = BedrockService::Open(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
  }
  lathe::testing::TempDir dir_;
  std::unique_ptr<BedrockService> bedrock_;
};

}  // namespace lathe::service
