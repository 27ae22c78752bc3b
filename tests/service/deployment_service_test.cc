// Custom model deployments (DeploymentService) on the real stories260K model, in process: Bedrock's
// create/get/list/update/delete, bad input, the memory budget, registry references through a
// resolver the test controls (alias moves swap the routing snapshot; a request keeps the one it
// started with), provisioned throughput following an alias, InvokeModel/Converse on a deployment
// with lathe's headers, and a restart. Canaries and rollback: deployment_canary_test.cc.
#include "service/deployment_service.h"

#include <gtest/gtest.h>

#include "deployment_fixture.h"

namespace lathe::service {
namespace {

TEST_F(DeploymentServiceTest, TrafficSplitStickyUsersFeedbackAndStats) {
  const std::string arn = Create({{"modelDeploymentName", "ab"}, {"modelArn", kModelA}});
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  auto set = deployments().SetTraffic(arn, {{"challengerModelArn", kModelB}, {"challengerWeight", 0.5}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)["traffic"]["challengerWeight"], 0.5);
  std::string challenger_user;
  ASSERT_TRUE(Eventually([&] { return !(challenger_user = UserOn(deployments(), arn, Variant::kChallenger)).empty(); }));
  const std::string champion_user = UserOn(deployments(), arn, Variant::kChampion);
  ASSERT_FALSE(champion_user.empty());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {  // sticky: the same user meets the same variant every time
    auto c = deployments().Route(arn, challenger_user);
    auto p = deployments().Route(arn, champion_user);
    ASSERT_TRUE(c.ok() && p.ok());
    EXPECT_EQ(c->served, kModelB);
    EXPECT_EQ(p->served, kModelA);
    Outcome outcome;
    outcome.latency_ms = 10;
    outcome.output_tokens = 3;
    ids.push_back(deployments().Record(*c, outcome));
    deployments().Record(*p, outcome);
  }
  ASSERT_TRUE(deployments().AddFeedback({{"responseId", ids[0]}, {"rating", "up"}, {"comment", "good"}}).ok());
  EXPECT_EQ(deployments().AddFeedback({{"responseId", "resp-forgedforgedforged0"}, {"rating", "up"}}).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(deployments().AddFeedback({{"responseId", ids[1]}, {"rating", 1}}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().AddFeedback({{"responseId", ids[1]}, {"score", "high"}}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().AddFeedback({{"responseId", std::string(65, 'r')}}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().AddFeedback(json::array()).code(), Status::Code::kInvalidArgument);

  auto stats = deployments().Stats("ab", 5 * 60 * 1000);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  std::map<std::string, json> by_variant;
  for (const json& v : (*stats)["variants"]) by_variant[v["variant"]] = v;
  ASSERT_EQ(by_variant.size(), 2u) << stats->dump();
  EXPECT_EQ(by_variant["challenger"]["served"], kModelB);
  EXPECT_EQ(by_variant["challenger"]["window"]["requests"], 5);
  EXPECT_EQ(by_variant["challenger"]["window"]["feedback"], 1);
  EXPECT_EQ(by_variant["champion"]["total"]["outputTokens"], 15);

  // Bad traffic requests change nothing.
  EXPECT_EQ(deployments().SetTraffic(arn, {{"challengerWeight", 2}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().SetTraffic(arn, {{"rollbackPolicy", "on"}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().SetTraffic(arn, {{"challengerModelArn", "bank:nothing"}}).status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(deployments().SetTraffic("nope", {{"challengerWeight", 0}}).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(deployments().Route(arn, challenger_user)->served, kModelB);
  // Removing the challenger sends everyone to the champion.
  ASSERT_TRUE(deployments().SetTraffic(arn, {{"challengerModelArn", ""}}).ok());
  EXPECT_EQ(deployments().Route(arn, challenger_user)->served, kModelA);
}

TEST_F(DeploymentServiceTest, CreateGetListUpdateDelete) {
  const std::string arn = Create({{"modelDeploymentName", "bank-prod"}, {"modelArn", kModelA},
                                  {"description", "the bank's assistant"},
                                  {"tags", {{{"key", "team"}, {"value", "ml"}}}}});
  EXPECT_EQ(arn.rfind("arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment/", 0), 0u) << arn;
  EXPECT_EQ(ArnResource(arn).size(), std::string("custom-model-deployment/").size() + 12);
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; })) << StatusOf(arn);
  auto got = deployments().Get("bank-prod");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["customModelDeploymentArn"], arn);
  EXPECT_EQ((*got)["modelDeploymentName"], "bank-prod");
  EXPECT_EQ((*got)["modelArn"], kModelA);
  EXPECT_EQ((*got)["description"], "the bank's assistant");
  EXPECT_TRUE(got->contains("createdAt") && got->contains("lastUpdatedAt"));
  EXPECT_FALSE(got->contains("_serving"));
  EXPECT_EQ(service_->store()->Tags(arn)->at("team"), "ml");
  EXPECT_TRUE(deployments().Serves(kModelA));
  EXPECT_FALSE(deployments().Serves(kModelB));
  // DeleteCustomModel refuses a model a deployment serves.
  auto in_use = [&](const std::string& m) { return deployments().Serves(m); };
  EXPECT_EQ(service_->custom_models().Delete(kModelA, in_use).code(), Status::Code::kConflict);

  Create({{"modelDeploymentName", "other"}, {"modelArn", kModelB}});
  auto listed = deployments().List({{"nameContains", "bank"}});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ((*listed)["modelDeploymentSummaries"].size(), 1u);
  const json& summary = (*listed)["modelDeploymentSummaries"][0];
  EXPECT_EQ(summary["customModelDeploymentName"], "bank-prod");
  EXPECT_EQ(summary["modelArn"], kModelA);
  auto page = deployments().List({{"maxResults", "1"}, {"sortOrder", "Descending"}});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ((*page)["modelDeploymentSummaries"].size(), 1u);
  EXPECT_EQ((*page)["modelDeploymentSummaries"][0]["customModelDeploymentName"], "other");
  auto next = deployments().List({{"maxResults", "1"}, {"sortOrder", "Descending"}, {"nextToken", (*page)["nextToken"]}});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)["modelDeploymentSummaries"][0]["customModelDeploymentName"], "bank-prod");
  EXPECT_FALSE(next->contains("nextToken"));
  EXPECT_EQ((*deployments().List({{"modelArnEquals", kModelB}}))["modelDeploymentSummaries"].size(), 1u);
  EXPECT_EQ((*deployments().List({{"statusEquals", "Failed"}}))["modelDeploymentSummaries"].size(), 0u);
  EXPECT_EQ((*deployments().List({{"createdBefore", "2000-01-01T00:00:00Z"}}))["modelDeploymentSummaries"].size(), 0u);

  // Update swaps the model; a request routed before keeps the old one to its end.
  auto before = deployments().Route(arn, "");
  ASSERT_TRUE(before.ok());
  auto updated = deployments().Update(arn, {{"modelArn", kModelB}});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["customModelDeploymentArn"], arn);
  ASSERT_TRUE(Eventually([&] { return Serving(arn, kModelB); }));
  got = deployments().Get(arn);
  EXPECT_EQ((*got)["modelArn"], kModelB);
  EXPECT_EQ((*got)["updateDetails"], json({{"modelArn", kModelB}, {"updateStatus", "UpdateCompleted"}}));
  EXPECT_EQ(before->model_arn, kModelA);
  EXPECT_TRUE(before->pool->Acquire().ok());  // still usable

  ASSERT_TRUE(deployments().Delete(arn).ok());
  EXPECT_EQ(deployments().Get(arn).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(deployments().Route(arn, "").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(deployments().Delete(arn).code(), Status::Code::kNotFound);
  EXPECT_FALSE(deployments().Serves(kModelA));
}

TEST_F(DeploymentServiceTest, BadInputIsRefusedNamingTheMember) {
  auto code = [&](const json& req) { return deployments().Create(req).status(); };
  EXPECT_NE(code({{"modelArn", kModelA}}).message().find("modelDeploymentName"), std::string::npos);
  EXPECT_NE(code({{"modelDeploymentName", 7}, {"modelArn", kModelA}}).message().find("must be a string"), std::string::npos);
  EXPECT_NE(code({{"modelDeploymentName", std::string(64, 'a')}, {"modelArn", kModelA}}).message().find("63"),
            std::string::npos);
  for (const std::string& hostile : std::vector<std::string>{"../etc/passwd", "a b", std::string("a\0b", 3), "name;drop", "\xc3\xa9t\xc3\xa9"})
    EXPECT_EQ(code({{"modelDeploymentName", hostile}, {"modelArn", kModelA}}).code(), Status::Code::kInvalidArgument)
        << hostile;
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", json::array()}}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", std::string(1012, 'a')}}).code(),
            Status::Code::kInvalidArgument);
  // A well-formed ARN of a model that does not exist (forged), and one of another shape.
  EXPECT_EQ(code({{"modelDeploymentName", "d"},
                  {"modelArn", "arn:aws:bedrock:us-east-1:000000000000:custom-model/acme.stories/zzzzzzzzzzzz"}})
                .code(),
            Status::Code::kNotFound);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", "arn:aws:s3:::bucket/custom-model/x"}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", kModelA}, {"description", ""}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", kModelA}, {"description", std::string(2049, 'x')}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", kModelA}, {"tags", "x"}}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(code({{"modelDeploymentName", "d"}, {"modelArn", kModelA}, {"clientRequestToken", "-bad-"}}).code(),
            Status::Code::kInvalidArgument);

  // clientRequestToken: the same token creates once; a second name taken is a ConflictException.
  const json req = {{"modelDeploymentName", "d1"}, {"modelArn", kModelA}, {"clientRequestToken", "tok-1"}};
  const std::string arn = Create(req);
  EXPECT_EQ(Create(req), arn);
  Status dup = code({{"modelDeploymentName", "d1"}, {"modelArn", kModelB}});
  EXPECT_EQ(dup.code(), Status::Code::kConflict) << dup.ToString();

  // Identifiers: oversize, forged, hostile.
  EXPECT_EQ(deployments().Get(std::string(94, 'a')).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().Get("").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().Get("arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment/zzzzzzzzzzzz").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(deployments().Get("../d1").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(deployments().Update("d1", {{"modelArn", 5}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().Update("d1", json::object()).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().Update("nope", {{"modelArn", kModelB}}).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(deployments().List({{"statusEquals", "Deleting"}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().List({{"maxResults", "0"}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().List({{"nextToken", "forged"}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(deployments().List({{"createdAfter", "yesterday"}}).status().code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  EXPECT_EQ(deployments().Route(arn, std::string(kMaxUserIdBytes + 1, 'u')).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(deployments().Route(arn, std::string(kMaxUserIdBytes, 'u')).ok());
}

TEST_F(DeploymentServiceTest, TheMemoryBudgetRefusesAtOnce) {
  service_.reset();
  config_.model_memory_bytes = 1024;  // nothing fits
  Open();
  Status s = deployments().Create({{"modelDeploymentName", "big"}, {"modelArn", kModelA}}).status();
  EXPECT_EQ(s.code(), Status::Code::kQuotaExceeded) << s.ToString();
  EXPECT_EQ(deployments().Get("big").status().code(), Status::Code::kNotFound);
}

TEST_F(DeploymentServiceTest, RegistryReferencesFollowTheAliasAndSwapWholeSnapshots) {
  registry_.Point("bank:production", kModelA, "bank/1");
  const std::string arn = Create({{"modelDeploymentName", "bank"}, {"modelArn", "bank:production"}});
  ASSERT_TRUE(Eventually([&] { return Serving(arn, "bank/1"); }));
  EXPECT_EQ((*deployments().Get(arn))["modelArn"], "bank:production");
  auto held = deployments().Route("bank", "");  // by name, too
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->model_arn, kModelA);

  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_TRUE(Eventually([&] {
    deployments().FollowOnce();
    return Serving(arn, "bank/2");
  }));
  EXPECT_EQ(deployments().Route(arn, "")->model_arn, kModelB);
  EXPECT_EQ(held->served, "bank/1");  // the request that started before the move keeps its model
  EXPECT_TRUE(held->pool->Acquire().ok());
  EXPECT_TRUE(deployments().Serves(kModelB));

  // An alias that no longer resolves leaves the last holder serving.
  {
    std::lock_guard<std::mutex> lock(registry_.mu);
    registry_.refs.erase("bank:production");
  }
  deployments().FollowOnce();
  EXPECT_TRUE(Serving(arn, "bank/2"));

  // A fixed version, and the forms the resolver is never asked for.
  registry_.Point("bank/1", kModelA, "bank/1");
  const std::string fixed = Create({{"modelDeploymentName", "fixed"}, {"modelArn", "bank/1"}});
  ASSERT_TRUE(Eventually([&] { return Serving(fixed, "bank/1"); }));
  EXPECT_EQ(deployments().Create({{"modelDeploymentName", "x"}, {"modelArn", "bank:staging"}}).status().code(),
            Status::Code::kNotFound);
}

TEST_F(DeploymentServiceTest, ProvisionedThroughputOnAnAliasFollowsIt) {
  registry_.Point("bank:production", kModelA, "bank/1");
  auto created = service_->throughput().Create(
      {{"provisionedModelName", "pt"}, {"modelUnits", 1}, {"modelId", "bank:production"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string pt = (*created)["provisionedModelArn"];
  auto model_of = [&] {
    auto got = service_->throughput().Get(pt);
    return got.ok() && (*got)["status"] == "InService" ? (*got)["modelArn"].get<std::string>() : "";
  };
  ASSERT_TRUE(Eventually([&] { return model_of() == kModelA; }));
  auto held = service_->throughput().PoolFor(pt);
  ASSERT_TRUE(held.ok());
  registry_.Point("bank:production", kModelB, "bank/2");
  ASSERT_TRUE(Eventually([&] {
    deployments().FollowOnce();
    return model_of() == kModelB;
  }));
  EXPECT_TRUE(service_->throughput().Serves(kModelB));
  EXPECT_TRUE((*held)->Acquire().ok());
}

TEST_F(DeploymentServiceTest, WithoutARegistryReferencesAreRefused) {
  service_->deployments().set_resolver(nullptr);
  Status s = deployments().Create({{"modelDeploymentName", "d"}, {"modelArn", "bank:production"}}).status();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("registry"), std::string::npos);
}

TEST_F(DeploymentServiceTest, RuntimeAnswersOnADeploymentWithLatheHeaders) {
  registry_.Point("bank:production", kModelA, "bank/1");
  const std::string arn = Create({{"modelDeploymentName", "bank"}, {"modelArn", "bank:production"}});
  // Until the model loads: ModelNotReadyException, or the answer once it has.
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  auto invoked = service_->runtime().Invoke(arn, R"({"inputText": "Once upon a time", "textGenerationConfig": {"maxTokenCount": 8, "temperature": 0}})", "user-7");
  ASSERT_TRUE(invoked.ok()) << invoked.status().ToString();
  std::map<std::string, std::string> headers(invoked->headers.begin(), invoked->headers.end());
  EXPECT_EQ(headers["x-lathe-variant"], "champion");
  EXPECT_EQ(headers["x-lathe-served-model"], "bank/1");
  EXPECT_EQ(headers["x-lathe-response-id"].rfind("resp-", 0), 0u);
  EXPECT_TRUE(invoked->body.contains("results"));
  auto conversed = service_->runtime().Converse(
      "bank", R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"maxTokens": 8},
                  "requestMetadata": {"userId": "user-7"}})");
  ASSERT_TRUE(conversed.ok()) << conversed.status().ToString();
  EXPECT_EQ(conversed->headers.size(), 3u);
  // Other kinds answer without them.
  auto plain = service_->runtime().Invoke(kModelA, R"({"inputText": "Hi", "textGenerationConfig": {"maxTokenCount": 4}})");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->headers.empty());
  EXPECT_EQ(service_->runtime().Invoke(arn, R"({"inputText": "Hi"})", std::string(300, 'u')).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(DeploymentServiceTest, DeploymentsComeBackAfterARestart) {
  const std::string arn = Create({{"modelDeploymentName", "kept"}, {"modelArn", kModelA}});
  ASSERT_TRUE(Eventually([&] { return StatusOf(arn) == "Active"; }));
  service_.reset();
  Open();
  ASSERT_TRUE(Eventually([&] { return Serving(arn, kModelA); }));
  EXPECT_EQ(StatusOf("kept"), "Active");
}

TEST(ModelReference, RegistryFormsAreToldFromModelIds) {
  for (const std::string& ref : std::vector<std::string>{"bank:production", "bank-assistant/12", "b/1",
                                "arn:aws:sagemaker:us-east-1:000000000000:model-package-group/bank:production",
                                "arn:aws:sagemaker:us-east-1:000000000000:model-package/bank/3"})
    EXPECT_TRUE(IsRegistryReference(ref)) << ref;
  for (const std::string& ref : std::vector<std::string>{"", "lathe.default-v1", "anthropic.claude-v2:1", "amazon.titan-text-express-v1:0:8k", "my-custom-model",
        "bank:", ":alias", "bank/0", "bank/01", "bank/x", "bank/1/2", "bank:a:b", "-bank:prod", "ba_nk:prod",
        "arn:aws:bedrock:us-east-1:000000000000:custom-model/acme.stories/aaaaaaaaaaaa",
        "arn:aws:sagemaker:us-east-1:000000000000:model-package-group/bank",
        "arn:aws:sagemaker:us-east-1:000000000000:model-package/bank:prod",
        "arn:aws:sagemaker:us-east-1:000000000000:endpoint/bank:prod", "arn:aws:sagemaker",
        std::string(64, 'a') + ":prod", "bank:" + std::string(3000, 'a')})
    EXPECT_FALSE(IsRegistryReference(ref)) << ref;
}

}  // namespace
}  // namespace lathe::service
