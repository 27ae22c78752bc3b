// `lathe registry` as a person runs it: the real binary on a data directory whose lathe.db the
// test filled through the registry (as lathe serve and the pipeline would). Alias moves, their
// history at a past time, rollback, lineage from a data object, diff, approval and the export's
// folder layout.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "services/registry/registry.h"
#include "test_util.h"

namespace lathe {
namespace {

using lathe::testing::RunLatheBinary;
using lathe::testing::TempDir;
using nlohmann::json;

registry::DataObject Data(const std::string& uri, const std::string& sha) {
  registry::DataObject d;
  d.uri = uri;
  d.purpose = "training";
  d.sha256 = sha;
  d.records = 120;
  d.format = "prompt-completion";
  return d;
}

registry::EvaluationRecord Evaluation(double score, double rouge) {
  registry::EvaluationRecord e;
  e.evaluation = "run-" + std::to_string(score);
  e.overall_score = score;
  e.metrics = {{"rougeL", rouge}};
  return e;
}

class RegistryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    registry::Registry r(store->get(), "us-east-1", "000000000000");
    ASSERT_TRUE(r.CreateGroup("banking-assistant", "support answers", "test").ok());
    registry::NewVersion v;
    v.group = "banking-assistant";
    v.custom_model_arn = "arn:aws:bedrock:us-east-1:000000000000:custom-model/m1";
    v.base_model = "stories260K";
    v.training_job_arn = "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/j1";
    v.hyperparameters = {{"learningRate", "0.0001"}, {"epochCount", "2"}};
    v.data = {Data("s3://training/train-v1.jsonl", std::string(64, 'a'))};
    v.evaluations = {Evaluation(0.70, 0.50)};
    v.created_by = "test";
    ASSERT_TRUE(r.Register(v).ok());
    v.custom_model_arn = "arn:aws:bedrock:us-east-1:000000000000:custom-model/m2";
    v.training_job_arn = "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/j2";
    v.hyperparameters["learningRate"] = "0.0002";
    v.data = {Data("s3://training/train-v1.jsonl", std::string(64, 'a')),
              Data("s3://training/train-v2.jsonl", std::string(64, 'b'))};
    v.evaluations = {Evaluation(0.80, 0.55)};
    ASSERT_TRUE(r.Register(v).ok());
  }  // the store closes: the binary opens lathe.db on its own

  // Runs `lathe registry ARGS --data-dir DIR`; stdout parsed when --json is among ARGS.
  int Run(const std::string& args, std::string* out) {
    std::string err;
    const int rc = RunLatheBinary("registry " + args + " --data-dir " + dir_.path(), out, &err);
    *out += err;
    return rc;
  }
  json RunJson(const std::string& args) {
    std::string out;
    EXPECT_EQ(Run(args + " --json", &out), 0) << args << ": " << out;
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }

  TempDir dir_;
};

TEST_F(RegistryCli, AliasMovesAreRecordedAndRollBack) {
  json move = RunJson("alias set banking-assistant production 1 --reason first --actor alice");
  EXPECT_EQ(move["toVersion"], 1);
  EXPECT_EQ(move["fromVersion"], 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t between = NowMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  RunJson("alias set banking-assistant production 2 --reason better --actor bob");
  move = RunJson("alias rollback banking-assistant production --reason complaints --actor carol");
  EXPECT_EQ(move["fromVersion"], 2);
  EXPECT_EQ(move["toVersion"], 1);
  EXPECT_EQ(move["rollback"], true);

  json history = RunJson("alias history banking-assistant production");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0]["actor"], "alice");
  EXPECT_EQ(history[1]["reason"], "better");
  EXPECT_EQ(history[2]["actor"], "carol");
  EXPECT_EQ(RunJson("alias history banking-assistant production --at " + Iso8601(between))["version"], 1);
  EXPECT_EQ(RunJson("alias history banking-assistant production --at 2020-01-01T00:00:00Z")["version"], 0);
  EXPECT_EQ(RunJson("aliases banking-assistant")["production"], 1);

  std::string out;
  EXPECT_EQ(Run("alias history banking-assistant production", &out), 0);
  EXPECT_NE(out.find("complaints"), std::string::npos) << out;
  EXPECT_NE(Run("alias history banking-assistant production --at yesterday", &out), 0);
  EXPECT_NE(out.find("--at"), std::string::npos) << out;
  EXPECT_NE(Run("alias set banking-assistant production 9 --reason missing", &out), 0) << out;
  EXPECT_NE(Run("alias set banking-assistant production 1", &out), 0) << "--reason is required";
}

TEST_F(RegistryCli, PolicySetsTheGateAndAliasDeleteRemovesAnAlias) {
  json p = RunJson("policy banking-assistant --primary-metric rougeL --min-margin 0.02 --no-significance "
                   "--reference-test-set s3://tests/ref.jsonl");
  EXPECT_EQ(p["primaryMetric"], "rougeL");
  EXPECT_EQ(p["minMargin"], 0.02);
  EXPECT_EQ(p["requireSignificance"], false);
  // Options not given are kept.
  p = RunJson("policy banking-assistant --max-regression 0.1");
  EXPECT_EQ(p["primaryMetric"], "rougeL");
  EXPECT_EQ(p["referenceTestSet"], "s3://tests/ref.jsonl");
  EXPECT_EQ(p["maxRegression"], 0.1);
  EXPECT_EQ(RunJson("groups")[0]["policy"]["primaryMetric"], "rougeL");
  std::string out;
  EXPECT_NE(Run("policy banking-assistant --min-margin -1", &out), 0) << out;
  EXPECT_NE(Run("policy banking-assistant --primary-metric 'bad name'", &out), 0) << out;

  RunJson("alias set banking-assistant staging 1 --reason first");
  json moved = RunJson("alias delete banking-assistant staging --reason retired");
  EXPECT_EQ(moved["fromVersion"], 1);
  EXPECT_EQ(moved["toVersion"], 0);
  EXPECT_FALSE(RunJson("aliases banking-assistant").contains("staging"));
  EXPECT_NE(Run("alias delete banking-assistant staging", &out), 0) << out;
}

TEST_F(RegistryCli, AMistypedDataDirIsRefusedAndNoDatabaseIsMade) {
  TempDir empty;
  std::string out, err;
  const int rc = RunLatheBinary("registry groups --data-dir " + empty.path() + "/typo", &out, &err);
  EXPECT_NE(rc, 0);
  EXPECT_NE((out + err).find("no lathe.db"), std::string::npos) << out << err;
  EXPECT_FALSE(std::filesystem::exists(empty.path() + "/typo/lathe.db"));
}

// Without --config, the CLI makes ARNs in the region and account lathe serve recorded.
TEST_F(RegistryCli, TheServersRecordedScopeMakesTheArns) {
  {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store::ResourceRow scope;
    scope.kind = "lathe-settings";
    scope.id = scope.name = "scope";
    scope.status = "current";
    scope.doc = {{"region", "eu-west-1"}, {"account", "111122223333"}};
    ASSERT_TRUE((*store)->Insert(scope).ok());
  }
  json g = RunJson("create-group recorded-scope");
  EXPECT_EQ(g["arn"], "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/recorded-scope");
}

TEST_F(RegistryCli, ShowLineageAndDiff) {
  json v2 = RunJson("show banking-assistant/2");
  EXPECT_EQ(v2["baseModel"], "stories260K");
  EXPECT_EQ(v2["data"].size(), 2u);
  EXPECT_EQ(v2["evaluations"][0]["overallScore"], 0.80);
  std::string out;
  ASSERT_EQ(Run("show banking-assistant/2", &out), 0) << out;
  EXPECT_NE(out.find("s3://training/train-v2.jsonl"), std::string::npos) << out;
  EXPECT_NE(out.find("model-customization-job/j2"), std::string::npos) << out;

  json both = RunJson("lineage --data s3://training/train-v1.jsonl");
  ASSERT_EQ(both.size(), 2u);
  json one = RunJson("lineage --data s3://training/train-v2.jsonl");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["version"], 2);
  EXPECT_EQ(RunJson("lineage --data s3://training/other.jsonl").size(), 0u);

  json diff = RunJson("diff banking-assistant 1 2");
  std::map<std::string, json> rows;
  for (const json& r : diff["rows"]) rows[r["field"]] = r;
  EXPECT_TRUE(rows["hyperparameters.learningRate"]["changed"].get<bool>());
  EXPECT_FALSE(rows["hyperparameters.epochCount"]["changed"].get<bool>());
  EXPECT_EQ(rows["score.overallScore"]["a"], 0.70);
  EXPECT_EQ(rows["score.overallScore"]["b"], 0.80);
  EXPECT_TRUE(rows["score.rougeL"]["changed"].get<bool>());
  ASSERT_EQ(Run("diff banking-assistant 1 2", &out), 0) << out;
  EXPECT_NE(out.find("learningRate"), std::string::npos) << out;

  EXPECT_EQ(RunJson("approve banking-assistant/1 --description ok")["status"], "Approved");
  EXPECT_EQ(RunJson("reject banking-assistant/2")["status"], "Rejected");
  json groups = RunJson("groups");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["latestVersion"], 2);
  EXPECT_EQ(RunJson("versions banking-assistant").size(), 2u);
  EXPECT_NE(Run("show ../etc/1", &out), 0);
  EXPECT_NE(Run("show banking-assistant/7", &out), 0);
}

TEST_F(RegistryCli, CreateGroupAndExportLayout) {
  EXPECT_EQ(RunJson("create-group fraud-detector --description x")["name"], "fraud-detector");
  std::string out;
  EXPECT_NE(Run("create-group 'bad name'", &out), 0);
  const std::string exports = dir_.path() + "/exports";
  json result = RunJson("export banking-assistant/2 --out " + exports);
  namespace fs = std::filesystem;
  const fs::path version_dir = fs::path(exports) / "banking-assistant-v2";
  for (const char* name : {"model-id.txt", "training-config.json", "training-data-manifest.json", "evaluation-report.json"})
    EXPECT_TRUE(fs::exists(version_dir / name)) << name;
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(exports)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "banking-assistant-v2");  // no staging folder left behind
  }
  EXPECT_EQ(entries, 1u);
  // Exporting again replaces the folder whole.
  RunJson("export banking-assistant/2 --out " + exports);
  EXPECT_TRUE(fs::exists(version_dir / "model-id.txt"));
}

}  // namespace
}  // namespace lathe
