// Lathe's built-in functions over a real metadata store and a real Bedrock job service (its
// runner not started: jobs stay InProgress), S3 objects from a map; and Step Functions' lambda
// integration over the same backend.
#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>

#include <nlohmann/json.hpp>
#include <string>

#include "core/checksum.h"
#include "service/bedrock_service.h"
#include "services/lambda/backend.h"
#include "services/lambda/builtins.h"
#include "store/metadata_store.h"
#include "services/lambda/task_integration.h"
#include "services/lambda_test_util.h"
#include "test_util.h"

namespace lathe::lambda {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const Scope kScope{"123456789012", "us-east-1"};

std::string Records(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += json{{"prompt", "Customer: question " + std::to_string(i) + "\nAgent:"}, {"completion", " answer"}}.dump() + "\n";
  return out;
}

class LambdaBuiltinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service::ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";  // jobs never run here
    config.scope.account = kScope.account;
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    bedrock_->set_object_store(&objects_);
    builtins_ = std::make_unique<BuiltinFunctions>(&bedrock_->jobs(), &objects_, dir_.path() + "/work");
    LambdaOptions o;
    o.root = dir_.path() + "/data/lambda";
    backend_ = std::make_unique<LambdaBackend>(bedrock_->store(), builtins_.get(), o);
    ASSERT_TRUE(backend_->Start().ok());
  }
  Result<InvokeOutput> Invoke(const std::string& name, const json& event) {
    InvokeInput in;
    in.function_name = name;
    in.payload = event.dump();
    return backend_->Invoke(kScope, in);
  }
  json Payload(const std::string& name, const json& event) {
    auto out = Invoke(name, event);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->function_error, "") << out->payload;
    return json::parse(out->payload);
  }

  TempDir dir_;
  testing::MapObjectStore objects_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<BuiltinFunctions> builtins_;
  std::unique_ptr<LambdaBackend> backend_;
};

TEST_F(LambdaBuiltinsTest, ListedWithoutCreateFunction) {
  auto list = backend_->ListFunctions(kScope, "", "");
  ASSERT_TRUE(list.ok());
  std::vector<std::string> names;
  for (const auto& f : (*list)["Functions"]) names.push_back(f["FunctionName"]);
  EXPECT_EQ(names, (std::vector<std::string>{"check-finetuning-status", "evaluate-finetuned-model",
                                             "register-model-version", "start-bedrock-finetuning",
                                             "validate-training-data"}));
  auto conf = backend_->GetFunctionConfiguration(kScope, "start-bedrock-finetuning", "");
  ASSERT_TRUE(conf.ok());
  EXPECT_EQ((*conf)["Environment"]["Variables"]["BASE_MODEL_ID"], service::kDefaultModelId);
  // evaluate-finetuned-model's defaults show, and it may wait as long as Lambda allows.
  auto eval = backend_->GetFunctionConfiguration(kScope, "evaluate-finetuned-model", "");
  ASSERT_TRUE(eval.ok());
  EXPECT_EQ((*eval)["Environment"]["Variables"]["METRIC_NAMES"],
            "Builtin.Accuracy,Lathe.tokenF1,Lathe.rougeL,Lathe.keywordCoverage");
  EXPECT_EQ((*eval)["Environment"]["Variables"]["EVAL_DATASET_S3_URI"], "");
  EXPECT_EQ((*eval)["Timeout"], 900);
  EXPECT_EQ(backend_->DeleteFunction(kScope, "validate-training-data", "").aws_code(), "InvalidParameterValueException");
}

TEST_F(LambdaBuiltinsTest, ValidateTrainingDataOnAGoodAndABrokenDataset) {
  objects_.objects[{"training-bucket", "training-data/good.jsonl"}] = Records(40);
  objects_.objects[{"training-bucket", "training-data/bad.jsonl"}] = Records(39) + "{not json\n";
  json good = Payload("validate-training-data", {{"bucket", "training-bucket"}, {"key", "training-data/good.jsonl"}});
  EXPECT_EQ(good["isValid"], true) << good;
  EXPECT_EQ(good["recordCount"], 40);
  EXPECT_EQ(good["format"], "prompt-completion");
  EXPECT_TRUE(good["errors"].empty());
  json bad = Payload("validate-training-data", {{"bucket", "training-bucket"}, {"key", "training-data/bad.jsonl"}});
  EXPECT_EQ(bad["isValid"], false);
  EXPECT_EQ(bad["recordCount"], 40);
  ASSERT_FALSE(bad["errors"].empty());
  EXPECT_NE(bad["errors"][0].get<std::string>().find("s3://training-bucket/training-data/bad.jsonl:40"), std::string::npos)
      << bad["errors"];
  // Too few records is Bedrock's rule too, unless the function is configured to allow them.
  objects_.objects[{"training-bucket", "small.jsonl"}] = Records(3);
  EXPECT_EQ(Payload("validate-training-data", {{"bucket", "training-bucket"}, {"key", "small.jsonl"}})["isValid"], false);
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(
                          kScope, "validate-training-data",
                          {{"Environment", {{"Variables", {{"ALLOW_SMALL_DATASETS", "true"}}}}}})
                  .ok());
  EXPECT_EQ(Payload("validate-training-data", {{"bucket", "training-bucket"}, {"key", "small.jsonl"}})["isValid"], true);
  // A missing object, a bad event: function errors a Catch can route.
  auto missing = Invoke("validate-training-data", {{"bucket", "training-bucket"}, {"key", "nope.jsonl"}});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->function_error, "Unhandled");
  EXPECT_EQ(json::parse(missing->payload)["errorType"], "NoSuchKey");
  auto no_key = Invoke("validate-training-data", {{"bucket", 5}});
  EXPECT_EQ(json::parse(no_key->payload)["errorType"], "InvalidEvent");
}

TEST_F(LambdaBuiltinsTest, StartAndCheckFineTuningThroughTheJobService) {
  objects_.objects[{"training-bucket", "training-data/good.jsonl"}] = Records(40);
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "start-bedrock-finetuning",
                                                    {{"Environment", {{"Variables", {{"EPOCH_COUNT", "2"}}}}}})
                  .ok());
  json started = Payload("start-bedrock-finetuning", {{"bucket", "training-bucket"},
                                                      {"key", "training-data/good.jsonl"},
                                                      {"validation", {{"Payload", {{"isValid", true}}}}}});
  ASSERT_TRUE(started["jobArn"].is_string()) << started;
  EXPECT_EQ(started["customModelName"], started["jobName"].get<std::string>() + "-model");
  auto job = bedrock_->jobs().Get(started["jobArn"]);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)["hyperParameters"]["epochCount"], "2");
  EXPECT_EQ((*job)["hyperParameters"]["batchSize"], "4");
  EXPECT_EQ((*job)["trainingDataConfig"]["s3Uri"], "s3://training-bucket/training-data/good.jsonl");
  EXPECT_EQ((*job)["outputDataConfig"]["s3Uri"], "s3://training-bucket/output/");
  json status = Payload("check-finetuning-status", {{"jobArn", started["jobArn"]}});
  EXPECT_EQ(status["status"], "InProgress");
  EXPECT_EQ(status["jobName"], started["jobName"]);
  EXPECT_EQ(status["customModelName"], started["customModelName"]);
  ASSERT_TRUE(bedrock_->jobs().Stop(started["jobArn"]).ok());
  // Not yet taken by a runner (none runs here), a stopped job is Stopped at once.
  EXPECT_EQ(Payload("check-finetuning-status", {{"jobArn", started["jobArn"]}})["status"], "Stopped");
  // Refused inputs: a dataset found invalid, an unknown base model, an unknown job.
  auto invalid = Invoke("start-bedrock-finetuning",
                        {{"bucket", "training-bucket"}, {"key", "k"}, {"validation", {{"Payload", {{"isValid", false}}}}}});
  EXPECT_EQ(json::parse(invalid->payload)["errorType"], "InvalidTrainingData");
  auto unknown_model = Invoke("start-bedrock-finetuning", {{"bucket", "training-bucket"}, {"key", "k"}, {"baseModelId", "no.such-model"}});
  EXPECT_EQ(unknown_model->function_error, "Unhandled");
  EXPECT_FALSE(json::parse(unknown_model->payload)["errorMessage"].get<std::string>().empty());
  auto unknown_job = Invoke("check-finetuning-status", {{"jobArn", "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/nope"}});
  EXPECT_EQ(unknown_job->function_error, "Unhandled");
}

TEST_F(LambdaBuiltinsTest, MissingFeaturesAreNamedAndUserFunctionsTakePrecedence) {
  // evaluate-finetuned-model exists (issue #14); without the evaluation service wired in, it says so.
  auto eval = Invoke("evaluate-finetuned-model", {{"customModelName", "m"}});
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_EQ(json::parse(eval->payload)["errorType"], "ServiceUnavailable");
  // register-model-version exists (issue #15); without the registry wired in, it says so.
  auto reg = Invoke("register-model-version", {{"customModelName", "m"}});
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(json::parse(reg->payload)["errorType"], "ServiceUnavailable");
  EXPECT_NE(json::parse(reg->payload)["errorMessage"].get<std::string>().find("registry"), std::string::npos);
  // A user's function of a built-in's name (and of a missing feature's name) is what runs.
  const std::string zip = testing::MakeZip({{"bootstrap", "#!/bin/sh\necho '{\"mine\": true}'\n", 0100755}});
  for (const std::string name : {"validate-training-data", "evaluate-finetuned-model"}) {
    json req = {{"FunctionName", name}, {"Runtime", "provided"}, {"Role", "arn:aws:iam::123456789012:role/r"},
                {"Handler", "x"}, {"Code", {{"ZipFile", Base64Encode(zip)}}}};
    ASSERT_TRUE(backend_->CreateFunction(kScope, req).ok()) << name;
    EXPECT_EQ(Payload(name, json::object())["mine"], true) << name;
  }
  ASSERT_TRUE(backend_->DeleteFunction(kScope, "validate-training-data", "").ok());
  EXPECT_EQ(json::parse(Invoke("validate-training-data", json::object())->payload)["errorType"], "InvalidEvent");
}

TEST_F(LambdaBuiltinsTest, EvaluateFineTunedModelRunsAnEvaluationJobOnTheModelsData) {
  builtins_->set_evaluation(&bedrock_->evaluations(), &bedrock_->custom_models());
  EXPECT_EQ(json::parse(Invoke("evaluate-finetuned-model", json::object())->payload)["errorType"], "InvalidEvent");
  auto missing = Invoke("evaluate-finetuned-model", {{"customModelName", "no-such-model"}});
  EXPECT_EQ(json::parse(missing->payload)["errorType"], "ResourceNotFoundException");
  // A custom model trained on s3:// data without validation data (the tutorial's pipeline).
  store::ResourceRow job;
  job.name = "ft-job";
  job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/abcdefabcdef";
  job.doc = {{"outputModelName", "My_Model.v2"}, {"_baseModelId", "lathe.default-v1"},
             {"trainingDataConfig", {{"s3Uri", "s3://training-bucket/training-data/data.jsonl"}}}};
  auto model_arn = bedrock_->custom_models().Register(job, dir_.path() + "/model");
  ASSERT_TRUE(model_arn.ok()) << model_arn.status().ToString();
  objects_.objects[{"training-bucket", "training-data/data.jsonl"}] = Records(80);  // MAX_CASES (50) of these
  // No runner here: the job stays queued and the function gives up at its timeout, saying so.
  BuiltinCall call{kScope.account, kScope.region, "req-1", {}, 2};
  BuiltinResult r = builtins_->Invoke("evaluate-finetuned-model",
                                      {{"customModelName", "My_Model.v2"}, {"baseModelId", "lathe.default-v1"}}, call);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error_type, "EvaluationTimeout") << r.error_message;
  auto jobs = bedrock_->evaluations().List({});
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ((*jobs)["jobSummaries"].size(), 1u);
  const json& summary = (*jobs)["jobSummaries"][0];
  EXPECT_EQ(summary["modelIdentifiers"], json({"lathe.default-v1", *model_arn}));  // base first
  EXPECT_EQ(summary["jobName"].get<std::string>().rfind("eval-my-model-v2-", 0), 0u) << summary;  // a valid name
  auto got = bedrock_->evaluations().Get(summary["jobArn"]);
  const json& dataset = (*got)["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"];
  // In-sample, and sampled: 50 of the 80 training cases, stored beside the data, in their order.
  const std::string sample_uri = dataset["datasetLocation"]["s3Uri"];
  EXPECT_EQ(sample_uri.rfind("s3://training-bucket/evaluation/samples/", 0), 0u) << sample_uri;
  const std::string sample = objects_.objects[{"training-bucket", sample_uri.substr(std::string("s3://training-bucket/").size())}];
  EXPECT_EQ(std::count(sample.begin(), sample.end(), '\n'), 50);
  EXPECT_NE(Records(80).find(sample.substr(0, sample.find('\n'))), std::string::npos);
  EXPECT_EQ(dataset["name"], "training-data");
  EXPECT_EQ((*got)["outputDataConfig"]["s3Uri"], "s3://training-bucket/evaluation/");
  EXPECT_EQ((*got)["latheGenerationSettings"]["maxTokens"], 64);
  // Called again (a pipeline's retry after the timeout): it waits on the same job, no second one.
  r = builtins_->Invoke("evaluate-finetuned-model", {{"customModelName", "My_Model.v2"}, {"baseModelId", "lathe.default-v1"}},
                        call);
  EXPECT_EQ(r.error_type, "EvaluationTimeout") << r.error_message;
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 1u);
  // The job completes with every case of the custom model failed: an error, not a score of 0.
  auto row = bedrock_->store()->Find(service::kEvaluationJobKind, summary["jobArn"].get<std::string>());
  ASSERT_TRUE(row.ok());
  row->status = "Completed";
  row->doc["_summary"] = {
      {"cases", 3},
      {"models", {{{"modelIdentifier", "lathe.default-v1"}, {"overallScore", 0.4}, {"cases", 3}, {"failed", 0}},
                  {{"modelIdentifier", *model_arn}, {"overallScore", 0.0}, {"cases", 3}, {"failed", 3},
                   {"firstError", "the model's weights could not be read"}}}},
      {"comparisons", json::array()}};
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  r = builtins_->Invoke("evaluate-finetuned-model", {{"customModelName", "My_Model.v2"}, {"baseModelId", "lathe.default-v1"}},
                        call);
  EXPECT_EQ(r.error_type, "EvaluationFailed") << r.error_message;
  EXPECT_NE(r.error_message.find("the model's weights could not be read"), std::string::npos) << r.error_message;
  // One case failed of three: a result, with the failed count in it.
  row->doc["_summary"]["models"][1]["failed"] = 1;
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  r = builtins_->Invoke("evaluate-finetuned-model", {{"customModelName", "My_Model.v2"}, {"baseModelId", "lathe.default-v1"}},
                        call);
  ASSERT_TRUE(r.ok) << r.error_type << ": " << r.error_message;
  EXPECT_EQ(r.payload["testSet"]["sample"]["cases"], 50);  // said in the result
  EXPECT_EQ(r.payload["testSet"]["sample"]["of"], 80);
  EXPECT_EQ(r.payload["failedCases"], 1);
  EXPECT_EQ(r.payload["baselineFailedCases"], 0);
  // A Failed job is not reused: the next call starts another.
  row->status = "Failed";
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  r = builtins_->Invoke("evaluate-finetuned-model", {{"customModelName", "My_Model.v2"}, {"baseModelId", "lathe.default-v1"}},
                        call);
  EXPECT_EQ(r.error_type, "EvaluationTimeout") << r.error_message;
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 2u);
  // Stopped (the server going down), a waiting call returns at once instead of at its timeout.
  builtins_->Stop();
  BuiltinCall patient{kScope.account, kScope.region, "req-2", {}, 600};
  const auto start = std::chrono::steady_clock::now();
  BuiltinResult stopped = builtins_->Invoke("evaluate-finetuned-model", {{"customModelName", "My_Model.v2"},
                                                                         {"baseModelId", "lathe.default-v1"}}, patient);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(stopped.error_type, "ServiceUnavailable") << stopped.error_message;
  EXPECT_EQ((*bedrock_->evaluations().List({}))["jobSummaries"].size(), 2u);  // none started while stopping
}

TEST_F(LambdaBuiltinsTest, TheStepFunctionsIntegrationAnswersAsAwsOptimizedIntegration) {
  LambdaTaskIntegration lambda(backend_.get());
  EXPECT_TRUE(lambda.Supports("invoke", ""));
  EXPECT_TRUE(lambda.Supports("invoke", "waitForTaskToken"));
  EXPECT_FALSE(lambda.Supports("invoke", "sync"));
  EXPECT_TRUE(lambda.Supports("function", ""));
  objects_.objects[{"training-bucket", "good.jsonl"}] = Records(40);
  states::TaskCall call;
  call.service = "lambda";
  call.action = "invoke";
  call.account = kScope.account;
  call.region = kScope.region;
  call.parameters = {{"FunctionName", "validate-training-data"},
                     {"Payload", {{"bucket", "training-bucket"}, {"key", "good.jsonl"}}}};
  states::TaskOutcome ok = lambda.Start(call);
  ASSERT_TRUE(ok.ok) << ok.error << ": " << ok.cause;
  EXPECT_EQ(ok.result["StatusCode"], 200);
  EXPECT_EQ(ok.result["ExecutedVersion"], "$LATEST");
  EXPECT_EQ(ok.result["Payload"]["isValid"], true);
  EXPECT_EQ(ok.result["SdkHttpMetadata"]["HttpStatusCode"], 200);
  EXPECT_TRUE(ok.result["SdkResponseMetadata"]["RequestId"].is_string());
  // A bare function ARN: the function's output itself.
  call.action = "function";
  call.parameters["FunctionName"] = "arn:aws:lambda:us-east-1:123456789012:function:validate-training-data";
  states::TaskOutcome bare = lambda.Start(call);
  ASSERT_TRUE(bare.ok);
  EXPECT_EQ(bare.result["isValid"], true);
  // A function error: its errorType, the error payload as the cause.
  call.action = "invoke";
  call.parameters = {{"FunctionName", "validate-training-data"}, {"Payload", {{"bucket", "training-bucket"}, {"key", "gone"}}}};
  states::TaskOutcome failed = lambda.Start(call);
  ASSERT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "NoSuchKey");
  EXPECT_EQ(json::parse(failed.cause)["errorType"], "NoSuchKey");
  // Lambda's own errors: Lambda.<Exception>.
  call.parameters = {{"FunctionName", "no-such-function"}, {"Payload", json::object()}};
  states::TaskOutcome missing = lambda.Start(call);
  ASSERT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, "Lambda.ResourceNotFoundException");
  EXPECT_NE(missing.cause.find("Function not found"), std::string::npos) << missing.cause;
  // Worded as the Java SDK words it, as every integration's cause is (states/sdk_result.h).
  EXPECT_NE(missing.cause.find("(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "),
            std::string::npos) << missing.cause;
  const std::string tail = "; Proxy: null)";
  EXPECT_EQ(missing.cause.substr(missing.cause.size() - tail.size()), tail) << missing.cause;
  call.parameters = {{"Payload", json::object()}};
  EXPECT_EQ(lambda.Start(call).error, "Lambda.InvalidParameterValueException");
  call.parameters = {{"FunctionName", "register-model-version"}, {"Payload", {{"customModelName", "m"}}}};
  EXPECT_EQ(lambda.Start(call).error, "ServiceUnavailable");  // a function error now: no registry wired in here
}

}  // namespace
}  // namespace lathe::lambda
