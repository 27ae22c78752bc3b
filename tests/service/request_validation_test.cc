// Hostile and mistyped request data reaches the services as a 400 ValidationException naming the
// member, never as a crash (deep JSON, huge strings) or a 500 (wrong JSON types, forged tokens).
// The services are called directly, as the API layer calls them; no sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/page_token.h"
#include "service/bedrock_service.h"
#include "service/request_fields.h"
#include "service/resource_json.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::TempDir;

// A 400 ValidationException whose message contains `needle` (the member's name, usually).
void ExpectValidation(const Status& s, const std::string& needle) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

std::string Deep(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(ParseRequestJson, NestingIsBoundedBeforeParsing) {
  // 200,000 levels in a 400 KB body overflowed the stack in the parser.
  auto r = ParseRequestJson(R"({"jobName": "j", "jobTags": )" + Deep(200000) + "}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "JSON nests deeper than 64 levels");
  EXPECT_TRUE(ParseRequestJson(Deep(kMaxRequestJsonDepth)).ok());
  EXPECT_FALSE(ParseRequestJson(Deep(kMaxRequestJsonDepth + 1)).ok());
  EXPECT_TRUE(ParseRequestJson(R"({"a": ")" + std::string(100000, '[') + R"("})").ok());  // inside a string
  r = ParseRequestJson(R"({"a": 1,})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid JSON"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("(byte 9)"), std::string::npos) << r.status().message();
}

TEST(RequestFields, WrongTypesNameTheMember) {
  const json req = json::parse(R"({"config": {"s3Uri": 5}, "name": ["x"], "units": "2", "kind": 3, "list": {}})");
  auto s3 = RequireString(req["config"], "s3Uri", rules::kS3Uri, "config", Check::kLengthOnly);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().message(),
            "1 validation error detected: Value at 'config.s3Uri' failed to satisfy constraint: Member must be a "
            "string (found number)");
  ExpectValidation(RequireString(req, "name", rules::kJobName).status(), "'name'");
  ExpectValidation(RequireString(req, "absent", rules::kJobName).status(), "'absent' failed to satisfy constraint: Member must not be null");
  ExpectValidation(RequireInteger(req, "units", 1, 64).status(), "must be an integer (found string)");
  ExpectValidation(OptionalEnum(req, "kind", {"A", "B"}, "A").status(), "'kind'");
  ExpectValidation(OptionalList(req, "list", 10).status(), "must be a list (found object)");
  ExpectValidation(RequireObject(req, "name").status(), "must be an object (found array)");
  EXPECT_EQ(*OptionalEnum(json::parse(R"({"kind": null})"), "kind", {"A", "B"}, "B"), "B");  // null is absent
}

TEST(RequestFields, TagListsAreCheckedNotSkipped) {
  auto tags = [](const std::string& list) { return TagList(json::parse(R"({"jobTags": )" + list + "}"), "jobTags"); };
  ASSERT_TRUE(tags(R"([{"key": "team", "value": ""}])").ok());
  EXPECT_EQ(tags(R"([{"key": "team", "value": "ml"}])")->at("team"), "ml");
  ExpectValidation(tags(R"({"key": "team", "value": "ml"})").status(), "'jobTags' failed to satisfy constraint: Member must be a list");
  ExpectValidation(tags(R"([{"key": 5, "value": "ml"}])").status(), "'jobTags.1.member.key'");
  ExpectValidation(tags(R"([{"key": "a"}, 7])").status(), "'jobTags.1.member.value'");
  ExpectValidation(tags(R"([{"key": "a", "value": "b"}, 7])").status(), "'jobTags.2.member'");
  ExpectValidation(tags(R"([{"key": ")" + std::string(129, 'k') + R"(", "value": "v"}])").status(),
                   "length less than or equal to 128");
  ExpectValidation(tags(R"([{"key": "k", "value": ")" + std::string(257, 'v') + R"("}])").status(),
                   "length less than or equal to 256");
  ExpectValidation(tags(R"([{"key": "k!", "value": "v"}])").status(), "regular expression pattern");
  json many = json::array();
  for (int i = 0; i < 201; ++i) many.push_back({{"key", "k" + std::to_string(i)}, {"value", "v"}});
  Status too_many = TagList(json{{"tags", many}}, "tags").status();
  EXPECT_EQ(too_many.aws_code(), "TooManyTagsException");
  EXPECT_EQ(too_many.http_status(), 400);
}

class ServiceValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.model_aliases = DefaultModelAliases();
    auto s = BedrockService::Open(config);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
    train_ = dir_.Write("train.jsonl", R"({"prompt": "a", "completion": "b"})" "\n");
  }
  // A CreateModelCustomizationJob body that passes validation, with `patch` merged in.
  json JobRequest(const json& patch) const {
    json req = {{"jobName", "j1"},
                {"customModelName", "m1"},
                {"roleArn", "arn:aws:iam::123456789012:role/x"},
                {"baseModelIdentifier", "no.such-model"},  // stops Create after validation: nothing runs
                {"trainingDataConfig", {{"s3Uri", "file://" + train_}}},
                {"outputDataConfig", {{"s3Uri", "file://" + dir_.path() + "/out"}}}};
    req.merge_patch(patch);
    return req;
  }
  TempDir dir_;
  std::string train_;
  std::unique_ptr<BedrockService> service_;
};

TEST_F(ServiceValidation, JobCreateRefusesWrongTypesAndBadTags) {
  EXPECT_EQ(service_->jobs().Create(JobRequest(json::object())).status().code(), Status::Code::kNotFound);  // valid
  for (const auto& [patch, member] : std::vector<std::pair<json, std::string>>{
           {json::parse(R"({"trainingDataConfig": {"s3Uri": 5}})"), "'trainingDataConfig.s3Uri'"},
           {json::parse(R"({"outputDataConfig": "s3://b/"})"), "'outputDataConfig'"},
           {json::parse(R"({"customizationType": 1})"), "'customizationType'"},
           {json::parse(R"({"customizationType": "SOMETHING"})"), "enum value set"},
           {json::parse(R"({"validationDataConfig": {"validators": [{"s3Uri": 7}]}})"),
            "'validationDataConfig.validators.1.member.s3Uri'"},
           {json::parse(R"({"validationDataConfig": {"validators": {}}})"), "'validationDataConfig.validators'"},
           {json::parse(R"({"roleArn": 12})"), "'roleArn'"},
           {json::parse(R"({"roleArn": "role/x"})"), "'roleArn' failed to satisfy constraint: Member must satisfy"},
           {json::parse(R"({"baseModelIdentifier": {}})"), "'baseModelIdentifier'"},
           {json::parse(R"({"clientRequestToken": 3})"), "'clientRequestToken'"},
           {json::parse(R"({"jobTags": {"team": "ml"}})"), "'jobTags'"},
           {json::parse(R"({"jobTags": [{"key": 1, "value": "v"}]})"), "'jobTags.1.member.key'"},
           {json::parse(R"({"customModelTags": [{"key": "k", "value": ["v"]}]})"), "'customModelTags.1.member.value'"},
           {json{{"jobName", std::string(30000, 'j')}}, "'jobName'"},
           {json{{"customModelName", std::string(64, 'm')}}, "'customModelName'"}}) {
    ExpectValidation(service_->jobs().Create(JobRequest(patch)).status(), member);
  }
}

TEST_F(ServiceValidation, JobCreateBoundsTheWorkersHyperparameter) {
  // lathe's `workers` (data-parallel ranks): 1..16, at most batchSize, a string like every value.
  // A base model that exists and data the server may read: hyperparameters are checked after
  // both (each case here fails before a job is recorded).
  ServiceConfig config;
  config.data_dir = dir_.path() + "/data-workers";
  config.model_aliases = DefaultModelAliases();
  config.file_roots = {dir_.path()};
  auto service = BedrockService::Open(config);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  auto create = [&](const json& hp) {
    return (*service)->jobs()
        .Create(JobRequest({{"hyperParameters", hp}, {"baseModelIdentifier", "amazon.titan-text-express-v1"}}))
        .status();
  };
  ExpectValidation(create({{"workers", "0"}}), "hyperparameter workers=\"0\" is invalid: expected an integer from 1 to 16");
  ExpectValidation(create({{"workers", "17"}, {"batchSize", "32"}}), "expected an integer from 1 to 16");
  ExpectValidation(create({{"workers", "1e400"}}), "hyperparameter workers=");
  ExpectValidation(create({{"workers", "two"}}), "hyperparameter workers=");
  ExpectValidation(create({{"workers", std::string(5000, '9')}}), "hyperparameter workers=");
  ExpectValidation(create({{"workers", 2}}), "'hyperParameters.workers'");
  ExpectValidation(create({{"workers", "4"}, {"batchSize", "2"}}),
                   "hyperparameter workers=4 exceeds batchSize=2: every worker needs at least one record of each batch");
}

TEST_F(ServiceValidation, ThroughputCreateAndUpdateRefuseWrongTypesAndLongNames) {
  // What crashed the server: a 30,000-character name into a recursive std::regex.
  auto r = service_->throughput().Create(
      {{"provisionedModelName", std::string(30000, 'a')}, {"modelUnits", 1}, {"modelId", "m"}});
  ExpectValidation(r.status(), "'provisionedModelName' failed to satisfy constraint: Member must have length less");
  ExpectValidation(service_->throughput().Create({{"provisionedModelName", "pt"}, {"modelUnits", 1}, {"modelId", 5}}).status(),
                   "'modelId'");
  ExpectValidation(service_->throughput().Create({{"provisionedModelName", "pt"}, {"modelUnits", 100}, {"modelId", "m"}}).status(),
                   "'modelUnits'");
  ExpectValidation(service_->throughput()
                       .Create({{"provisionedModelName", "pt"}, {"modelUnits", 1}, {"modelId", "m"}, {"tags", "x"}})
                       .status(),
                   "'tags'");
  ExpectValidation(service_->throughput()
                       .Create({{"provisionedModelName", "pt"}, {"modelUnits", 1}, {"modelId", "m"}, {"commitmentDuration", 3}})
                       .status(),
                   "'commitmentDuration'");
  ExpectValidation(service_->throughput().Update("pt", {{"desiredModelId", 42}}), "'desiredModelId'");
  ExpectValidation(service_->throughput().Update("pt", {{"desiredModelId", std::string(2049, 'm')}}), "'desiredModelId'");
}

TEST_F(ServiceValidation, TagOperationsRefuseWrongTypes) {
  ExpectValidation(service_->TagResource({{"resourceARN", 5}, {"tags", json::array()}}), "'resourceARN'");
  ExpectValidation(service_->TagResource({{"resourceARN", "arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefghij12"},
                                          {"tags", {{{"key", 1}, {"value", "v"}}}}}),
                   "'tags.1.member.key'");
  ExpectValidation(service_->UntagResource({{"resourceARN", "arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefghij12"},
                                            {"tagKeys", {1}}}),
                   "'tagKeys.1.member'");
  ExpectValidation(service_->ListTagsForResource({{"resourceARN", json::array()}}).status(), "'resourceARN'");
  ExpectValidation(service_->ListTagsForResource({{"resourceARN", "short"}}).status(), "length greater than or equal to 20");
  // Well-formed, but no such resource.
  EXPECT_EQ(service_->ListTagsForResource({{"resourceARN", "arn:aws:bedrock:us-east-1:000000000000:provisioned-model/abcdefghij12"}})
                .status()
                .code(),
            Status::Code::kNotFound);
}

TEST_F(ServiceValidation, ForgedNextTokensAreValidationErrorsNotStoreErrors) {
  // Raw numbers are not tokens any more (core/page_token.h); a real token past the bound is refused too.
  for (const std::string& token : {std::string("-1"), std::string("9223372036854775808"), std::string("1000000001"),
                                   std::string("1e3"), std::string(" 5"), std::string("100"),
                                   EncodePageToken("bedrock:list", "1000000001"),
                                   EncodePageToken("iam:roles", "100")}) {
    SCOPED_TRACE(token);
    for (auto* list : {+[](BedrockService* s, const std::map<std::string, std::string>& q) { return s->jobs().List(q); },
                       +[](BedrockService* s, const std::map<std::string, std::string>& q) { return s->custom_models().List(q); },
                       +[](BedrockService* s, const std::map<std::string, std::string>& q) { return s->throughput().List(q); }}) {
      auto r = list(service_.get(), {{"nextToken", token}});
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().aws_code(), "ValidationException");
      EXPECT_NE(r.status().message().find("nextToken"), std::string::npos) << r.status().message();
    }
  }
  // The largest offset lathe issues, in the fine-tuning jobs' own token space (each list has one).
  auto page = service_->jobs().List({{"nextToken", EncodePageToken("bedrock:list:job", "1000000000")}});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE((*page)["modelCustomizationJobSummaries"].empty());
  ExpectValidation(service_->jobs().List({{"nameContains", std::string(64, 'a')}}).status(), "'nameContains'");
}

TEST_F(ServiceValidation, PathIdentifiersHaveTheModelsLengths) {
  ExpectValidation(service_->jobs().Get(std::string(1012, 'j')).status(), "'jobIdentifier'");
  ExpectValidation(service_->custom_models().Get(std::string(2049, 'm')).status(), "'modelIdentifier'");
  ExpectValidation(service_->GetFoundationModel(std::string(2049, 'm')).status(), "'modelIdentifier'");
  ExpectValidation(service_->runtime().Invoke(std::string(2049, 'm'), R"({"inputText": "hi"})").status(), "'modelId'");
  ExpectValidation(service_->runtime().Converse(std::string(2049, 'm'), "{}").status(), "'modelId'");
}

TEST_F(ServiceValidation, RuntimeBodiesShareTheDepthBound) {
  auto r = service_->runtime().Converse("lathe.default-v1", R"({"additionalModelRequestFields": )" + Deep(200000) + "}");
  ExpectValidation(r.status(), "JSON nests deeper than 64 levels");
  r = service_->runtime().Invoke("lathe.default-v1", R"({"inputText": )" + Deep(200000) + "}");
  ExpectValidation(r.status(), "JSON nests deeper than 64 levels");
  r = service_->runtime().Converse("lathe.default-v1", R"({"messages": [{"role": "user", "content": [{"text": "hi"}]}],
      "requestMetadata": {"k": 5}})");
  ExpectValidation(r.status(), "'requestMetadata.k'");
}

}  // namespace
}  // namespace lathe::service
