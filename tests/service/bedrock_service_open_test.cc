// BedrockService::Open on a data directory another instance holds: Conflict, and the half-made
// instance it discards is destroyed safely (its destructor once dereferenced a catalog that was
// never made: `lathe cleanup` beside a running server crashed with SIGSEGV).
#include <gtest/gtest.h>

#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {
namespace {

TEST(BedrockServiceOpen, ASecondOpenOfTheSameDataDirIsAConflictNotACrash) {
  lathe::testing::TempDir tmp;
  ServiceConfig config;
  config.data_dir = tmp.File("data");
  auto first = BedrockService::Open(config, /*start=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = BedrockService::Open(config, /*start=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kConflict);
  EXPECT_NE(second.status().message().find("another lathe serve"), std::string::npos);
}

}  // namespace
}  // namespace lathe::service
