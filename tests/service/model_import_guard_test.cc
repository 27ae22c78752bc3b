// Custom Model Import's guards, in process: each file of a folder within its own bound, an import
// the server's stop interrupts (its job runs again at the next start), vpcConfig checked as
// botocore's VpcConfig, strictRoles, one name for one model across imports and customizations,
// and a deleted model's on-demand pool given back to modelMemoryBytes.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>

#include "engine/model_folder.h"
#include "model_import_fixture.h"
#include "service/imported_models.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A FetchFile copying from the local folder `dir`, recording the bound each file was fetched with.
FetchFile CopyFrom(const std::string& dir, std::map<std::string, uint64_t>* bounds) {
  return [dir, bounds](const std::string& name, const std::string& dest, uint64_t max_bytes) {
    if (bounds) (*bounds)[name] = max_bytes;
    return CopyLocalFile(dir + "/" + name, dest, max_bytes);
  };
}

ImportRequest Request(const std::string& name) {
  ImportRequest r;
  r.model_name = name;
  r.source_uri = "file:///somewhere";
  return r;
}

TEST_F(ModelImportTest, EachFileIsFetchedWithinItsOwnBound) {
  WriteTinyFolder(Files("tiny"), {});
  std::map<std::string, uint64_t> bounds;
  auto model = svc_->imported_models().Import(Request("bounded"), CopyFrom(Files("tiny"), &bounds));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(bounds["config.json"], engine::kMaxModelConfigBytes);
  EXPECT_EQ(bounds["tokenizer.json"], uint64_t{64} << 20);
  EXPECT_EQ(bounds["tokenizer_config.json"], uint64_t{16} << 20);
  EXPECT_EQ(bounds["generation_config.json"], uint64_t{16} << 20);
  EXPECT_EQ(bounds["model.safetensors.index.json"], uint64_t{16} << 20);
  EXPECT_GT(bounds["model.safetensors"], uint64_t{1} << 30);  // the weights: what maxImportBytes has left
}

TEST_F(ModelImportTest, ATokenizerJsonOverItsBoundIsNeitherFetchedNorRead) {
  WriteTinyFolder(Files("big-tok"), {});
  fs::resize_file(Files("big-tok/tokenizer.json"), (uint64_t{64} << 20) + 1);  // sparse: no real bytes
  // The folder's check reads its size first (LoadTokenizer would read it whole).
  auto checked = engine::CheckModelFolder(Files("big-tok"));
  ASSERT_FALSE(checked.ok());
  EXPECT_TRUE(Has(checked.status().message(), "tokenizer.json is 67108865 bytes; at most 67108864"))
      << checked.status().ToString();
  // The job refuses it before copying it.
  json job = ImportAndWait("big-tokenizer", "big-tok", "file://" + Files("big-tok"));
  ASSERT_EQ(job.value("status", ""), "Failed") << job.dump();
  EXPECT_TRUE(Has(job["failureMessage"], "tokenizer.json is larger than 67108864 bytes")) << job.dump();
}

TEST_F(ModelImportTest, AnImportEndsWhenItsStopFlagIsSet) {
  WriteTinyFolder(Files("stopped"), {});
  std::atomic<bool> stop{false};
  int fetched = 0;
  FetchFile copy = CopyFrom(Files("stopped"), nullptr);
  auto model = svc_->imported_models().Import(
      Request("stopped"),
      [&](const std::string& name, const std::string& dest, uint64_t max_bytes) {
        ++fetched;
        stop = true;  // the server stops while the first file is fetched
        return copy(name, dest, max_bytes);
      },
      &stop);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), kImportInterrupted);
  EXPECT_EQ(fetched, 1);
  EXPECT_FALSE(svc_->imported_models().Find("stopped").ok());
  EXPECT_TRUE(fs::is_empty(config_.data_dir + "/imported-models"));

  // A local copy stops within the file.
  WriteBytes(Files("three-mib"), std::string(3 << 20, 'x'));
  Status s = CopyLocalFile(Files("three-mib"), Files("copy"), 4 << 20, &stop);
  EXPECT_EQ(s.message(), kImportInterrupted);
  EXPECT_LT(fs::file_size(Files("copy")), uint64_t{3} << 20);
}

TEST_F(ModelImportTest, AStopInterruptsTheImportAndItsJobStaysInProgress) {
  WriteTinyFolder(Files("huge"), {});
  fs::resize_file(Files("huge/model.safetensors"), uint64_t{2} << 30);  // sparse: quick to make, long to copy
  auto created = svc_->import_jobs().Create(ImportRequestFor("huge-job", "huge", "file://" + Files("huge")), "us-east-1");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // Once the weights' copy has begun, the server stops.
  ASSERT_TRUE(lathe::testing::Eventually([&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(config_.data_dir + "/imported-models", ec))
      if (fs::exists(e.path() / "model.safetensors")) return true;
    return false;
  }));
  Reopen();  // without the stop, this waits for the 2 GiB copy and the job ends Failed
  auto got = svc_->import_jobs().Get((*created)["jobArn"].get<std::string>());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"], "InProgress") << got->dump();
  EXPECT_FALSE(got->contains("failureMessage")) << got->dump();
}

TEST_F(ModelImportTest, VpcConfigIsCheckedAsBotocoresShapeAndOnlyItsMembersAreKept) {
  WriteTinyFolder(Files("vpc"), {});
  const json good = ImportRequestFor("vpc-job", "vpc-model", "file://" + Files("vpc"));
  auto refused = [&](const json& vpc, const std::string& part) {
    json req = good;
    req["vpcConfig"] = vpc;
    auto r = svc_->import_jobs().Create(req, "us-east-1");
    ASSERT_FALSE(r.ok()) << vpc.dump();
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
    EXPECT_TRUE(Has(r.status().message(), part)) << part << " not in " << r.status().message();
  };
  const json sg = json::array({"sg-1"}), subnets = json::array({"subnet-1"});
  refused({{"securityGroupIds", sg}}, "vpcConfig.subnetIds");
  refused({{"subnetIds", subnets}}, "vpcConfig.securityGroupIds");
  refused({{"subnetIds", json::array()}, {"securityGroupIds", sg}}, "vpcConfig.subnetIds");
  refused({{"subnetIds", "subnet-1"}, {"securityGroupIds", sg}}, "vpcConfig.subnetIds");
  refused({{"subnetIds", json::array({1})}, {"securityGroupIds", sg}}, "vpcConfig.subnetIds.1.member");
  refused({{"subnetIds", json::array({"subnet 1"})}, {"securityGroupIds", sg}}, "vpcConfig.subnetIds.1.member");
  refused({{"subnetIds", json::array({std::string(33, 's')})}, {"securityGroupIds", sg}}, "32");
  refused({{"subnetIds", json(std::vector<std::string>(17, "s"))}, {"securityGroupIds", sg}}, "16");
  refused({{"subnetIds", subnets}, {"securityGroupIds", json(std::vector<std::string>(6, "sg"))}}, "5");
  refused({{"subnetIds", subnets}, {"securityGroupIds", json::array({"../sg"})}}, "vpcConfig.securityGroupIds.1.member");

  json req = good;
  req["vpcConfig"] = {{"subnetIds", subnets}, {"securityGroupIds", sg}, {"evil", std::string(4096, 'x')}};
  auto created = svc_->import_jobs().Create(req, "us-east-1");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto got = svc_->import_jobs().Get((*created)["jobArn"].get<std::string>());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["vpcConfig"], (json{{"subnetIds", subnets}, {"securityGroupIds", sg}})) << got->dump();
}

TEST_F(ModelImportTest, StrictRolesRefusesAnImportJobWhoseRoleIsNoIamRole) {
  config_.strict_roles = true;
  Reopen();
  WriteTinyFolder(Files("strict"), {});
  const json req = ImportRequestFor("strict-job", "strict-model", "file://" + Files("strict"));
  auto refused = svc_->import_jobs().Create(req, "us-east-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().aws_code(), "ValidationException");
  EXPECT_TRUE(Has(refused.status().message(), "does not exist")) << refused.status().ToString();
  const std::string role = req["roleArn"];
  svc_->import_jobs().set_role_checker([role](const std::string& arn) { return arn == role; });
  EXPECT_TRUE(svc_->import_jobs().Create(req, "us-east-1").ok());
}

TEST_F(ModelImportTest, ANameAJobOfTheOtherKindIsMakingIsTaken) {
  WriteTinyFolder(Files("base"), {});
  json base = ImportAndWait("import-base", "base-model", "file://" + Files("base"));
  ASSERT_EQ(base.value("status", ""), "Completed") << base.dump();
  WriteBytes(Files("train.jsonl"), R"({"prompt": "a", "completion": "b"})" "\n");
  auto customize = [&](const std::string& job, const std::string& model) {
    return svc_->jobs().Create({{"jobName", job},
                                {"customModelName", model},
                                {"roleArn", "arn:aws:iam::123456789012:role/R"},
                                {"baseModelIdentifier", base["importedModelArn"]},
                                {"trainingDataConfig", {{"s3Uri", "file://" + Files("train.jsonl")}}},
                                {"outputDataConfig", {{"s3Uri", "file://" + Files("out")}}}},
                               "us-east-1");
  };
  // A customization job in progress (this service's runner is not started) is making "shared".
  auto tuning = customize("tune", "shared");
  ASSERT_TRUE(tuning.ok()) << tuning.status().ToString();
  auto import = svc_->import_jobs().Create(ImportRequestFor("import-shared", "shared", "file://" + Files("base")),
                                           "us-east-1");
  ASSERT_FALSE(import.ok());
  EXPECT_EQ(import.status().code(), Status::Code::kConflict) << import.status().ToString();
  EXPECT_TRUE(Has(import.status().message(), "tune")) << import.status().ToString();

  // An import job in progress is making "imported": a customization cannot take the name.
  store::ResourceRow job;
  job.kind = kImportJobKind;
  job.id = job.name = "importing";
  job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abcdefabcdef";
  job.status = "InProgress";
  job.doc = {{"importedModelName", "imported"}};
  ASSERT_TRUE(svc_->store()->Insert(job).ok());
  auto tuned = customize("tune-2", "imported");
  ASSERT_FALSE(tuned.ok());
  EXPECT_EQ(tuned.status().code(), Status::Code::kConflict) << tuned.status().ToString();
  EXPECT_TRUE(Has(tuned.status().message(), "importing")) << tuned.status().ToString();
  ASSERT_TRUE(svc_->jobs().Stop((*tuning)["jobArn"]).ok());
}

TEST_F(ModelImportTest, AnImportChecksTheNameAgainBeforeRecordingTheModel) {
  WriteTinyFolder(Files("late"), {});
  FetchFile copy = CopyFrom(Files("late"), nullptr);
  bool recorded = false;
  auto model = svc_->imported_models().Import(
      Request("late"), [&](const std::string& name, const std::string& dest, uint64_t max_bytes) {
        if (!recorded) {  // a customization job records a custom model "late" while the files are copied
          store::ResourceRow custom;
          custom.kind = kCustomModelKind;
          custom.id = "cm0000000001";
          custom.name = "late";
          custom.arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/lathe.x/cm0000000001";
          custom.status = "Active";
          custom.doc = json::object();
          recorded = svc_->store()->Insert(custom).ok();
        }
        return copy(name, dest, max_bytes);
      });
  ASSERT_TRUE(recorded);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Status::Code::kConflict) << model.status().ToString();
  EXPECT_FALSE(svc_->imported_models().Find("late").ok());
  EXPECT_TRUE(fs::is_empty(config_.data_dir + "/imported-models"));
}

TEST_F(ModelImportTest, DeletingAnInvokedImportedModelGivesBackItsMemory) {
  WriteTinyFolder(Files("served"), {});
  json job = ImportAndWait("import-served", "served", "file://" + Files("served"));
  ASSERT_EQ(job.value("status", ""), "Completed") << job.dump();
  const std::string arn = job["importedModelArn"];
  ModelMemory& memory = svc_->model_memory();
  const int64_t before = memory.used_bytes();
  auto answer = svc_->runtime().Invoke(arn, R"({"inputText": "the", "textGenerationConfig": {"maxTokenCount": 2}})");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_GT(memory.used_bytes(), before);
  ASSERT_TRUE(svc_->imported_models().Delete(arn, [](const std::string&) { return false; }).ok());
  EXPECT_EQ(memory.used_bytes(), before);
  EXPECT_EQ(memory.loaded_weight_sets(), 0);
}

TEST_F(ModelImportTest, DeletingAnInvokedCustomModelGivesBackItsMemory) {
  // A custom model as a finished customization job records it (its folder under the data dir's jobs).
  const std::string dir = config_.data_dir + "/jobs/tuned/model";
  WriteTinyFolder(dir, {});
  store::ResourceRow job;
  job.name = "tuned-job";
  job.arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.imported-v1/abcdefabcdef";
  job.doc = {{"outputModelName", "tuned"}, {"_baseModelId", kImportedBaseModelId}};
  auto arn = svc_->custom_models().Register(job, dir);
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  ModelMemory& memory = svc_->model_memory();
  const int64_t before = memory.used_bytes();
  auto answer = svc_->runtime().Invoke(*arn, R"({"inputText": "the", "textGenerationConfig": {"maxTokenCount": 2}})");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_GT(memory.used_bytes(), before);
  ASSERT_TRUE(svc_->custom_models().Delete(*arn, [](const std::string&) { return false; }).ok());
  EXPECT_EQ(memory.used_bytes(), before);
  EXPECT_EQ(memory.loaded_weight_sets(), 0);
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace lathe::service
