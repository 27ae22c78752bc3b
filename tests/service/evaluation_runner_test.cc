// The evaluation job runner with a stand-in for `lathe eval run` (a shell script that writes a
// report.json made here with RunToJson, sleeps until interrupted, or fails): the worker's command
// line, progress, the Bedrock-layout results, Stop within seconds, bad datasets reported per line,
// and a job interrupted by a shutdown finishing after the restart.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/evaluation.h"
#include "eval/metrics.h"
#include "service/bedrock_service.h"
#include "service/compute_record.h"
#include "service/evaluation_jobs.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr const char* kCases =
    R"({"prompt": "How do I dispute a charge?", "referenceResponse": "Call the bank.", "category": "cards"})" "\n"
    R"({"prompt": "Reset my password", "expectedKeywords": ["reset", "link"], "expected_theme": "kept"})" "\n";

class EvaluationRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/model-a");
    std::filesystem::create_directories(dir_.path() + "/model-b");
    dataset_ = dir_.Write("cases.jsonl", kCases);
    WriteFixture();
    const std::string script =
        "#!/bin/sh\n"
        "out=''; prev=''\n"
        "for a in \"$@\"; do [ \"$prev\" = --out ] && out=\"$a\"; [ \"$prev\" = --dataset ] && ds=\"$a\"; prev=\"$a\"; done\n"
        "printf '%s\\n' \"$@\" > '" + dir_.path() + "/argv.txt'\n"
        "case \"$(cat '" + dir_.path() + "/mode')\" in\n"
        "  sleep) echo '{\"casesDone\": 1, \"casesTotal\": 4, \"modelIndex\": 0, \"modelsTotal\": 2, "
        "\"elapsedSeconds\": 0.5, \"etaSeconds\": 1.5}' >&2\n"
        "         trap 'exit 130' INT; while :; do sleep 0.1; done ;;\n"
        "  fail) echo 'lathe: error: the model ran out of memory' >&2; exit 1 ;;\n"
        // What `lathe eval run` prints of a bad test set (PrintProblems): file:line:col problems.
        "  bad) echo \"$ds:2:1: error: invalid JSON [invalid-json]\"; echo \"$ds:3:1: warning: short\"; "
        "echo \"$ds:3:1: error: no prompt [missing-prompt]\"; echo \"$ds: 2 error(s), 1 warning(s)\"; exit 1 ;;\n"
        "  *) mkdir -p \"$out\" && cp '" + dir_.path() + "/fixture.json' \"$out/report.json\" && "
        "echo '# report' > \"$out/report.md\" ;;\n"
        "esac\n";
    dir_.Write("fake-lathe", script);
    std::filesystem::permissions(dir_.path() + "/fake-lathe", std::filesystem::perms::owner_all);
    Mode("ok");
    Open();
  }
  void Open() {
    bedrock_.reset();
    ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.models = {{"test.model-a", dir_.path() + "/model-a"}, {"test.model-b", dir_.path() + "/model-b"}};
    config.file_roots = {dir_.path()};
    config.worker_binary = dir_.path() + "/fake-lathe";
    auto opened = BedrockService::Open(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
  }
  void Mode(const std::string& mode) { dir_.Write("mode", mode + "\n"); }
  // What `lathe eval run` would write for kCases and two models.
  void WriteFixture() {
    eval::RunResult run;
    run.run_id = "eval-fixture";
    run.created = "2026-12-02T08:00:00.000Z";
    run.test_set = eval::ParseTestSet(kCases, dataset_);
    run.test_set_source = dataset_;
    for (const char* label : {"model-a", "model-b"}) {
      eval::ModelResult m;
      m.model.label = label;
      m.model.identifier = label;
      for (size_t i = 0; i < run.test_set.cases.size(); ++i) {
        eval::CaseResult r;
        r.case_index = i;
        r.answer.ok = true;
        r.answer.text = std::string(label) + " says reset link";
        r.answer.output_tokens = 3 + static_cast<int>(i);  // 7 per model
        r.metrics = eval::ScoreAnswer(run.test_set.cases[i], r.answer.text);
        m.cases.push_back(r);
      }
      run.models.push_back(m);
    }
    eval::Summarize(&run);
    std::ofstream(dir_.path() + "/fixture.json") << eval::RunToJson(run).dump();
  }
  json Request(const std::string& name, const std::string& dataset) {
    return {{"jobName", name},
            {"roleArn", "arn:aws:iam::123456789012:role/Eval"},
            {"evaluationConfig",
             {{"automated",
               {{"datasetMetricConfigs",
                 json::array({{{"taskType", "QuestionAndAnswer"},
                               {"dataset", {{"name", "banking"}, {"datasetLocation", {{"s3Uri", "file://" + dataset}}}}},
                               {"metricNames", {"Builtin.Accuracy", "Lathe.keywordCoverage"}}}})}}}}},
            {"inferenceConfig",
             {{"models",
               json::array({{{"bedrockModel", {{"modelIdentifier", "test.model-a"},
                                               {"inferenceParams", R"({"inferenceConfig": {"maxTokens": 32, "topP": 0.9}})"}}}},
                            {{"bedrockModel", {{"modelIdentifier", "test.model-b"},
                                               {"inferenceParams", R"({"inferenceConfig": {"maxTokens": 32, "topP": 0.9}})"}}}}})}}},
            {"outputDataConfig", {{"s3Uri", "file://" + dir_.path() + "/out"}}}};
  }
  json WaitFor(const std::string& arn, const std::function<bool(const json&)>& done, int seconds = 30) {
    json job;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
      auto got = bedrock_->evaluations().Get(arn);
      if (got.ok()) {
        job = *got;
        if (done(job)) return job;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  }
  static bool Ended(const json& j) {
    const std::string s = j.value("status", "");
    return s == "Completed" || s == "Failed" || s == "Stopped";
  }
  TempDir dir_;
  std::string dataset_;
  std::unique_ptr<BedrockService> bedrock_;
};

TEST_F(EvaluationRunner, ACompletedJobsResultsAreInBedrocksLayout) {
  auto created = bedrock_->evaluations().Create(Request("layout", dataset_));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = (*created)["jobArn"], id = arn.substr(arn.rfind('/') + 1);
  json job = WaitFor(arn, Ended);
  ASSERT_EQ(job["status"], "Completed") << job.dump(2);
  EXPECT_FALSE(job.contains("failureMessages"));

  // The worker's command line: the snapshot of the dataset, each model as LABEL=DIR, the settings.
  const std::string argv = lathe::testing::ReadFile(dir_.path() + "/argv.txt");
  EXPECT_NE(argv.find("eval\nrun\n--dataset\n"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--model\ntest.model-a=" + dir_.path() + "/model-a\n"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--model\ntest.model-b=" + dir_.path() + "/model-b\n"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--max-tokens\n32\n"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--top-p\n0.9\n"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--progress-json\n"), std::string::npos) << argv;

  const std::string root = dir_.path() + "/out/layout/" + id;
  EXPECT_TRUE(std::filesystem::exists(root + "/report.json"));
  EXPECT_TRUE(std::filesystem::exists(root + "/report.md"));
  for (const char* model : {"test.model-a", "test.model-b"}) {
    const std::string folder = root + "/models/" + model + "/taskTypes/QuestionAndAnswer/datasets/banking";
    ASSERT_TRUE(std::filesystem::is_directory(folder)) << folder;
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(folder)) files.push_back(f.path().string());
    ASSERT_EQ(files.size(), 1u);
    EXPECT_NE(files[0].find("_output.jsonl"), std::string::npos);
    std::istringstream in(lathe::testing::ReadFile(files[0]));
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1]["inputRecord"]["expected_theme"], "kept");
    EXPECT_EQ(lines[1]["modelResponses"][0]["modelIdentifier"], model);
    const json& scores = lines[1]["automatedEvaluationResult"]["scores"];
    ASSERT_EQ(scores.size(), 2u) << scores;
    EXPECT_EQ(scores[0]["metricName"], "Builtin.Accuracy");
    EXPECT_EQ(scores[0]["result"], 1.0);  // no reference: keyword coverage, "reset" and "link" both said
  }
  auto results = bedrock_->evaluations().Results(arn);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)["summary"]["models"].size(), 2u);
  EXPECT_EQ((*results)["reportUri"], "file://" + root + "/report.json");
}

// `lathe costs`: the worker's compute and each evaluated model's tokens stay in the job's row,
// and GetEvaluationJob shows them as the extra member latheCompute.
TEST_F(EvaluationRunner, ACompletedJobRecordsItsComputeAndTokens) {
  auto created = bedrock_->evaluations().Create(Request("compute", dataset_));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  json job = WaitFor((*created)["jobArn"], Ended);
  ASSERT_EQ(job["status"], "Completed") << job.dump(2);
  const json& c = job["latheCompute"];
  EXPECT_EQ(c["workers"], 1);
  EXPECT_GE(c["wallMs"].get<int64_t>(), 0);
  EXPECT_GE(c["cpuMs"].get<int64_t>(), 0);
  ASSERT_EQ(c["models"].size(), 2u) << c;
  EXPECT_EQ(c["models"][0]["identifier"], "test.model-a");
  EXPECT_EQ(c["models"][0]["kind"], "foundation-model");
  EXPECT_EQ(c["models"][0]["arn"], "arn:aws:bedrock:us-east-1::foundation-model/test.model-a");
  EXPECT_EQ(c["models"][1]["outputTokens"], 7);  // 3 + 4, as the run counted them
  // "How do I dispute a charge?" and "Reset my password": 43 characters, 6 to a token, rounded up.
  EXPECT_EQ(c["models"][1]["inputTokens"], 8);
  EXPECT_EQ(c["inputTokensEstimated"], true);
}

TEST_F(EvaluationRunner, AStopEndsTheWorkerWithinSeconds) {
  Mode("sleep");
  const std::string arn = (*bedrock_->evaluations().Create(Request("stopped", dataset_)))["jobArn"];
  json running = WaitFor(arn, [](const json& j) { return j.contains("latheProgress"); });
  ASSERT_TRUE(running.contains("latheProgress")) << running.dump(2);
  EXPECT_EQ(running["latheProgress"]["casesTotal"], 4);
  ASSERT_TRUE(bedrock_->evaluations().Stop(arn).ok());
  const std::string now = (*bedrock_->evaluations().Get(arn))["status"];
  EXPECT_TRUE(now == "Stopping" || now == "Stopped") << now;
  json job = WaitFor(arn, Ended, 15);
  EXPECT_EQ(job["status"], "Stopped");
}

// The worker checks the cases (the server does not parse 64 MiB of JSON); its problems become the
// job's failure messages, naming the dataset's URI rather than the job folder's copy.
TEST_F(EvaluationRunner, ABadDatasetFailsWithEveryProblemAtItsLine) {
  Mode("bad");
  const std::string bad = dir_.Write("bad.jsonl", "{\"prompt\": \"ok\"}\nnot json\n{\"referenceResponse\": \"no prompt\"}\n");
  const std::string arn = (*bedrock_->evaluations().Create(Request("bad-data", bad)))["jobArn"];
  json job = WaitFor(arn, Ended);
  ASSERT_EQ(job["status"], "Failed") << job.dump(2);
  ASSERT_EQ(job["failureMessages"].size(), 2u) << job.dump(2);  // the errors, not the warning
  EXPECT_EQ(job["failureMessages"][0], "file://" + bad + ":2:1: error: invalid JSON [invalid-json]") << job.dump(2);
  EXPECT_EQ(job["failureMessages"][1], "file://" + bad + ":3:1: error: no prompt [missing-prompt]") << job.dump(2);
}

TEST_F(EvaluationRunner, ADatasetPastTheBoundIsRefusedBeforeItIsRead) {
  const std::string big = dir_.path() + "/big.jsonl";
  {
    std::ofstream f(big);
    f.seekp(static_cast<std::streamoff>(eval::kMaxTestSetBytes));  // sparse: no disk used
    f << "\n";
  }
  const std::string arn = (*bedrock_->evaluations().Create(Request("too-big", big)))["jobArn"];
  json job = WaitFor(arn, Ended);
  ASSERT_EQ(job["status"], "Failed");
  EXPECT_NE(job["failureMessages"][0].get<std::string>().find("at most"), std::string::npos) << job.dump(2);
}

// A job name is free again once its job is deleted; the new job's results go beside the old
// job's under <output>/<jobName>/, which keeps them (Bedrock deletes no S3 results either).
TEST_F(EvaluationRunner, AReusedJobNameKeepsTheEarlierJobsResults) {
  const std::string first = (*bedrock_->evaluations().Create(Request("same-name", dataset_)))["jobArn"];
  ASSERT_EQ(WaitFor(first, Ended)["status"], "Completed");
  ASSERT_TRUE(bedrock_->evaluations().BatchDelete({{"jobIdentifiers", {first}}}).ok());
  const std::string second = (*bedrock_->evaluations().Create(Request("same-name", dataset_)))["jobArn"];
  ASSERT_EQ(WaitFor(second, Ended)["status"], "Completed");
  for (const std::string& arn : {first, second}) {
    const std::string id = arn.substr(arn.rfind('/') + 1);
    EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/out/same-name/" + id + "/report.json")) << id;
  }
}

// A Stop racing the job's end (the worker done, the results being published): an accepted Stop
// always ends the job Stopped, a refused one (Conflict) finds it already Completed.
TEST_F(EvaluationRunner, AStopRacingCompletionIsKeptOrRefusedNeverLost) {
  int completed = 0;
  for (int i = 0; i < 14; ++i) {  // Stops spread over the worker's run, its end and the publishing
    const std::string arn = (*bedrock_->evaluations().Create(Request("race-" + std::to_string(i), dataset_)))["jobArn"];
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + 30 * i));
    const Status stop = bedrock_->evaluations().Stop(arn);
    const json job = WaitFor(arn, Ended);
    if (stop.ok()) EXPECT_EQ(job["status"], "Stopped") << i;
    else EXPECT_EQ(job["status"], "Completed") << i << ": " << stop.ToString();
    completed += job["status"] == "Completed";
  }
  // Which side each Stop lands on depends on the machine's speed: no count is asserted.
  std::printf("%d of 14 jobs completed before their Stop\n", completed);
}

TEST_F(EvaluationRunner, AWorkerFailureIsTheJobsFailureMessage) {
  Mode("fail");
  const std::string arn = (*bedrock_->evaluations().Create(Request("worker-fails", dataset_)))["jobArn"];
  json job = WaitFor(arn, Ended);
  ASSERT_EQ(job["status"], "Failed");
  EXPECT_NE(job["failureMessages"][0].get<std::string>().find("the model ran out of memory"), std::string::npos) << job.dump(2);
}

TEST_F(EvaluationRunner, AJobInterruptedByAShutdownCompletesAfterTheRestart) {
  Mode("sleep");
  const std::string arn = (*bedrock_->evaluations().Create(Request("restarted", dataset_)))["jobArn"];
  ASSERT_TRUE(WaitFor(arn, [](const json& j) { return j.contains("latheProgress"); }).contains("latheProgress"));
  const auto start = Clock::now();
  bedrock_.reset();  // what SIGTERM to lathe serve does
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15));
  Mode("ok");
  Open();
  json job = WaitFor(arn, Ended);
  EXPECT_EQ(job["status"], "Completed") << job.dump(2);
  // Both workers' compute is counted: the interrupted one's was saved before the shutdown.
  auto row = bedrock_->store()->Find(kEvaluationJobKind, arn);
  ASSERT_TRUE(row.ok());
  const json compute = row->doc.value(kComputeKey, json::object());
  EXPECT_EQ(compute.value("workers", 0), 2) << compute.dump();
}

}  // namespace
}  // namespace lathe::service
