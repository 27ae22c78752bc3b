// Bedrock's evaluation jobs without a server or sockets: the request's checks (botocore's shapes and
// what lathe refuses to pretend it runs), names, idempotency, Stop, BatchDelete and a restart.
// The runner is not started here (BedrockService::Open(config, false)): jobs stay queued, so each
// test sees the API's own behaviour; evaluation_runner_test.cc runs jobs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <thread>

#include "service/bedrock_service.h"
#include "service/evaluation_request.h"
#include "service/job_object_store.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::TempDir;

json Request(const std::string& name, const std::string& dataset, const std::string& output,
             std::vector<std::string> models = {"amazon.titan-text-express-v1"}) {
  json model_configs = json::array();
  for (const auto& m : models) model_configs.push_back({{"bedrockModel", {{"modelIdentifier", m}}}});
  return {{"jobName", name},
          {"roleArn", "arn:aws:iam::123456789012:role/Eval"},
          {"evaluationConfig",
           {{"automated",
             {{"datasetMetricConfigs",
               json::array({{{"taskType", "QuestionAndAnswer"},
                             {"dataset", {{"name", "banking"}, {"datasetLocation", {{"s3Uri", dataset}}}}},
                             {"metricNames", {"Builtin.Accuracy", "Lathe.rougeL"}}}})}}}}},
          {"inferenceConfig", {{"models", model_configs}}},
          {"outputDataConfig", {{"s3Uri", output}}}};
}

class EvaluationJobs : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    bedrock_.reset();
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.model_aliases = DefaultModelAliases();
    config.models[kDefaultModelId] = dir_.path() + "/no-model";
    config.file_roots = {dir_.path()};
    auto opened = BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
  }
  json Valid(const std::string& name) {
    return Request(name, "file://" + dataset_, "file://" + dir_.path() + "/out");
  }
  // The error's AWS code ("" when it is OK) and message.
  static std::pair<std::string, std::string> Error(const Status& s) {
    if (s.ok()) return {"", ""};
    if (!s.aws_code().empty()) return {s.aws_code(), s.message()};
    switch (s.code()) {
      case Status::Code::kInvalidArgument: return {"ValidationException", s.message()};
      case Status::Code::kNotFound: return {"ResourceNotFoundException", s.message()};
      case Status::Code::kConflict: return {"ConflictException", s.message()};
      default: return {"Other", s.message()};
    }
  }
  std::pair<std::string, std::string> CreateError(const json& request) {
    auto r = bedrock_->evaluations().Create(request);
    return Error(r.status());
  }
  TempDir dir_;
  std::string dataset_ = dir_.Write("cases.jsonl", R"({"prompt": "What is a dispute?", "referenceResponse": "A claim."})" "\n");
  std::unique_ptr<BedrockService> bedrock_;
};

TEST_F(EvaluationJobs, CreateGetListEchoTheRequestInBedrocksShapes) {
  json req = Valid("banking-eval");
  req["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] =
      R"({"textGenerationConfig": {"maxTokenCount": 64, "temperature": 0.5, "topP": 0.9}})";
  req["jobDescription"] = "base model on the banking set";
  req["customerEncryptionKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  auto created = bedrock_->evaluations().Create(req, "ap-south-1");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = (*created)["jobArn"];
  EXPECT_EQ(arn.rfind("arn:aws:bedrock:ap-south-1:", 0), 0u) << arn;
  EXPECT_NE(arn.find(":evaluation-job/"), std::string::npos) << arn;
  EXPECT_EQ(arn.size() - arn.rfind('/') - 1, 12u);  // Bedrock's [a-z0-9]{12} job id

  auto got = bedrock_->evaluations().Get(arn);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["jobName"], "banking-eval");
  EXPECT_EQ((*got)["status"], "InProgress");
  EXPECT_EQ((*got)["jobType"], "Automated");
  EXPECT_EQ((*got)["jobDescription"], "base model on the banking set");
  EXPECT_EQ((*got)["roleArn"], "arn:aws:iam::123456789012:role/Eval");
  EXPECT_EQ((*got)["customerEncryptionKeyId"], req["customerEncryptionKeyId"]);
  const json& metric = (*got)["evaluationConfig"]["automated"]["datasetMetricConfigs"][0];
  EXPECT_EQ(metric["metricNames"], json({"Builtin.Accuracy", "Lathe.rougeL"}));
  EXPECT_EQ(metric["dataset"]["name"], "banking");
  EXPECT_EQ((*got)["inferenceConfig"]["models"][0]["bedrockModel"]["modelIdentifier"], "amazon.titan-text-express-v1");
  EXPECT_EQ((*got)["latheGenerationSettings"]["maxTokens"], 64);  // recorded, from Titan's keys
  EXPECT_EQ((*got)["latheGenerationSettings"]["temperature"], 0.5);
  EXPECT_EQ((*got)["latheGenerationSettings"]["topP"], 0.9);
  for (const auto& [k, v] : got->items()) EXPECT_NE(k[0], '_') << "private key in the response: " << k;
  EXPECT_TRUE(bedrock_->evaluations().Get(arn.substr(arn.rfind('/') + 1)).ok());  // lathe: the id finds it too

  auto list = bedrock_->evaluations().List({});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ((*list)["jobSummaries"].size(), 1u);
  const json& s = (*list)["jobSummaries"][0];
  EXPECT_EQ(s["jobArn"], arn);
  EXPECT_EQ(s["evaluationTaskTypes"], json({"QuestionAndAnswer"}));
  EXPECT_EQ(s["modelIdentifiers"], json({"amazon.titan-text-express-v1"}));
  EXPECT_EQ((*bedrock_->evaluations().List({{"statusEquals", "Completed"}}))["jobSummaries"].size(), 0u);
  EXPECT_EQ((*bedrock_->evaluations().List({{"nameContains", "banking"}}))["jobSummaries"].size(), 1u);
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"statusEquals", "Done"}}).status()).first, "ValidationException");
  EXPECT_EQ(Error(bedrock_->evaluations().Get("arn:aws:bedrock:us-east-1:123456789012:evaluation-job/zzzzzzzzzzzz").status()).first,
            "ResourceNotFoundException");
}

TEST_F(EvaluationJobs, WhatLatheDoesNotRunIsRefusedSayingSo) {
  json human = Valid("h");
  human["evaluationConfig"] = {{"human", {{"datasetMetricConfigs", json::array()}}}};
  auto [code, message] = CreateError(human);
  EXPECT_EQ(code, "ValidationException");
  EXPECT_NE(message.find("human workers"), std::string::npos) << message;

  json rag = Valid("r");
  rag["inferenceConfig"] = {{"ragConfigs", json::array({json::object()})}};
  EXPECT_NE(CreateError(rag).second.find("RAG"), std::string::npos);

  json pre = Valid("p");
  pre["inferenceConfig"]["models"] = {{{"precomputedInferenceSource", {{"inferenceSourceIdentifier", "x"}}}}};
  EXPECT_NE(CreateError(pre).second.find("precomputed inference"), std::string::npos);

  json custom = Valid("c");
  custom["evaluationConfig"]["automated"]["customMetricConfig"] = {{"customMetrics", json::array()}};
  EXPECT_NE(CreateError(custom).second.find("custom metrics"), std::string::npos);

  json judge = Valid("j");
  judge["evaluationConfig"]["automated"]["evaluatorModelConfig"] = {{"bedrockEvaluatorModels", json::array()}};
  EXPECT_NE(CreateError(judge).second.find("evaluator"), std::string::npos);

  json builtin_dataset = Valid("b");
  builtin_dataset["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"] = {{"name", "Builtin.Bold"}};
  EXPECT_NE(CreateError(builtin_dataset).second.find("built-in datasets"), std::string::npos);

  json toxicity = Valid("t");
  toxicity["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"] = {"Builtin.Toxicity"};
  auto [tcode, tmessage] = CreateError(toxicity);
  EXPECT_EQ(tcode, "ValidationException");
  EXPECT_NE(tmessage.find("Builtin.Toxicity"), std::string::npos) << tmessage;
  EXPECT_NE(tmessage.find("Lathe.keywordCoverage"), std::string::npos) << tmessage;  // names what works

  json different = Valid("d");
  different["inferenceConfig"]["models"] = {
      {{"bedrockModel", {{"modelIdentifier", "amazon.titan-text-express-v1"}, {"inferenceParams", R"({"temperature": 0})"}}}},
      {{"bedrockModel", {{"modelIdentifier", "amazon.titan-text-lite-v1"}, {"inferenceParams", R"({"temperature": 1})"}}}}};
  EXPECT_NE(CreateError(different).second.find("different generation settings"), std::string::npos);
  EXPECT_EQ(bedrock_->evaluations().List({})->at("jobSummaries").size(), 0u);
}

TEST_F(EvaluationJobs, MalformedMembersAreValidationExceptionsNamingTheMember) {
  struct Case {
    std::function<void(json&)> edit;
    std::string member;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["jobName"] = "Upper_Case"; }, "jobName"},
      {[](json& r) { r["jobName"] = std::string(64, 'a'); }, "jobName"},
      {[](json& r) { r.erase("roleArn"); }, "roleArn"},
      {[](json& r) { r["roleArn"] = "not-a-role"; }, "roleArn"},
      {[](json& r) { r["jobDescription"] = std::string(201, 'x'); }, "jobDescription"},
      {[](json& r) { r["clientRequestToken"] = "bad token!"; }, "clientRequestToken"},
      {[](json& r) { r["evaluationConfig"]["automated"]["datasetMetricConfigs"] = json::array(); }, "datasetMetricConfigs"},
      {[](json& r) { r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["taskType"] = "Poetry"; }, "taskType"},
      {[](json& r) { r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"] = json::array(); }, "metricNames"},
      {[](json& r) { r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["name"] = "a b"; }, "dataset.name"},
      {[](json& r) {
         r["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["datasetLocation"]["s3Uri"] = "s3://A B/x";
       }, "datasetLocation.s3Uri"},
      {[](json& r) { r["inferenceConfig"]["models"] = json::array({r["inferenceConfig"]["models"][0], r["inferenceConfig"]["models"][0], r["inferenceConfig"]["models"][0]}); },
       "inferenceConfig.models"},
      {[](json& r) { r["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = "{not json"; }, "inferenceParams"},
      {[](json& r) { r["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = R"({"temperature": 9})"; }, "inferenceParams"},
      {[](json& r) { r["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = std::string(1024, ' '); }, "inferenceParams"},
      {[](json& r) { r["inferenceConfig"]["models"][0]["bedrockModel"]["modelIdentifier"] = std::string(2049, 'a'); }, "modelIdentifier"},
      {[](json& r) { r["outputDataConfig"]["s3Uri"] = 5; }, "outputDataConfig.s3Uri"},
      {[](json& r) { r["jobTags"] = json::array({{{"key", std::string(129, 'k')}, {"value", "v"}}}); }, "jobTags"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    json r = Valid("m" + std::to_string(i));
    cases[i].edit(r);
    auto [code, message] = CreateError(r);
    EXPECT_EQ(code, "ValidationException") << i << ": " << message;
    EXPECT_NE(message.find(cases[i].member), std::string::npos) << i << ": " << message;
  }
}

TEST_F(EvaluationJobs, AModelThatDoesNotExistIsRefusedAtCreate) {
  json r = Request("missing-model", "file://" + dataset_, "file://" + dir_.path() + "/out",
                   {"amazon.titan-text-express-v1", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefabcdef"});
  auto [code, message] = CreateError(r);
  EXPECT_EQ(code, "ResourceNotFoundException");  // as CreateModelCustomizationJob answers a missing base model
  EXPECT_NE(message.find("provisioned-model/abcdefabcdef"), std::string::npos) << message;
  EXPECT_EQ(CreateError(Request("nope", "file://" + dataset_, "file://" + dir_.path() + "/out", {"no-such-model"})).first,
            "ResourceNotFoundException");
  // A dataset outside fileRoots is the request's problem too.
  EXPECT_EQ(CreateError(Request("outside", "file:///etc/passwd", "file://" + dir_.path() + "/out")).first, "ValidationException");
}

TEST_F(EvaluationJobs, NamesAreUniqueAndATokenReplaysTheFirstAnswer) {
  json r = Valid("unique-name");
  r["clientRequestToken"] = "token-1";
  auto first = bedrock_->evaluations().Create(r);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = bedrock_->evaluations().Create(r);  // a retry: the same job, not a conflict
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["jobArn"], (*first)["jobArn"]);
  r["clientRequestToken"] = "token-2";
  EXPECT_EQ(CreateError(r).first, "ConflictException");
  r.erase("clientRequestToken");
  EXPECT_EQ(CreateError(r).first, "ConflictException");
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 1u);
}

// A token names one request: a retry with another body (here another dataset, then another
// name) is refused, not answered with the first job as if it had been created.
TEST_F(EvaluationJobs, ATokenWithADifferentRequestIsRefused) {
  json r = Valid("token-body");
  r["clientRequestToken"] = "token-1";
  ASSERT_TRUE(bedrock_->evaluations().Create(r).ok());
  json other = r;
  other["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["name"] = "other";
  auto [code, message] = CreateError(other);
  EXPECT_EQ(code, "ValidationException");
  EXPECT_NE(message.find("token-1"), std::string::npos) << message;
  other = r;
  other["jobName"] = "another-name";
  EXPECT_EQ(CreateError(other).first, "ValidationException");
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 1u);
}

// Concurrent retries of one request create one job, and each gets its ARN.
TEST_F(EvaluationJobs, ConcurrentCreatesWithOneTokenMakeOneJob) {
  json r = Valid("concurrent");
  r["clientRequestToken"] = "token-c";
  std::vector<std::thread> threads;
  std::vector<Result<json>> answers(8, Status::Internal("not run"));
  for (size_t i = 0; i < answers.size(); ++i)
    threads.emplace_back([&, i] { answers[i] = bedrock_->evaluations().Create(r); });
  for (auto& t : threads) t.join();
  for (const auto& a : answers) {
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ((*a)["jobArn"], (*answers[0])["jobArn"]);
  }
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 1u);
}

TEST_F(EvaluationJobs, QueuedJobsAreBoundedByMaxActiveJobs) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(bedrock_->evaluations().Create(Valid("queued-" + std::to_string(i))).ok()) << i;
  auto refused = bedrock_->evaluations().Create(Valid("one-too-many"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kQuotaExceeded);  // ServiceQuotaExceededException
  EXPECT_NE(refused.status().message().find("maxActiveJobs"), std::string::npos);
}

TEST_F(EvaluationJobs, AModelUnderEvaluationIsInUse) {
  store::ResourceRow job;
  job.name = "ft";
  job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/abcdefabcdef";
  job.doc = {{"outputModelName", "tuned"}, {"_baseModelId", "lathe.default-v1"}};
  auto model = bedrock_->custom_models().Register(job, dir_.path() + "/tuned");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_FALSE(bedrock_->evaluations().UsesModel(*model));
  const std::string arn = (*bedrock_->evaluations().Create(
      Request("uses-tuned", "file://" + dataset_, "file://" + dir_.path() + "/out", {"amazon.titan-text-express-v1", "tuned"})))["jobArn"];
  EXPECT_TRUE(bedrock_->evaluations().UsesModel(*model));  // found by name, recorded by ARN
  ASSERT_TRUE(bedrock_->evaluations().Stop(arn).ok());
  EXPECT_FALSE(bedrock_->evaluations().UsesModel(*model));
}

TEST_F(EvaluationJobs, TagsGoThroughBedrocksTagOperations) {
  json r = Valid("tagged");
  r["jobTags"] = {{{"key", "team"}, {"value", "ml"}}};
  auto created = bedrock_->evaluations().Create(r);
  ASSERT_TRUE(created.ok());
  auto tags = bedrock_->ListTagsForResource({{"resourceARN", (*created)["jobArn"]}});
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_EQ((*tags)["tags"], json::parse(R"([{"key": "team", "value": "ml"}])"));
}

TEST_F(EvaluationJobs, StopAndBatchDeleteFollowBedrocksStatuses) {
  const std::string a = (*bedrock_->evaluations().Create(Valid("job-a")))["jobArn"];
  const std::string b = (*bedrock_->evaluations().Create(Valid("job-b")))["jobArn"];
  // InProgress cannot be deleted: an error entry, not a failed call.
  auto refused = bedrock_->evaluations().BatchDelete({{"jobIdentifiers", {a}}});
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  ASSERT_EQ((*refused)["errors"].size(), 1u);
  EXPECT_EQ((*refused)["errors"][0]["code"], "ConflictException");
  EXPECT_EQ((*refused)["evaluationJobs"].size(), 0u);

  ASSERT_TRUE(bedrock_->evaluations().Stop(a).ok());  // queued: Stopped at once
  EXPECT_EQ((*bedrock_->evaluations().Get(a))["status"], "Stopped");
  EXPECT_EQ(Error(bedrock_->evaluations().Stop(a)).first, "ConflictException");  // only InProgress stops
  EXPECT_EQ(Error(bedrock_->evaluations().Stop("arn:aws:bedrock:us-east-1:123456789012:evaluation-job/000000000000")).first,
            "ResourceNotFoundException");

  const std::string missing = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/000000000000";
  auto deleted = bedrock_->evaluations().BatchDelete({{"jobIdentifiers", {a, missing}}});
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  ASSERT_EQ((*deleted)["evaluationJobs"].size(), 1u);
  EXPECT_EQ((*deleted)["evaluationJobs"][0], json({{"jobIdentifier", a}, {"jobStatus", "Deleting"}}));
  ASSERT_EQ((*deleted)["errors"].size(), 1u);
  EXPECT_EQ((*deleted)["errors"][0]["jobIdentifier"], missing);
  EXPECT_EQ((*deleted)["errors"][0]["code"], "ResourceNotFoundException");
  EXPECT_EQ(Error(bedrock_->evaluations().Get(a).status()).first, "ResourceNotFoundException");
  EXPECT_TRUE(bedrock_->evaluations().Get(b).ok());

  EXPECT_EQ(Error(bedrock_->evaluations().BatchDelete({{"jobIdentifiers", json::array()}}).status()).first,
            "ValidationException");
  EXPECT_EQ(Error(bedrock_->evaluations().BatchDelete({{"jobIdentifiers", std::vector<std::string>(26, a)}}).status()).first,
            "ValidationException");
  EXPECT_EQ(Error(bedrock_->evaluations().BatchDelete({{"jobIdentifiers", {5}}}).status()).first, "ValidationException");
  // The name is free again once its job is deleted.
  EXPECT_TRUE(bedrock_->evaluations().Create(Valid("job-a")).ok());
}

// A bad identifier anywhere in the list is the request's error, and nothing was deleted before it.
TEST_F(EvaluationJobs, BatchDeleteChecksEveryIdentifierBeforeDeletingAny) {
  const std::string a = (*bedrock_->evaluations().Create(Valid("delete-me")))["jobArn"];
  ASSERT_TRUE(bedrock_->evaluations().Stop(a).ok());
  auto refused = bedrock_->evaluations().BatchDelete({{"jobIdentifiers", json::array({a, std::string(2000, 'x')})}});
  EXPECT_EQ(Error(refused.status()).first, "ValidationException");
  EXPECT_TRUE(bedrock_->evaluations().Get(a).ok());  // still there
  refused = bedrock_->evaluations().BatchDelete({{"jobIdentifiers", json::array({a, 7})}});
  EXPECT_EQ(Error(refused.status()).first, "ValidationException");
  EXPECT_TRUE(bedrock_->evaluations().Get(a).ok());
  // A row left Deleting (a request that failed midway) is deleted again, its tags with it.
  ASSERT_TRUE(bedrock_->store()->SetTags(a, {{"team", "ml"}}).ok());
  auto row = bedrock_->store()->Find(kEvaluationJobKind, a);
  row->status = "Deleting";
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  auto deleted = bedrock_->evaluations().BatchDelete({{"jobIdentifiers", json::array({a})}});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ((*deleted)["evaluationJobs"].size(), 1u) << deleted->dump();
  EXPECT_TRUE(bedrock_->store()->Tags(a)->empty());
}

TEST_F(EvaluationJobs, ARestartRemovesTheTagsOfAJobLeftDeleting) {
  json r = Valid("left-deleting-tagged");
  r["jobTags"] = {{{"key", "team"}, {"value", "ml"}}};
  const std::string arn = (*bedrock_->evaluations().Create(r))["jobArn"];
  auto row = bedrock_->store()->Find(kEvaluationJobKind, arn);
  row->status = "Deleting";
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  Open();
  bedrock_->evaluations().Start();
  EXPECT_EQ(Error(bedrock_->evaluations().Get(arn).status()).first, "ResourceNotFoundException");
  EXPECT_TRUE(bedrock_->store()->Tags(arn)->empty());
}

TEST_F(EvaluationJobs, ListPagesSortsAndFiltersWithItsOwnTokens) {
  for (const char* name : {"list-a", "list-b", "list-c"}) {
    ASSERT_TRUE(bedrock_->evaluations().Create(Valid(name)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct creation times
  }
  auto names = [](const json& page) {
    std::vector<std::string> out;
    for (const auto& j : page["jobSummaries"]) out.push_back(j["jobName"]);
    return out;
  };
  auto first = bedrock_->evaluations().List({{"maxResults", "2"}, {"sortOrder", "Ascending"}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(names(*first), (std::vector<std::string>{"list-a", "list-b"}));
  ASSERT_TRUE(first->contains("nextToken"));
  auto second = bedrock_->evaluations().List(
      {{"maxResults", "2"}, {"sortOrder", "Ascending"}, {"nextToken", (*first)["nextToken"]}});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(names(*second), (std::vector<std::string>{"list-c"}));
  EXPECT_FALSE(second->contains("nextToken"));
  EXPECT_EQ(names(*bedrock_->evaluations().List({{"sortOrder", "Descending"}})),
            (std::vector<std::string>{"list-c", "list-b", "list-a"}));
  // Time filters: nothing was created after now, everything after 2020.
  EXPECT_TRUE((*bedrock_->evaluations().List({{"creationTimeAfter", "2100-01-01T00:00:00Z"}}))["jobSummaries"].empty());
  EXPECT_EQ((*bedrock_->evaluations().List({{"creationTimeAfter", "2020-01-01T00:00:00Z"}}))["jobSummaries"].size(), 3u);
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"creationTimeAfter", "yesterday"}}).status()).first, "ValidationException");
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"sortOrder", "Sideways"}}).status()).first, "ValidationException");
  // Forged tokens, and another list's token, are refused.
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"nextToken", "bm90LWEtdG9rZW4"}}).status()).first, "ValidationException");
  for (const char* name : {"tuned-1", "tuned-2"}) {
    store::ResourceRow job;
    job.name = std::string("ft-") + name;
    job.arn = std::string("arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/") +
              (name[6] == '1' ? "abcdefabcde1" : "abcdefabcde2");
    job.doc = {{"outputModelName", name}, {"_baseModelId", "lathe.default-v1"}};
    ASSERT_TRUE(bedrock_->custom_models().Register(job, dir_.path() + "/" + name).ok());
  }
  auto models = bedrock_->custom_models().List({{"maxResults", "1"}});
  ASSERT_TRUE(models.ok() && models->contains("nextToken")) << (models.ok() ? models->dump() : "");
  auto crossed = bedrock_->evaluations().List({{"nextToken", (*models)["nextToken"]}});
  EXPECT_EQ(Error(crossed.status()).first, "ValidationException");
  // RagEvaluation lists nothing here, but its other parameters are still checked.
  EXPECT_TRUE((*bedrock_->evaluations().List({{"applicationTypeEquals", "RagEvaluation"}}))["jobSummaries"].empty());
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"applicationTypeEquals", "RagEvaluation"}, {"maxResults", "0"}}).status()).first,
            "ValidationException");
  EXPECT_EQ(Error(bedrock_->evaluations().List({{"applicationTypeEquals", "RagEvaluation"}, {"nextToken", "forged"}}).status()).first,
            "ValidationException");
}

// A job named like another job's id does not shadow it: identifiers resolve as ARN, id, name.
TEST_F(EvaluationJobs, AnIdWinsOverANameThatLooksLikeIt) {
  store::ResourceRow named;
  named.kind = kEvaluationJobKind;
  named.id = "aaaaaaaaaaaa";
  named.name = "bbbbbbbbbbbb";  // created first: the first row in the table's order
  named.arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/aaaaaaaaaaaa";
  named.status = "Completed";
  named.doc = {{"jobName", named.name}};
  store::ResourceRow real = named;
  real.id = "bbbbbbbbbbbb";
  real.name = "real-job";
  real.arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/bbbbbbbbbbbb";
  real.doc = {{"jobName", real.name}};
  ASSERT_TRUE(bedrock_->store()->Insert(named).ok());
  ASSERT_TRUE(bedrock_->store()->Insert(real).ok());
  EXPECT_EQ((*bedrock_->evaluations().Get("bbbbbbbbbbbb"))["jobName"], "real-job");
  EXPECT_EQ((*bedrock_->evaluations().Get(named.arn))["jobName"], "bbbbbbbbbbbb");
  EXPECT_EQ((*bedrock_->evaluations().Get("real-job"))["jobName"], "real-job");
}

// An S3 store that accepts everything: Create only checks URIs.
class AnyObjectStore : public JobObjectStore {
 public:
  Status CheckBucket(const std::string&, const std::string&) override { return Status::Ok(); }
  Status Download(const std::string&, const S3Uri&, const std::string&, uint64_t) override { return Status::Ok(); }
  Status Upload(const std::string&, const std::string&, const S3Uri&) override { return Status::Ok(); }
};

// The longest output key is checked at Create, not after the run when the upload fails.
TEST_F(EvaluationJobs, OutputKeysPastS3sLimitAreRefusedAtCreate) {
  AnyObjectStore objects;
  bedrock_->set_object_store(&objects);
  json r = Request("long-keys", "s3://data/cases.jsonl", "s3://out/" + std::string(900, 'p') + "/");
  auto [code, message] = CreateError(r);
  EXPECT_EQ(code, "ValidationException");
  EXPECT_NE(message.find("1024"), std::string::npos) << message;
  r = Request("short-keys", "s3://data/cases.jsonl", "s3://out/" + std::string(700, 'p') + "/");
  EXPECT_EQ(CreateError(r).first, "") << CreateError(r).second;
  bedrock_->set_object_store(nullptr);
}

TEST_F(EvaluationJobs, ARestartFinishesStopsAndDeletesLeftMidway) {
  const std::string stopping = (*bedrock_->evaluations().Create(Valid("left-stopping")))["jobArn"];
  const std::string deleting = (*bedrock_->evaluations().Create(Valid("left-deleting")))["jobArn"];
  const std::string queued = (*bedrock_->evaluations().Create(Valid("left-queued")))["jobArn"];
  // What a crash leaves: rows in Stopping and Deleting.
  for (auto [arn, status] : {std::pair{stopping, "Stopping"}, std::pair{deleting, "Deleting"}}) {
    auto row = bedrock_->store()->Find(kEvaluationJobKind, arn);
    ASSERT_TRUE(row.ok());
    row->status = status;
    ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  }
  Open();
  bedrock_->evaluations().Start();
  EXPECT_EQ((*bedrock_->evaluations().Get(stopping))["status"], "Stopped");
  EXPECT_EQ(Error(bedrock_->evaluations().Get(deleting).status()).first, "ResourceNotFoundException");
  auto q = bedrock_->evaluations().Get(queued);
  ASSERT_TRUE(q.ok());
  // The queued one is picked up by the runner now, never lost, and fails: this fixture has no
  // worker binary to run `lathe eval run` with.
  json job = *q;
  for (int i = 0; i < 200 && job["status"] == "InProgress"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    job = *bedrock_->evaluations().Get(queued);
  }
  ASSERT_EQ(job["status"], "Failed") << job.dump(2);
  const std::string message = job["failureMessages"][0];
  EXPECT_NE(message.find("the evaluation process exited with status 127"), std::string::npos) << message;
}

TEST(EvaluationRequest, InferenceParamsInEachShapeUsersWrite) {
  auto titan = ParseInferenceParams(R"({"textGenerationConfig": {"maxTokenCount": 300, "temperature": 0.1, "topP": 0.9}})", "p");
  ASSERT_TRUE(titan.ok());
  EXPECT_EQ(titan->max_tokens, 300);
  EXPECT_EQ(titan->temperature, 0.1);
  EXPECT_EQ(titan->top_p, 0.9);
  auto console = ParseInferenceParams(R"({"inferenceConfig": {"maxTokens": 512, "temperature": 0, "topP": 1}})", "p");
  ASSERT_TRUE(console.ok());
  EXPECT_EQ(console->max_tokens, 512);
  auto plain = ParseInferenceParams(R"({"max_tokens": 20, "top_p": 0.5})", "p");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->max_tokens, 20);
  EXPECT_EQ(plain->top_p, 0.5);
  EXPECT_FALSE(plain->temperature.has_value());
  EXPECT_FALSE(ParseInferenceParams(R"({"maxTokens": "many"})", "p").ok());
  EXPECT_FALSE(ParseInferenceParams(R"([1, 2])", "p").ok());
  EXPECT_FALSE(ParseInferenceParams(std::string(40, '[') + std::string(40, ']'), "p").ok());
  // A key lathe would not apply is named, not ignored; top_p and topP together are ambiguous.
  for (const char* text : {R"({"topK": 5})", R"({"inferenceConfig": {"stopSequences": ["x"]}})",
                           R"({"textGenerationConfig": {"maxTokens": 5}})"}) {
    auto bad = ParseInferenceParams(text, "p");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find("lathe does not apply"), std::string::npos) << bad.status().message();
  }
  auto both = ParseInferenceParams(R"({"top_p": 0.5, "topP": 0.9})", "p");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("both top_p and topP"), std::string::npos) << both.status().message();
}

// Settings compare as they will run: one model giving the defaults explicitly, the other nothing.
TEST_F(EvaluationJobs, InferenceParamsCompareWithDefaultsApplied) {
  json r = Request("defaults", "file://" + dataset_, "file://" + dir_.path() + "/out",
                   {"amazon.titan-text-express-v1", "lathe.default-v1"});
  r["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = R"({"maxTokens": 128, "temperature": 0})";
  auto created = bedrock_->evaluations().Create(r);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  r["jobName"] = "not-defaults";
  r["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = R"({"maxTokens": 64})";
  EXPECT_EQ(CreateError(r).first, "ValidationException");
}

TEST(EvaluationRequest, BuiltinAccuracyIsTokenF1WithAReferenceElseKeywordCoverage) {
  EXPECT_EQ(EvaluationMetricScore("Builtin.Accuracy", {{"tokenF1", 0.5}, {"keywordCoverage", 1.0}}), 0.5);
  EXPECT_EQ(EvaluationMetricScore("Builtin.Accuracy", {{"keywordCoverage", 0.25}}), 0.25);
  EXPECT_FALSE(EvaluationMetricScore("Builtin.Accuracy", {{"refusal", 0.0}}).has_value());
  EXPECT_EQ(EvaluationMetricScore("Lathe.rougeL", {{"rougeL", 0.75}}), 0.75);
  EXPECT_TRUE(IsSupportedEvaluationMetric("Lathe.bleu"));
  EXPECT_FALSE(IsSupportedEvaluationMetric("Lathe.judgeScore"));  // needs an evaluator model
  EXPECT_FALSE(IsSupportedEvaluationMetric("Builtin.Robustness"));
}

}  // namespace
}  // namespace lathe::service
