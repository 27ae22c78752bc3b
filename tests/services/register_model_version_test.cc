// The register-model-version built-in over a real metadata store, registry and custom models, S3
// objects from a map, and evaluations answered by a fake runner with fixed summaries (so both
// ways of the promotion gate are decided deterministically, without running models).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/sha256.h"
#include "service/bedrock_service.h"
#include "services/lambda/backend.h"
#include "services/lambda/builtins.h"
#include "services/lambda_test_util.h"
#include "services/registry/registry.h"
#include "test_util.h"

namespace lathe::lambda {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const Scope kScope{"123456789012", "us-east-1"};
const char* kBucket = "training-bucket";

std::string Records(int n, const std::string& answer) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += json{{"prompt", "Customer: question " + std::to_string(i) + "\nAgent:"}, {"completion", " " + answer}}.dump() + "\n";
  return out;
}

// Answers every evaluation job with the holder's and the candidate's scores it is told.
class FakeEvaluations : public EvaluationRunner {
 public:
  double holder_score = 0.5, candidate_score = 0.5;
  std::string verdict = "no significant difference";
  int runs = 0;
  json last_request;
  Result<CompletedEvaluation> Run(const json& request, const std::string&, int, const std::atomic<bool>&) override {
    ++runs;
    last_request = request;
    CompletedEvaluation done;
    done.arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/fake" + std::to_string(runs);
    done.report_uri = "s3://training-bucket/evaluation/fake" + std::to_string(runs) + "/report.json";
    const double diff = candidate_score - holder_score;
    done.summary = {
        {"cases", 40},
        {"models", json::array({{{"overallScore", holder_score}, {"metrics", {{"Builtin.Accuracy", holder_score}}}},
                                {{"overallScore", candidate_score}, {"metrics", {{"Builtin.Accuracy", candidate_score}}}}})},
        {"comparisons", json::array({{{"verdict", verdict},
                                      {"verdictMetric", "Builtin.Accuracy"},
                                      // As lathe's evaluation writes it: overallScore paired per case too.
                                      {"byMetric", {{"Builtin.Accuracy", {{"verdict", verdict}, {"meanDifference", diff},
                                                                          {"ciLow", diff - 0.01}, {"ciHigh", diff + 0.01}}},
                                                    {"overallScore", {{"verdict", verdict}, {"meanDifference", diff},
                                                                      {"ciLow", diff - 0.01}, {"ciHigh", diff + 0.01}}}}}}})}};
    return done;
  }
};

class RegisterModelVersionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service::ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";
    config.scope.account = kScope.account;
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    bedrock_->set_object_store(&objects_);
    registry_ = std::make_unique<registry::Registry>(bedrock_->store(), kScope.region, kScope.account);
    builtins_ = std::make_unique<BuiltinFunctions>(&bedrock_->jobs(), &objects_, dir_.path() + "/work");
    builtins_->set_evaluation(&bedrock_->evaluations(), &bedrock_->custom_models());
    builtins_->set_evaluation_runner(&fake_);
    builtins_->set_registry(registry_.get());
    LambdaOptions o;
    o.root = dir_.path() + "/data/lambda";
    backend_ = std::make_unique<LambdaBackend>(bedrock_->store(), builtins_.get(), o);
    ASSERT_TRUE(backend_->Start().ok());
  }

  // A custom model as a Completed job leaves it, trained on s3://training-bucket/<key>.
  std::string Model(const std::string& name, const std::string& key, const std::string& validation_key = "") {
    store::ResourceRow job;
    job.name = name + "-job";
    job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/" + name;
    job.doc = {{"outputModelName", name},
               {"_baseModelId", "lathe.default-v1"},
               {"baseModelArn", "arn:aws:bedrock:us-east-1::foundation-model/lathe.default-v1"},
               {"hyperParameters", {{"epochCount", "1"}, {"learningRate", "0.003"}}},
               {"trainingDataConfig", {{"s3Uri", "s3://" + std::string(kBucket) + "/" + key}}}};
    if (!validation_key.empty())
      job.doc["validationDataConfig"] = {{"validators", json::array({{{"s3Uri", "s3://" + std::string(kBucket) + "/" + validation_key}}})}};
    auto arn = bedrock_->custom_models().Register(job, dir_.path() + "/models/" + name);
    EXPECT_TRUE(arn.ok()) << arn.status().ToString();
    return arn.ok() ? *arn : "";
  }

  // evaluate-finetuned-model's answer, as the state machine passes it ($.evaluation.Payload).
  static json Evaluation(const std::string& job, double score) {
    return {{"overallScore", score},
            {"baselineScore", 0.1},
            {"verdict", "better"},
            {"metrics", {{"Builtin.Accuracy", score}}},
            {"baselineMetrics", {{"Builtin.Accuracy", 0.1}}},
            {"evaluationJobArn", "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/" + job},
            {"reportS3Uri", "s3://training-bucket/evaluation/" + job + "/report.json"},
            {"customModelName", "ignored"},
            {"baseModelId", "amazon.titan-text-express-v1"},
            {"testSet", {{"s3Uri", "s3://training-bucket/training-data/a.jsonl"}, {"source", "training"}, {"inSample", true}}}};
  }

  Result<InvokeOutput> Invoke(const json& event) {
    InvokeInput in;
    in.function_name = "register-model-version";
    in.payload = event.dump();
    return backend_->Invoke(kScope, in);
  }
  json Payload(const json& event) {
    auto out = Invoke(event);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return json::object();
    EXPECT_EQ(out->function_error, "") << out->payload;
    return json::parse(out->payload);
  }
  std::string ErrorType(const json& event) {
    auto out = Invoke(event);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return "";
    EXPECT_EQ(out->function_error, "Unhandled") << out->payload;
    return json::parse(out->payload).value("errorType", "");
  }

  TempDir dir_;
  testing::MapObjectStore objects_;
  FakeEvaluations fake_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<BuiltinFunctions> builtins_;
  std::unique_ptr<LambdaBackend> backend_;
};

TEST_F(RegisterModelVersionTest, ListedWithItsDefaults) {
  auto conf = backend_->GetFunctionConfiguration(kScope, "register-model-version", "");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_EQ((*conf)["Environment"]["Variables"]["MODEL_GROUP"], "lathe-finetuned");
  EXPECT_EQ((*conf)["Environment"]["Variables"]["PROMOTE_ALIAS"], "production");
  EXPECT_EQ((*conf)["Environment"]["Variables"]["EVAL_DATASET_S3_URI"], "");
  EXPECT_EQ((*conf)["Timeout"], 900);
}

TEST_F(RegisterModelVersionTest, TheFirstVersionRecordsItsLineageAndIsPromoted) {
  const std::string bytes = Records(40, "Answer.");
  objects_.objects[{kBucket, "training-data/a.jsonl"}] = bytes;
  objects_.version_ids[{kBucket, "training-data/a.jsonl"}] = "v-abc";
  objects_.objects[{kBucket, "validation/a.jsonl"}] = Records(5, "Answer.");
  const std::string arn = Model("model-a", "training-data/a.jsonl", "validation/a.jsonl");
  json out = Payload({{"customModelName", "model-a"}, {"evaluation", Evaluation("eval-a", 0.42)}});
  EXPECT_EQ(out["modelGroup"], "lathe-finetuned");
  EXPECT_EQ(out["version"], 1);
  EXPECT_EQ(out["promoted"], true);
  EXPECT_EQ(out["alias"], "production");
  EXPECT_EQ(out["holderVersion"], 0);
  EXPECT_EQ(out["overallScore"], 0.42);
  EXPECT_TRUE(out["decision"].is_string() && !out["decision"].get<std::string>().empty()) << out;
  EXPECT_EQ(fake_.runs, 0);  // nothing to compare the first version with

  auto v = registry_->GetVersion("lathe-finetuned", 1);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(out["modelPackageArn"], v->arn);
  EXPECT_EQ(v->custom_model_arn, arn);
  EXPECT_EQ(v->base_model, "arn:aws:bedrock:us-east-1::foundation-model/lathe.default-v1");
  EXPECT_EQ(v->training_job_arn, "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/model-a");
  EXPECT_EQ(v->hyperparameters["epochCount"], "1");
  EXPECT_EQ(v->created_by, "lathe:register-model-version");
  EXPECT_EQ(v->metadata["lathe:customModelName"], "model-a");
  EXPECT_EQ(v->metadata["lathe:functionRole"], "arn:aws:iam::123456789012:role/lathe-builtin");
  ASSERT_EQ(v->data.size(), 2u);
  EXPECT_EQ(v->data[0].uri, "s3://training-bucket/training-data/a.jsonl");
  EXPECT_EQ(v->data[0].purpose, "training");
  EXPECT_EQ(v->data[0].sha256, Sha256Hex(bytes));  // of the bytes themselves
  EXPECT_EQ(v->data[0].etag, HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, bytes)));
  EXPECT_EQ(v->data[0].version_id, "v-abc");
  EXPECT_EQ(v->data[0].records, 40u);
  EXPECT_EQ(v->data[0].format, "prompt-completion");
  EXPECT_EQ(v->data[1].purpose, "validation");
  EXPECT_EQ(v->data[1].records, 5u);
  EXPECT_EQ(v->data[1].version_id, "");
  ASSERT_EQ(v->evaluations.size(), 1u);
  EXPECT_EQ(v->evaluations[0].evaluation, "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/eval-a");
  EXPECT_EQ(v->evaluations[0].overall_score, 0.42);
  EXPECT_EQ(v->evaluations[0].verdict, "better");
  EXPECT_EQ(v->evaluations[0].report_uri, "s3://training-bucket/evaluation/eval-a/report.json");
  EXPECT_EQ(v->evaluations[0].metrics["Builtin.Accuracy"], 0.42);
  EXPECT_EQ(v->status, registry::VersionStatus::kApproved);
  auto aliases = registry_->Aliases("lathe-finetuned");
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(aliases->at("production"), 1);
  // Lineage the other way: the data object names the version, by URI and by content.
  auto trained = registry_->VersionsTrainedOn("s3://training-bucket/training-data/a.jsonl");
  ASSERT_TRUE(trained.ok());
  ASSERT_EQ(trained->size(), 1u);
  EXPECT_EQ((*trained)[0].version, 1);
}

TEST_F(RegisterModelVersionTest, LocalDataIsHashedWhereItLies) {
  const std::string path = dir_.path() + "/local-data.jsonl";
  const std::string bytes = Records(33, "Local.");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, bytes).ok());
  store::ResourceRow job;
  job.name = "local-job";
  job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/local";
  job.doc = {{"outputModelName", "model-local"}, {"_baseModelId", "lathe.default-v1"},
             {"trainingDataConfig", {{"s3Uri", "file://" + path}}}};
  ASSERT_TRUE(bedrock_->custom_models().Register(job, dir_.path() + "/models/local").ok());
  json out = Payload({{"customModelName", "model-local"}, {"evaluation", Evaluation("eval-local", 0.3)}});
  auto v = registry_->GetVersion("lathe-finetuned", out["version"].get<int>());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->data.size(), 1u);
  EXPECT_EQ(v->data[0].sha256, Sha256Hex(bytes));
  EXPECT_EQ(v->data[0].records, 33u);
  EXPECT_EQ(v->data[0].etag, "");  // no object store: no ETag
  EXPECT_EQ(v->base_model, "lathe.default-v1");  // no base model ARN recorded: its id
}

TEST_F(RegisterModelVersionTest, ARetriedInvocationRegistersOnce) {
  objects_.objects[{kBucket, "training-data/a.jsonl"}] = Records(40, "Answer.");
  Model("model-a", "training-data/a.jsonl");
  const json event = {{"customModelName", "model-a"}, {"evaluation", Evaluation("eval-a", 0.42)}};
  json first = Payload(event);
  json again = Payload(event);
  EXPECT_EQ(first["version"], 1);
  EXPECT_EQ(again["version"], 1);
  EXPECT_EQ(again["modelPackageArn"], first["modelPackageArn"]);
  EXPECT_EQ(again["promoted"], true);
  auto versions = registry_->ListVersions("lathe-finetuned", {});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
  auto moves = registry_->AliasHistory("lathe-finetuned", "production");
  ASSERT_TRUE(moves.ok());
  EXPECT_EQ(moves->size(), 1u);
}

TEST_F(RegisterModelVersionTest, TheGatePromotesABetterVersionAndKeepsTheHolderOverAWorseOne) {
  objects_.objects[{kBucket, "training-data/a.jsonl"}] = Records(40, "Answer.");
  objects_.objects[{kBucket, "training-data/b.jsonl"}] = Records(40, "Better answer.");
  objects_.objects[{kBucket, "training-data/c.jsonl"}] = Records(40, "Worse answer.");
  objects_.objects[{kBucket, "validation/c.jsonl"}] = Records(10, "Worse answer.");
  const std::string a = Model("model-a", "training-data/a.jsonl");
  const std::string b = Model("model-b", "training-data/b.jsonl");
  Model("model-c", "training-data/c.jsonl", "validation/c.jsonl");
  ASSERT_EQ(Payload({{"customModelName", "model-a"}, {"evaluation", Evaluation("eval-a", 0.4)}})["version"], 1);

  // Better, significantly: version 2 takes production.
  fake_.holder_score = 0.4, fake_.candidate_score = 0.7, fake_.verdict = "better";
  json better = Payload({{"customModelName", "model-b"}, {"evaluation", Evaluation("eval-b", 0.7)}});
  EXPECT_EQ(better["version"], 2);
  EXPECT_EQ(better["holderVersion"], 1);
  EXPECT_EQ(better["promoted"], true) << better;
  EXPECT_EQ(fake_.runs, 1);
  // The comparison: the holder first (models[0] is the baseline), the candidate second.
  const json& models = fake_.last_request["inferenceConfig"]["models"];
  EXPECT_EQ(models[0]["bedrockModel"]["modelIdentifier"], a);
  EXPECT_EQ(models[1]["bedrockModel"]["modelIdentifier"], b);
  // No reference test set, no EVAL_DATASET_S3_URI, no validation data: the pipeline evaluation's.
  EXPECT_EQ(fake_.last_request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["datasetLocation"]["s3Uri"],
            "s3://training-bucket/training-data/a.jsonl");
  EXPECT_EQ(better["comparison"]["evaluationJobArn"], "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/fake1");
  EXPECT_EQ(registry_->Aliases("lathe-finetuned")->at("production"), 2);

  // Worse: version 3 is registered, production stays with 2.
  fake_.holder_score = 0.7, fake_.candidate_score = 0.2, fake_.verdict = "worse";
  const json worse_event = {{"customModelName", "model-c"}, {"evaluation", Evaluation("eval-c", 0.2)}};
  json worse = Payload(worse_event);
  EXPECT_EQ(worse["version"], 3);
  EXPECT_EQ(worse["holderVersion"], 2);
  EXPECT_EQ(worse["promoted"], false) << worse;
  // The candidate's validation data is the test set when the group names none.
  EXPECT_EQ(fake_.last_request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["datasetLocation"]["s3Uri"],
            "s3://training-bucket/validation/c.jsonl");
  EXPECT_EQ(registry_->Aliases("lathe-finetuned")->at("production"), 2);
  auto v3 = registry_->GetVersion("lathe-finetuned", 3);
  ASSERT_TRUE(v3.ok());
  EXPECT_NE(v3->status, registry::VersionStatus::kApproved);
  // The history matches what the function answered: 0 -> 1, 1 -> 2, nothing for version 3.
  auto moves = registry_->AliasHistory("lathe-finetuned", "production");
  ASSERT_TRUE(moves.ok());
  ASSERT_EQ(moves->size(), 2u);
  EXPECT_EQ((*moves)[1].from_version, 1);
  EXPECT_EQ((*moves)[1].to_version, 2);
  EXPECT_EQ((*moves)[1].actor, "lathe:register-model-version");

  // Retried, the worse one neither registers again nor runs another comparison.
  const int runs = fake_.runs;
  json retried = Payload(worse_event);
  EXPECT_EQ(retried["version"], 3);
  EXPECT_EQ(retried["promoted"], false);
  EXPECT_EQ(fake_.runs, runs);
  EXPECT_EQ(registry_->ListVersions("lathe-finetuned", {})->size(), 3u);

  // A group's reference test set is what the gate evaluates on.
  auto policy = registry_->GetGroup("lathe-finetuned")->policy;
  policy.reference_test_set = "s3://training-bucket/reference.jsonl";
  ASSERT_TRUE(registry_->SetPolicy("lathe-finetuned", policy).ok());
  objects_.objects[{kBucket, "training-data/d.jsonl"}] = Records(40, "Another.");
  Model("model-d", "training-data/d.jsonl", "");
  Payload({{"customModelName", "model-d"}, {"evaluation", Evaluation("eval-d", 0.3)}});
  EXPECT_EQ(fake_.last_request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"]["datasetLocation"]["s3Uri"],
            "s3://training-bucket/reference.jsonl");
}

TEST_F(RegisterModelVersionTest, TheGroupAndAliasComeFromTheEnvironmentOrTheEvent) {
  objects_.objects[{kBucket, "training-data/a.jsonl"}] = Records(40, "Answer.");
  Model("model-a", "training-data/a.jsonl");
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(
                          kScope, "register-model-version",
                          {{"Environment", {{"Variables", {{"MODEL_GROUP", "banking-assistant"}, {"PROMOTE_ALIAS", "staging"}}}}}})
                  .ok());
  json out = Payload({{"customModelName", "model-a"}, {"evaluation", Evaluation("eval-a", 0.4)}});
  EXPECT_EQ(out["modelGroup"], "banking-assistant");
  EXPECT_EQ(out["alias"], "staging");
  EXPECT_EQ(registry_->Aliases("banking-assistant")->at("staging"), 1);
  json other = Payload({{"customModelName", "model-a"}, {"modelGroup", "other-group"}, {"evaluation", Evaluation("eval-a", 0.4)}});
  EXPECT_EQ(other["modelGroup"], "other-group");
  EXPECT_EQ(other["version"], 1);
}

TEST_F(RegisterModelVersionTest, MissingModelsDataAndServicesAreFunctionErrors) {
  EXPECT_EQ(ErrorType({{"customModelName", "no-such-model"}, {"evaluation", Evaluation("e", 0.4)}}),
            "ResourceNotFoundException");
  EXPECT_TRUE(registry_->ListGroups({})->empty());  // nothing registered
  // Data gone since training: the manifest cannot be made, and nothing is registered.
  Model("model-a", "training-data/gone.jsonl");
  auto gone = Invoke({{"customModelName", "model-a"}, {"evaluation", Evaluation("e", 0.4)}});
  ASSERT_TRUE(gone.ok());
  json error = json::parse(gone->payload);
  EXPECT_EQ(error["errorType"], "TrainingDataUnavailable");
  EXPECT_NE(error["errorMessage"].get<std::string>().find("s3://training-bucket/training-data/gone.jsonl"), std::string::npos);
  EXPECT_TRUE(registry_->ListGroups({})->empty());
  // Without a registry wired in, it says so.
  builtins_->set_registry(nullptr);
  EXPECT_EQ(ErrorType({{"customModelName", "model-a"}}), "ServiceUnavailable");
}

TEST_F(RegisterModelVersionTest, MalformedEventsAreRefusedBeforeAnythingIsLookedUp) {
  objects_.objects[{kBucket, "training-data/a.jsonl"}] = Records(40, "Answer.");
  Model("model-a", "training-data/a.jsonl");
  json many = json::object();
  for (int i = 0; i < 100; ++i) many["m" + std::to_string(i)] = 0.5;
  json bad_eval = Evaluation("e", 0.4);
  bad_eval["overallScore"] = "high";
  json no_score = Evaluation("e", 0.4);
  no_score.erase("overallScore");
  json many_metrics = Evaluation("e", 0.4);
  many_metrics["metrics"] = many;
  json long_arn = Evaluation("e", 0.4);
  long_arn["evaluationJobArn"] = std::string(5000, 'a');
  json bad_metric = Evaluation("e", 0.4);
  bad_metric["metrics"] = {{"Builtin.Accuracy", "x"}};
  for (const json& event : {json{{"evaluation", Evaluation("e", 0.4)}},
                            json{{"customModelName", 5}},
                            json{{"customModelName", std::string(3000, 'm')}},
                            json{{"customModelName", "model-a"}, {"evaluation", "0.4"}},
                            json{{"customModelName", "model-a"}, {"evaluation", bad_eval}},
                            json{{"customModelName", "model-a"}, {"evaluation", no_score}},
                            json{{"customModelName", "model-a"}, {"evaluation", many_metrics}},
                            json{{"customModelName", "model-a"}, {"evaluation", long_arn}},
                            json{{"customModelName", "model-a"}, {"evaluation", bad_metric}},
                            json{{"customModelName", "model-a"}, {"modelGroup", json::array()}}})
    EXPECT_EQ(ErrorType(event), "InvalidEvent") << event.dump().substr(0, 200);
  EXPECT_EQ(ErrorType(json::array()), "InvalidEvent");
  // Hostile names: a path as a model name is just not found; a group name the registry refuses.
  EXPECT_EQ(ErrorType({{"customModelName", "../../etc/passwd\n"}}), "ResourceNotFoundException");
  for (const std::string& group : std::vector<std::string>{"../../etc", "a b", std::string(64, 'g'), "-lead"})
    EXPECT_EQ(ErrorType({{"customModelName", "model-a"}, {"modelGroup", group}, {"evaluation", Evaluation("e", 0.4)}}),
              "ValidationException") << group;
  EXPECT_TRUE(registry_->ListGroups({})->empty());
}

}  // namespace
}  // namespace lathe::lambda
