// An evaluation job's results in Bedrock's S3 layout (the user guide's "Understand how the results
// of your model evaluation job are saved in Amazon S3"), from a run built by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "service/evaluation_output.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;
using lathe::testing::TempDir;

eval::RunResult TwoModelRun() {
  eval::RunResult run;
  run.run_id = "eval-test";
  for (int i = 0; i < 2; ++i) {
    eval::TestCase c;
    c.id = "line-" + std::to_string(i + 1);
    c.line = i + 1;
    c.prompt = "question " + std::to_string(i);
    if (i == 0) c.reference = "answer zero";
    else c.keywords = {"dispute", "card"};
    c.record = {{"prompt", c.prompt}, {"expected_theme", "kept as is"}};
    run.test_set.cases.push_back(c);
  }
  for (const char* label : {"base", "tuned"}) {
    eval::ModelResult m;
    m.model.label = label;
    m.overall_score = label == std::string("base") ? 0.25 : 0.75;
    m.overall["tokenF1"].interval.mean = 0.5;
    for (size_t i = 0; i < 2; ++i) {
      eval::CaseResult r;
      r.case_index = i;
      r.answer.ok = true;
      r.answer.text = std::string(label) + " answer " + std::to_string(i);
      if (i == 0) r.metrics = {{"tokenF1", 0.5}, {"rougeL", 0.4}, {"keywordCoverage", 1.0}};
      else r.metrics = {{"keywordCoverage", 0.5}};
      m.cases.push_back(r);
    }
    run.models.push_back(m);
  }
  run.models[1].cases[1].answer.ok = false;  // a failed answer: no scores, the error kept
  run.models[1].cases[1].answer.error = "generation failed";
  eval::Comparison cmp;
  cmp.baseline_label = "base";
  cmp.candidate_label = "tuned";
  cmp.by_metric["tokenF1"].verdict = eval::Verdict::kBetter;
  run.comparisons.push_back(cmp);
  return run;
}

TEST(EvaluationOutput, OneLinePerCaseInBedrocksLayoutPerModel) {
  TempDir dir;
  const eval::RunResult run = TwoModelRun();
  const std::string run_dir = dir.path() + "/run";
  std::filesystem::create_directories(run_dir);
  dir.Write("run/report.json", "{}");
  EvaluationOutputJob job{"abcdefabcdef", "QuestionAndAnswer", "banking", {"Builtin.Accuracy", "Lathe.rougeL"},
                          {"amazon.titan-text-express-v1", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/0123456789ab"}};
  auto written = WriteEvaluationOutput(Env::Default(), run, job, run_dir, dir.path() + "/publish");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 3u);  // two models' files and report.json (the others do not exist)
  const std::string base = dir.path() + "/publish/abcdefabcdef/models/";
  EXPECT_EQ((*written)[0].rfind(base + "amazon.titan-text-express-v1/taskTypes/QuestionAndAnswer/datasets/banking/", 0), 0u)
      << (*written)[0];
  EXPECT_EQ((*written)[1].rfind(base + "arn-aws-bedrock-us-east-1-123456789012-provisioned-model-0123456789ab/taskTypes/", 0), 0u)
      << (*written)[1];
  const std::string name = std::filesystem::path((*written)[0]).filename().string();
  EXPECT_EQ(name.size(), 36u + std::string("_output.jsonl").size()) << name;  // <uuid>_output.jsonl
  EXPECT_EQ((*written)[2], dir.path() + "/publish/abcdefabcdef/report.json");

  std::vector<json> lines;
  std::istringstream in(lathe::testing::ReadFile((*written)[1]));
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["inputRecord"], run.test_set.cases[0].record);  // the case's line, unknown keys too
  EXPECT_EQ(lines[0]["modelResponses"][0]["response"], "tuned answer 0");
  EXPECT_EQ(lines[0]["modelResponses"][0]["modelIdentifier"], job.model_identifiers[1]);
  // Builtin.Accuracy = tokenF1 where there is a reference; the requested Lathe metric beside it.
  EXPECT_EQ(lines[0]["automatedEvaluationResult"]["scores"],
            json::parse(R"([{"metricName": "Builtin.Accuracy", "result": 0.5}, {"metricName": "Lathe.rougeL", "result": 0.4}])"));
  EXPECT_EQ(lines[1]["automatedEvaluationResult"]["scores"], json::array());  // failed: no scores
  EXPECT_EQ(lines[1]["modelResponses"][0]["latheError"], "generation failed");

  std::istringstream base_in(lathe::testing::ReadFile((*written)[0]));
  std::string first, second;
  std::getline(base_in, first);
  std::getline(base_in, second);
  // No reference: Builtin.Accuracy is keyword coverage; rougeL does not apply, so it is absent.
  EXPECT_EQ(json::parse(second)["automatedEvaluationResult"]["scores"],
            json::parse(R"([{"metricName": "Builtin.Accuracy", "result": 0.5}])"));
}

// A job run again after a restart publishes to the same names: one file per model, not two.
TEST(EvaluationOutput, ARerunOverwritesItsFilesInsteadOfAddingOthers) {
  TempDir dir;
  const eval::RunResult run = TwoModelRun();
  std::filesystem::create_directories(dir.path() + "/run");
  EvaluationOutputJob job{"abcdefabcdef", "Custom", "d", {"Builtin.Accuracy"}, {"base-id", "tuned-id"}};
  auto first = WriteEvaluationOutput(Env::Default(), run, job, dir.path() + "/run", dir.path() + "/publish");
  auto second = WriteEvaluationOutput(Env::Default(), run, job, dir.path() + "/run", dir.path() + "/publish");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_NE((*first)[0], (*first)[1]);
  for (const std::string model : {"base-id", "tuned-id"}) {
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/publish/abcdefabcdef/models/" + model +
                                                             "/taskTypes/Custom/datasets/d"))
      files += e.is_regular_file();
    EXPECT_EQ(files, 1u) << model;
  }
  // Another job's names differ (its files never collide in a shared output location).
  job.job_id = "bcdefabcdefa";
  auto other = WriteEvaluationOutput(Env::Default(), run, job, dir.path() + "/run", dir.path() + "/publish");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(std::filesystem::path((*other)[0]).filename(), std::filesystem::path((*first)[0]).filename());
}

TEST(EvaluationOutput, TheSummaryHasEachModelsScoresAndTheVerdict) {
  const eval::RunResult run = TwoModelRun();
  EvaluationOutputJob job{"id", "Custom", "d", {"Builtin.Accuracy"}, {"base-id", "tuned-id"}};
  json s = EvaluationSummary(run, job);
  ASSERT_EQ(s["models"].size(), 2u);
  EXPECT_EQ(s["models"][0]["modelIdentifier"], "base-id");
  EXPECT_EQ(s["models"][1]["overallScore"], 0.75);
  EXPECT_EQ(s["models"][0]["metrics"]["Builtin.Accuracy"], 0.5);   // (0.5 + 0.5) / 2
  EXPECT_EQ(s["models"][1]["metrics"]["Builtin.Accuracy"], 0.5);   // the failed case is left out
  EXPECT_EQ(s["models"][0]["metrics"]["tokenF1"], 0.5);
  EXPECT_EQ(s["models"][1]["failed"], 0);  // TwoModelRun sets no count; the error is still named
  EXPECT_EQ(s["models"][1]["firstError"], "generation failed");
  EXPECT_FALSE(s["models"][0].contains("firstError"));
  ASSERT_EQ(s["comparisons"].size(), 1u);
  // Read from Builtin.Accuracy per case (tokenF1 on case 0, keyword coverage on case 1), not from
  // the run's tokenF1 comparison ("better" here): one pair can show no significant difference.
  EXPECT_EQ(s["comparisons"][0]["verdictMetric"], "Builtin.Accuracy");
  EXPECT_EQ(s["comparisons"][0]["verdict"], "no significant difference");
  EXPECT_EQ(s["comparisons"][0]["byMetric"]["Builtin.Accuracy"]["pairs"], 1);  // the failed case is left out
  EXPECT_EQ(s["comparisons"][0]["byMetric"]["tokenF1"]["verdict"], "better");
}

// A mixed set (references on some cases, keywords on others): the verdict counts every case.
TEST(EvaluationOutput, TheVerdictIsReadFromEveryCasesAccuracy) {
  eval::RunResult run;
  for (int i = 0; i < 12; ++i) {
    eval::TestCase c;
    c.prompt = "q" + std::to_string(i);
    if (i < 2) c.reference = "r";
    else c.keywords = {"k"};
    run.test_set.cases.push_back(c);
  }
  for (const char* label : {"base", "tuned"}) {
    eval::ModelResult m;
    m.model.label = label;
    for (size_t i = 0; i < 12; ++i) {
      eval::CaseResult r;
      r.case_index = i;
      r.answer.ok = true;
      const bool tuned = label == std::string("tuned");
      // tokenF1 equal on the two reference cases; keyword coverage much better on the ten others.
      if (i < 2) r.metrics = {{"tokenF1", 0.5}};
      else r.metrics = {{"keywordCoverage", tuned ? 1.0 : 0.0}};
      m.cases.push_back(r);
    }
    run.models.push_back(m);
  }
  eval::Comparison cmp;
  cmp.baseline_label = "base";
  cmp.candidate_label = "tuned";
  run.comparisons.push_back(cmp);
  json s = EvaluationSummary(run, {"id", "Custom", "d", {"Builtin.Accuracy"}, {"b", "t"}});
  EXPECT_EQ(s["comparisons"][0]["verdict"], "better") << s.dump(2);
  EXPECT_EQ(s["comparisons"][0]["byMetric"]["Builtin.Accuracy"]["pairs"], 12);
}

TEST(EvaluationOutput, ModelFolderNamesAreSafeAndBounded) {
  EXPECT_EQ(ModelFolderName("../../etc"), "..-..-etc");
  EXPECT_EQ(ModelFolderName(std::string(500, 'a')).size(), 200u);
  EXPECT_EQ(ModelFolderName(""), "model");
  EXPECT_EQ(ModelFolderName(".."), "model..");  // a dataset named ".." must not climb out of datasets/
}

}  // namespace
}  // namespace lathe::service
