// Custom models made on `lathe worker`s (docs/scale-out.md) as an API node sees them, without
// training: the model's row names its files in the artifact bucket ("_artifact"), S3 is in memory.
// Deleting the model deletes those objects; a first invocation whose fetch fails says the service
// cannot serve it now, not that the caller named no model. A model imported where jobs run on
// workers goes to the bucket too, and a worker fetches it.
#include <gtest/gtest.h>

#include <filesystem>

#include "fake_object_store.h"
#include "model_import_fixture.h"
#include "service/bedrock_service.h"
#include "service/imported_models.h"
#include "service/job_artifacts.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kBucket[] = "lathe-artifacts";
const std::string kAccount = ServiceConfig{}.scope.account;  // the default config's

class WorkerMadeModels : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceConfig config;
    config.data_dir = dir_.path() + "/api";
    config.store_url = dir_.path() + "/shared.db";
    config_ = config;
    auto opened = BedrockService::Open(config_, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    api_ = std::move(*opened);
    api_->set_object_store(&s3_);
    s3_.owners[kBucket] = kAccount;
  }

  // What a worker leaves after a job: the model's files under custom-models/JOB/ and a row that
  // names them. Returns the model's ARN.
  std::string RegisterWorkerModel(const std::string& name, const std::string& job_id) {
    const std::string prefix = std::string("custom-models/") + job_id + "/";
    s3_.objects[{kBucket, prefix + "config.json"}] = "{}";
    s3_.objects[{kBucket, prefix + "tokenizer/tokenizer.json"}] = "{\"t\": 1}";
    const json artifact = {{"uri", std::string("s3://") + kBucket + "/" + prefix},
                           {"files", json::array({{{"name", "config.json"}, {"size", 2}},
                                                  {{"name", "tokenizer/tokenizer.json"}, {"size", 8}}})}};
    store::ResourceRow job;
    job.kind = "job";
    job.id = job_id;
    job.name = name + "-job";
    job.arn = "arn:aws:bedrock:us-east-1:" + kAccount + ":model-customization-job/" + job_id;
    job.doc = {{"outputModelName", name}, {"_baseModelId", "test.stories"}};
    auto arn = api_->custom_models().Register(job, "/nowhere/on/this/node", artifact);
    EXPECT_TRUE(arn.ok()) << arn.status().ToString();
    return arn.ok() ? *arn : "";
  }

  size_t ObjectsUnder(const std::string& prefix) {
    size_t n = 0;
    for (const auto& [where, bytes] : s3_.objects) n += where.first == kBucket && where.second.rfind(prefix, 0) == 0;
    return n;
  }
  static bool NotInUse(const std::string&) { return false; }

  lathe::testing::TempDir dir_;
  ServiceConfig config_;
  FakeObjectStore s3_;
  std::unique_ptr<BedrockService> api_;
};

TEST_F(WorkerMadeModels, DeletingTheModelDeletesItsObjectsInTheArtifactBucket) {
  RegisterWorkerModel("kept", "job-kept");
  const std::string arn = RegisterWorkerModel("gone", "job-gone");
  // Served once here: this node's copy exists too.
  auto servable = api_->custom_models().FindServable("gone");
  ASSERT_TRUE(servable.ok()) << servable.status().ToString();
  const std::string copy = servable->doc["_dir"];
  ASSERT_TRUE(fs::exists(copy + "/tokenizer/tokenizer.json"));
  ASSERT_EQ(ObjectsUnder("custom-models/job-gone/"), 2u);
  ASSERT_TRUE(api_->custom_models().Delete(arn, NotInUse).ok());
  EXPECT_EQ(ObjectsUnder("custom-models/job-gone/"), 0u);
  EXPECT_FALSE(fs::exists(copy));
  EXPECT_EQ(ObjectsUnder("custom-models/job-kept/"), 2u);  // another model's files stay
  EXPECT_EQ(api_->custom_models().Get(arn).status().code(), Status::Code::kNotFound);
}

TEST_F(WorkerMadeModels, AModelWhoseObjectsCannotBeDeletedIsDeletedStill) {
  const std::string arn = RegisterWorkerModel("stuck", "job-stuck");
  s3_.owners[kBucket] = "999999999999";  // the bucket changed hands: every delete is AccessDenied
  ASSERT_TRUE(api_->custom_models().Delete(arn, NotInUse).ok());
  EXPECT_EQ(api_->custom_models().Get(arn).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ObjectsUnder("custom-models/job-stuck/"), 2u);  // left, and logged
}

TEST_F(WorkerMadeModels, ARecordNamingObjectsOutsideTheModelsFolderDeletesNothing) {
  s3_.objects[{kBucket, "checkpoints/j/state.json"}] = "{}";
  s3_.objects[{"data", "train.jsonl"}] = "{}";
  s3_.owners["data"] = kAccount;
  const json file = {{"name", "state.json"}, {"size", 2}};
  for (const std::string uri : {"s3://lathe-artifacts/checkpoints/j/", "s3://data/", "s3://lathe-artifacts/custom-models"}) {
    const json artifact = {{"uri", uri}, {"files", json::array({file})}};
    EXPECT_FALSE(DeleteModelArtifact(&s3_, kAccount, artifact).ok()) << uri;
  }
  EXPECT_FALSE(DeleteModelArtifact(&s3_, kAccount, json{{"uri", "s3://lathe-artifacts/custom-models/j/"},
                                                        {"files", json::array({{{"name", "../x"}, {"size", 1}}})}})
                   .ok());
  EXPECT_EQ(s3_.objects.size(), 2u);
}

TEST_F(WorkerMadeModels, AFailedFetchIsServiceUnavailableNamingWhatFailed) {
  const std::string arn = RegisterWorkerModel("unfetched", "job-unfetched");
  s3_.objects.erase({kBucket, "custom-models/job-unfetched/tokenizer/tokenizer.json"});  // the bucket lost a file
  const std::string body = json{{"inputText", "Once upon a time"}}.dump();
  for (const std::string& id : {arn, std::string("unfetched")}) {
    auto answer = api_->runtime().Invoke(id, body);
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.status().aws_code(), "ServiceUnavailableException") << answer.status().ToString();
    EXPECT_EQ(answer.status().http_status(), 503);
    EXPECT_NE(answer.status().message().find("cannot be fetched from the artifact bucket"), std::string::npos)
        << answer.status().message();
    EXPECT_NE(answer.status().message().find("tokenizer/tokenizer.json"), std::string::npos)
        << answer.status().message();
  }
  // A model that is not there at all is still the caller's invalid identifier.
  auto unknown = api_->runtime().Invoke("no-such-model", body);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("The provided model identifier is invalid"), std::string::npos);
}

TEST_F(WorkerMadeModels, AModelImportedWhereJobsRunOnWorkersReachesTheWorkers) {
  ServiceConfig api_config = config_;
  api_config.data_dir = dir_.path() + "/importer";
  api_config.job_placement = ServiceConfig::JobPlacement::kWorkers;
  auto importer = BedrockService::Open(api_config, /*start=*/false);
  ASSERT_TRUE(importer.ok()) << importer.status().ToString();
  (*importer)->set_object_store(&s3_);
  const std::string source = dir_.path() + "/tiny";
  WriteTinyFolder(source, {});
  ImportRequest request;
  request.model_name = "imported-for-workers";
  request.source_uri = "file://" + source;
  auto model = (*importer)->imported_models().Import(
      request, [&](const std::string& name, const std::string& dest, uint64_t max_bytes) {
        return CopyLocalFile(source + "/" + name, dest, max_bytes);
      });
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(model->doc.contains("_artifact"));
  const std::string prefix = "imported-models/" + model->id + "/";
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(source)) files += e.is_regular_file();
  EXPECT_EQ(ObjectsUnder(prefix), files);

  // A worker over the same store fetches it on first use, into its own data directory.
  ServiceConfig worker_config = config_;
  worker_config.data_dir = dir_.path() + "/worker";
  worker_config.job_placement = ServiceConfig::JobPlacement::kWorker;
  worker_config.worker_id = "w";
  auto worker = BedrockService::Open(worker_config, /*start=*/false);
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  (*worker)->set_object_store(&s3_);
  auto servable = (*worker)->custom_models().FindServable("imported-for-workers");
  ASSERT_TRUE(servable.ok()) << servable.status().ToString();
  const std::string copy = servable->doc["_dir"];
  EXPECT_EQ(copy, worker_config.data_dir + "/imported-models/" + model->id);
  std::string theirs, ours;
  ASSERT_TRUE(ReadFileToString(Env::Default(), source + "/model.safetensors", &theirs).ok());
  ASSERT_TRUE(ReadFileToString(Env::Default(), copy + "/model.safetensors", &ours).ok());
  EXPECT_EQ(ours, theirs);

  // Deleted on the API node: the bucket's copy goes with it.
  ASSERT_TRUE((*importer)->imported_models().Delete("imported-for-workers", NotInUse).ok());
  EXPECT_EQ(ObjectsUnder(prefix), 0u);
}

}  // namespace
}  // namespace lathe::service
