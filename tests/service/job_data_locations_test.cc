// A job's data on file:// (unchanged) and s3:// (lathe's store, through JobObjectStore): checked at
// request time, fetched as a snapshot in validation, outputs published in Bedrock's layout; and a
// job whose object is missing fails in validation with the URI in its failureMessage.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "core/env.h"
#include "service/bedrock_service.h"
#include "service/job_data_locations.h"
#include "fake_object_store.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;
using nlohmann::json;

constexpr char kAccount[] = "123456789012";
constexpr uint64_t kLimit = 1 << 20;

struct Places {
  TempDir tmp;
  std::string root;
  LocalDataLocations local;
  FakeObjectStore store;
  JobDataLocations locations;
  Places()
      : root(fs::canonical(tmp.path()).string()),
        local({root}, root + "/lathe-data"),
        locations(Env::Default(), &local, &store) {
    store.owners = {{"mine", kAccount}, {"theirs", "210987654321"}};
  }
  std::string Read(const std::string& path) {
    std::string text;
    EXPECT_TRUE(ReadFileToString(Env::Default(), path, &text).ok()) << path;
    return text;
  }
};

std::string Message(const Status& s) { return s.ok() ? "(ok)" : s.message(); }
template <typename T>
std::string Message(const Result<T>& r) { return Message(r.status()); }

TEST(JobDataLocations, FileUrisBehaveAsLocalDataLocations) {
  Places s;
  const std::string train = s.tmp.Write("train.jsonl", "{}\n");
  const std::string real = fs::canonical(train).string();
  EXPECT_EQ(*s.locations.CheckInput("file://" + train), real);
  EXPECT_EQ(*s.locations.FetchInput(kAccount, real, s.root + "/unused", kLimit), real);
  EXPECT_FALSE(fs::exists(s.root + "/unused"));  // local data is read in place, not copied
  EXPECT_EQ(*s.locations.CheckOutput("file://" + s.root + "/out/"), s.root + "/out");
  EXPECT_FALSE(fs::exists(s.root + "/out"));  // created only when the job runs
  ASSERT_TRUE(s.locations.PrepareOutput(kAccount, s.root + "/out").ok());
  EXPECT_TRUE(fs::is_directory(s.root + "/out"));

  fs::create_directories(s.root + "/run/training_artifacts");
  fs::create_directories(s.root + "/run/checkpoint");
  s.tmp.Write("run/training_artifacts/step_wise_training_metrics.csv", "step,epoch,loss\n1,1,2.5\n");
  s.tmp.Write("run/checkpoint/weights.bin", "x");
  auto out = s.locations.PublishOutputs(kAccount, s.root + "/out", s.root + "/run",
                                        {"training_artifacts", "validation_artifacts"}, "model-customization-job-j1");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, s.root + "/out/model-customization-job-j1");
  EXPECT_EQ(s.Read(*out + "/training_artifacts/step_wise_training_metrics.csv"), "step,epoch,loss\n1,1,2.5\n");
  EXPECT_FALSE(fs::exists(*out + "/checkpoint"));
  // Outside fileRoots stays refused, with the same words as before.
  EXPECT_NE(Message(s.locations.CheckInput("/etc/passwd")).find("no such file, or not one this server may read"),
            std::string::npos);
}

TEST(JobDataLocations, S3UrisAreCheckedForFormAtRequestTime) {
  Places s;
  EXPECT_EQ(*s.locations.CheckInput("s3://mine/data/train.jsonl"), "s3://mine/data/train.jsonl");
  // Whether the bucket and key exist is the validation phase's business, as in Bedrock.
  EXPECT_EQ(*s.locations.CheckInput("s3://no-such-bucket/train.jsonl"), "s3://no-such-bucket/train.jsonl");
  EXPECT_EQ(Message(s.locations.CheckInput("s3://mine/data/")),
            "s3://mine/data/: names a folder, not an object (the URI should be a file)");
  EXPECT_EQ(Message(s.locations.CheckInput("s3://mine")), "s3://mine: names a bucket, not an object (expected s3://bucket/key)");
  EXPECT_NE(Message(s.locations.CheckInput("s3://Mine/k")).find("lowercase"), std::string::npos);
  EXPECT_EQ(*s.locations.CheckOutput("s3://mine/output"), "s3://mine/output/");
  EXPECT_EQ(*s.locations.CheckOutput("s3://mine"), "s3://mine");

  // A server without an S3 store says what it does read.
  JobDataLocations no_store(Env::Default(), &s.local, nullptr);
  EXPECT_NE(Message(no_store.CheckInput("s3://mine/train.jsonl")).find("file:///absolute/path"), std::string::npos);
  EXPECT_NE(Message(no_store.CheckOutput("s3://mine/out/")).find("file:///absolute/path"), std::string::npos);
}

TEST(JobDataLocations, AMissingBucketOrKeyOrSomeoneElsesBucketNamesTheUri) {
  Places s;
  s.store.objects[{"theirs", "train.jsonl"}] = "{}\n";
  const std::string snap = s.root + "/job/data/training.jsonl";
  EXPECT_EQ(Message(s.locations.FetchInput(kAccount, "s3://nobucket/train.jsonl", snap, kLimit)),
            "Could not validate GetObject permissions to access Amazon S3 bucket: nobucket at key train.jsonl "
            "(s3://nobucket/train.jsonl: NoSuchBucket: The specified bucket does not exist)");
  EXPECT_EQ(Message(s.locations.FetchInput(kAccount, "s3://mine/missing key.jsonl", snap, kLimit)),
            "Could not validate GetObject permissions to access Amazon S3 bucket: mine at key missing key.jsonl "
            "(s3://mine/missing key.jsonl: NoSuchKey: The specified key does not exist.)");
  EXPECT_EQ(Message(s.locations.FetchInput(kAccount, "s3://theirs/train.jsonl", snap, kLimit)),
            "Could not validate GetObject permissions to access Amazon S3 bucket: theirs at key train.jsonl "
            "(s3://theirs/train.jsonl: AccessDenied: Access Denied)");
  EXPECT_FALSE(fs::exists(snap));
  EXPECT_EQ(Message(s.locations.PrepareOutput(kAccount, "s3://nobucket/out/")),
            "Could not validate PutObject permissions to access Amazon S3 bucket: nobucket (the output location "
            "s3://nobucket/out/: NoSuchBucket: The specified bucket does not exist)");
  EXPECT_NE(Message(s.locations.PrepareOutput(kAccount, "s3://theirs/out/")).find("AccessDenied"), std::string::npos);
  EXPECT_TRUE(s.locations.PrepareOutput(kAccount, "s3://mine/out/").ok());
}

TEST(JobDataLocations, ObjectsLargerThanTheValidatorReadsAreNotCopied) {
  Places s;
  s.store.objects[{"mine", "big.jsonl"}] = std::string(kLimit + 1, 'x');
  const std::string snap = s.root + "/job/data/training.jsonl";
  EXPECT_EQ(Message(s.locations.FetchInput(kAccount, "s3://mine/big.jsonl", snap, kLimit)), "s3://mine/big.jsonl is too large");
  EXPECT_FALSE(fs::exists(snap));
}

TEST(JobDataLocations, TheJobReadsASnapshotTakenWhenItFirstRan) {
  Places s;
  s.store.objects[{"mine", "data/train.jsonl"}] = "first version\n";
  const std::string snap = s.root + "/job/data/training.jsonl";
  auto local = s.locations.FetchInput(kAccount, "s3://mine/data/train.jsonl", snap, kLimit);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(*local, snap);
  EXPECT_EQ(s.Read(snap), "first version\n");
  // Overwritten (or deleted) after the job started: a resumed job reads what it read before.
  s.store.objects.clear();
  auto again = s.locations.FetchInput(kAccount, "s3://mine/data/train.jsonl", snap, kLimit);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(s.Read(*again), "first version\n");
}

TEST(JobDataLocations, OutputsAreUploadedInBedrocksLayout) {
  Places s;
  fs::create_directories(s.root + "/run/training_artifacts");
  fs::create_directories(s.root + "/run/validation_artifacts/post_fine_tuning_validation/validation");
  fs::create_directories(s.root + "/run/checkpoint");
  s.tmp.Write("run/training_artifacts/step_wise_training_metrics.csv", "step_number,epoch_number,training_loss\n");
  s.tmp.Write("run/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv", "v\n");
  s.tmp.Write("run/checkpoint/weights.bin", "not an output");
  const std::vector<std::string> subdirs = {"training_artifacts", "validation_artifacts"};
  for (const auto& [output, folder] : std::vector<std::pair<std::string, std::string>>{
           {"s3://mine/output/", "output/model-customization-job-j1/"}, {"s3://mine", "model-customization-job-j1/"}}) {
    s.store.objects.clear();
    auto out = s.locations.PublishOutputs(kAccount, output, s.root + "/run", subdirs, "model-customization-job-j1");
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, "s3://mine/" + folder);
    std::map<std::pair<std::string, std::string>, std::string> want = {
        {{"mine", folder + "training_artifacts/step_wise_training_metrics.csv"}, "step_number,epoch_number,training_loss\n"},
        {{"mine", folder + "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"}, "v\n"}};
    EXPECT_EQ(s.store.objects, want);
  }
}

TEST(JobDataLocations, AFailedUploadSaysWhichObjectAndWhy) {
  Places s;
  fs::create_directories(s.root + "/run/training_artifacts");
  s.tmp.Write("run/training_artifacts/a.csv", "a\n");
  s.tmp.Write("run/training_artifacts/b.csv", "b\n");
  s.store.uploads_before_failure = 1;
  auto out = s.locations.PublishOutputs(kAccount, "s3://mine/out", s.root + "/run", {"training_artifacts"}, "model-customization-job-j2");
  EXPECT_EQ(Message(out),
            "The job's outputs could not be uploaded to s3://mine/out/model-customization-job-j2/: "
            "s3://mine/out/model-customization-job-j2/training_artifacts/b.csv: InternalError: disk full");
  EXPECT_NE(Message(s.locations.PublishOutputs(kAccount, "s3://theirs/out", s.root + "/run", {"training_artifacts"}, "j"))
                .find("AccessDenied"),
            std::string::npos);
}

// The runner end to end with the store: validation fails before any model is built or trained.
class S3Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.model_aliases = DefaultModelAliases();
    config.models[kDefaultModelId] = dir_.path() + "/no-model";  // never built: these jobs must not get that far
    config.file_roots = {dir_.path()};
    config.scope.account = kAccount;
    auto opened = BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    store_.owners = {{"mine", kAccount}, {"theirs", "210987654321"}};
    bedrock_->set_object_store(&store_);
    // IAM's part, as the server installs it: role/bounded may only read the bucket "mine" and
    // write under mine/output/; any other role is one IAM does not hold (bounds nothing).
    bedrock_->set_role_access([this](const std::string& account, const std::string& role, const std::string& action,
                                     const std::string& resource) -> std::string {
      asked_.push_back(action + " " + resource);
      if (account != kAccount || role != kBoundedRole) return "";
      if (action == "s3:GetObject" && resource.rfind("arn:aws:s3:::mine/", 0) == 0) return "";
      if (action == "s3:PutObject" && resource.rfind("arn:aws:s3:::mine/output/", 0) == 0) return "";
      return "User: " + role + " is not authorized to perform: " + action + " on resource: " + resource;
    });
    bedrock_->Start();
  }
  static constexpr char kBoundedRole[] = "arn:aws:iam::123456789012:role/bounded";
  Result<json> Create(const std::string& name, const std::string& train, const std::string& output,
                      const std::string& role = "arn:aws:iam::123456789012:role/r") {
    return bedrock_->jobs().Create({{"jobName", name},
                                    {"customModelName", name + "-model"},
                                    {"roleArn", role},
                                    {"baseModelIdentifier", "amazon.titan-text-express-v1"},
                                    {"trainingDataConfig", {{"s3Uri", train}}},
                                    {"outputDataConfig", {{"s3Uri", output}}}});
  }
  json WaitForEnd(const std::string& arn) {
    json job;
    for (int i = 0; i < 300; ++i) {
      job = *bedrock_->jobs().Get(arn);
      if (job["status"] != "InProgress" && job["status"] != "Stopping") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  }

  TempDir dir_;
  std::vector<std::string> asked_;  // what the role was asked, in order
  FakeObjectStore store_;  // outlives bedrock_ (destroyed after it)
  std::unique_ptr<BedrockService> bedrock_;
};

TEST_F(S3Jobs, AMissingKeyFailsTheJobInValidationNamingTheUri) {
  auto created = Create("missing-key", "s3://mine/training-data/missing.jsonl", "s3://mine/output/");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const json job = WaitForEnd((*created)["jobArn"]);
  EXPECT_EQ(job["status"], "Failed");
  EXPECT_EQ(job["statusDetails"]["validationDetails"]["status"], "Failed");
  EXPECT_EQ(job["statusDetails"]["trainingDetails"]["status"], "NotStarted");
  EXPECT_NE(job.value("failureMessage", "").find("s3://mine/training-data/missing.jsonl"), std::string::npos)
      << job.dump();
  EXPECT_FALSE(job.contains("_account"));  // private
}

TEST_F(S3Jobs, AMissingOutputBucketFailsTheJobInValidation) {
  store_.objects[{"mine", "train.jsonl"}] = R"({"prompt": "a", "completion": "b"})" "\n";
  auto created = Create("no-output-bucket", "s3://mine/train.jsonl", "s3://gone/output/");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const json job = WaitForEnd((*created)["jobArn"]);
  EXPECT_EQ(job["status"], "Failed");
  EXPECT_EQ(job["statusDetails"]["validationDetails"]["status"], "Failed");
  EXPECT_NE(job.value("failureMessage", "").find("s3://gone/output/: NoSuchBucket"), std::string::npos) << job.dump();
}

TEST_F(S3Jobs, BadRecordsAreReportedWithTheUriAndLine) {
  store_.objects[{"mine", "train.jsonl"}] = R"({"prompt": "a", "completion": "b"})" "\n" "{not json\n";
  auto created = Create("bad-record", "s3://mine/train.jsonl", "s3://mine/output/");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const json job = WaitForEnd((*created)["jobArn"]);
  EXPECT_EQ(job["status"], "Failed");
  EXPECT_NE(job.value("failureMessage", "").find("s3://mine/train.jsonl:2:"), std::string::npos) << job.dump();
  // Its copy of the object went when it ended.
  const std::string arn = (*created)["jobArn"];
  const std::string work = dir_.path() + "/data/jobs/" + arn.substr(arn.rfind('/') + 1);
  EXPECT_TRUE(fs::is_directory(work)) << work;
  EXPECT_FALSE(fs::exists(work + "/data"));
}

TEST_F(S3Jobs, ARoleThatMayNotWriteTheOutputFailsTheJobInValidationNamingPutObject) {
  store_.objects[{"mine", "train.jsonl"}] = R"({"prompt": "a", "completion": "b"})" "\n";
  auto created = Create("role-cannot-write", "s3://mine/train.jsonl", "s3://mine/elsewhere/", kBoundedRole);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const json job = WaitForEnd((*created)["jobArn"]);
  EXPECT_EQ(job["status"], "Failed");
  EXPECT_EQ(job["statusDetails"]["validationDetails"]["status"], "Failed");
  EXPECT_EQ(job.value("failureMessage", ""),
            "Could not validate PutObject permissions to access Amazon S3 bucket: mine (the output location "
            "s3://mine/elsewhere/: AccessDenied: User: arn:aws:iam::123456789012:role/bounded is not authorized "
            "to perform: s3:PutObject on resource: arn:aws:s3:::mine/elsewhere/)");
  EXPECT_EQ(asked_, (std::vector<std::string>{"s3:GetObject arn:aws:s3:::mine/train.jsonl",
                                              "s3:PutObject arn:aws:s3:::mine/elsewhere/"}));
}

TEST_F(S3Jobs, ARoleThatMayNotReadTheDataFailsBeforeAByteIsCopied) {
  store_.owners["other"] = kAccount;
  store_.objects[{"other", "train.jsonl"}] = R"({"prompt": "a", "completion": "b"})" "\n";
  auto created = Create("role-cannot-read", "s3://other/train.jsonl", "s3://mine/output/", kBoundedRole);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const json job = WaitForEnd((*created)["jobArn"]);
  EXPECT_EQ(job["status"], "Failed");
  const std::string failure = job.value("failureMessage", "");
  EXPECT_EQ(failure.rfind("Could not validate GetObject permissions to access Amazon S3 bucket: other at key "
                          "train.jsonl (s3://other/train.jsonl: AccessDenied: User: "
                          "arn:aws:iam::123456789012:role/bounded is not authorized to perform: s3:GetObject",
                          0),
            0u)
      << failure;
  const std::string arn = (*created)["jobArn"];
  EXPECT_FALSE(fs::exists(dir_.path() + "/data/jobs/" + arn.substr(arn.rfind('/') + 1) + "/data/training.jsonl"));
}

TEST_F(S3Jobs, RolesThatMayOrThatIamDoesNotHoldPassTheRoleCheck) {
  // Each job then fails on its data (line 2), which it could only reach by passing the role check.
  store_.objects[{"mine", "train.jsonl"}] = R"({"prompt": "a", "completion": "b"})" "\n" "{not json\n";
  for (const std::string role : {"arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:role/bounded"}) {
    auto created =
        Create(role == kBoundedRole ? "allowed" : "unknown-role", "s3://mine/train.jsonl", "s3://mine/output/", role);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    const json job = WaitForEnd((*created)["jobArn"]);
    EXPECT_EQ(job["status"], "Failed");
    EXPECT_NE(job.value("failureMessage", "").find("s3://mine/train.jsonl:2:"), std::string::npos) << job.dump();
  }
  EXPECT_EQ(asked_.size(), 4u);  // each job: GetObject on its data, PutObject on its output
}

TEST(JobDataLocations, RoleAccessAsksForEachS3InputAndTheOutputPrefixOnly) {
  Places s;
  std::vector<std::string> asked;
  EXPECT_TRUE(s.locations.CheckRoleAccess(kAccount, "r", {"s3://mine/a"}, "s3://mine/o/").ok());  // no hook
  s.locations.set_role_access([&](const std::string&, const std::string&, const std::string& action,
                                  const std::string& resource) {
    asked.push_back(action + " " + resource);
    return std::string();
  });
  EXPECT_TRUE(s.locations.CheckRoleAccess(kAccount, "r", {"s3://mine/a.jsonl", s.root + "/local.jsonl", "s3://bkt2/v.jsonl"},
                                          "s3://out")
                  .ok());
  EXPECT_EQ(asked, (std::vector<std::string>{"s3:GetObject arn:aws:s3:::mine/a.jsonl",
                                             "s3:GetObject arn:aws:s3:::bkt2/v.jsonl", "s3:PutObject arn:aws:s3:::out/"}));
}

TEST_F(S3Jobs, RequestsAreCheckedAgainstBedrocksS3UriRule) {
  // Bedrock's S3Uri pattern allows no spaces or '%' in keys: refused before any job exists.
  for (const std::string uri : {"s3://mine/my data.jsonl", "s3://mine/100%.jsonl", "s3://Mine/train.jsonl"}) {
    auto r = Create("pattern", uri, "s3://mine/output/");
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_NE(r.status().message().find("Value at 'trainingDataConfig.s3Uri' failed to satisfy constraint"),
              std::string::npos)
        << r.status().message();
  }
  auto folder = Create("folder", "s3://mine/data/", "s3://mine/output/");
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find("the URI should be a file"), std::string::npos) << folder.status().message();
  auto output = Create("output", "s3://mine/train.jsonl", "s3://mine/out put/");
  ASSERT_FALSE(output.ok());
  EXPECT_NE(output.status().message().find("'outputDataConfig.s3Uri'"), std::string::npos) << output.status().message();
}

}  // namespace
}  // namespace lathe::service
