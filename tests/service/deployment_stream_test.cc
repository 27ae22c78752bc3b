// A stream on a custom model deployment: its headers name the response id up front, and the
// outcome is counted under that id at the end (feedback on it works, stats count its tokens).
#include "service/deployment_fixture.h"

namespace lathe::service {
namespace {

TEST_F(DeploymentServiceTest, AStreamIsCountedUnderTheResponseIdItsHeadersName) {
  const std::string arn = Create({{"modelDeploymentName", "streamed"}, {"modelArn", kModelA}});
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  auto started = service_->runtime().InvokeStream(
      arn, R"({"inputText": "Once upon a time", "textGenerationConfig": {"maxTokenCount": 8, "temperature": 0}})");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::map<std::string, std::string> headers((*started)->headers().begin(), (*started)->headers().end());
  EXPECT_EQ(headers["x-lathe-variant"], "champion");
  EXPECT_EQ(headers["x-lathe-served-model"], kModelA);
  const std::string id = headers["x-lathe-response-id"];
  ASSERT_EQ(id.rfind("resp-", 0), 0u) << id;
  auto end = (*started)->Run([](std::string_view) { return true; });
  ASSERT_TRUE(end.ok()) << end.status().ToString();

  EXPECT_TRUE(deployments().AddFeedback({{"responseId", id}, {"rating", "up"}}).ok());
  auto stats = deployments().Stats("streamed", 5 * 60 * 1000);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  const json& champion = (*stats)["variants"][0];
  EXPECT_EQ(champion["window"]["requests"], 1);
  EXPECT_EQ(champion["window"]["feedback"], 1);
  EXPECT_EQ(champion["total"]["outputTokens"], end->result.tokens.size());
}

}  // namespace
}  // namespace lathe::service
