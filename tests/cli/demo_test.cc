// `lathe demo` end to end, as a newcomer runs it: the broken file is rejected at its exact lines,
// the sample is accepted, and the split it leaves behind is valid.
#include <gtest/gtest.h>

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace lathe {
namespace {

using testing::ReadFile;
using testing::RunLatheBinary;
using testing::TempDir;

TEST(Demo, RejectsTheBrokenFileAtItsLinesAcceptsTheSampleAndFineTunes) {
  TempDir tmp;
  // A private data directory and a small default model keep this test to about a minute.
  setenv("LATHE_HOME", tmp.File("home").c_str(), 1);
  std::string out, err;
  int rc = RunLatheBinary("demo --dir " + tmp.path() + " --default-max-records 4000", &out, &err);
  unsetenv("LATHE_HOME");
  const std::string demo_out = out;
  ASSERT_EQ(rc, 0) << out << err;
  const std::string broken = tmp.File("banking_support_broken.jsonl");
  // The four planted mistakes, each at its line (and column for the JSON syntax error).
  EXPECT_NE(out.find(broken + ":3: error: completion: required key \"completion\" is missing"),
            std::string::npos) << out;
  EXPECT_NE(out.find(broken + ":7:97: error: invalid JSON"), std::string::npos) << out;
  EXPECT_NE(out.find(broken + ":12: error: prompt: contains only whitespace"), std::string::npos);
  EXPECT_NE(out.find(broken + ":20: error: record is chat but the file is prompt-completion"),
            std::string::npos);
  EXPECT_NE(out.find(tmp.File("banking_support.jsonl") + ": OK"), std::string::npos) << out;
  // The split it made is there and valid on its own.
  ASSERT_TRUE(std::filesystem::exists(tmp.File("split/train.jsonl")));
  ASSERT_TRUE(std::filesystem::exists(tmp.File("split/manifest.json")));
  rc = RunLatheBinary("data validate " + tmp.File("split/train.jsonl") + " --validation " +
                          tmp.File("split/validation.jsonl"),
                      &out);
  EXPECT_EQ(rc, 0) << out;
  // Through the server: the job completed, its metrics are in Bedrock's layout under the output
  // folder, validation loss fell over the epochs, and both models answered.
  EXPECT_NE(demo_out.find("Completed: bank-support"), std::string::npos) << demo_out;
  EXPECT_NE(demo_out.find("Status          InService"), std::string::npos) << demo_out;
  std::vector<double> losses;
  for (const auto& e : std::filesystem::directory_iterator(tmp.File("output"))) {
    std::istringstream csv(ReadFile(e.path().string() +
                                    "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"));
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "step_number,epoch_number,validation_loss,perplexity");
    while (std::getline(csv, line)) losses.push_back(std::stod(line.substr(line.find(',', line.find(',') + 1) + 1)));
  }
  ASSERT_EQ(losses.size(), 8u);  // one row per epoch
  EXPECT_LT(*std::min_element(losses.begin(), losses.end()), losses.front());
  EXPECT_TRUE(std::filesystem::exists(tmp.File("home/models/lathe-default/lathe_model_card.json")));
  // It ends with the evaluation of both models on the built-in banking test set (questions the
  // fine-tune never saw, with keywords): the three reports, every case answered by both, with
  // the automation tutorial's settings recorded.
  const std::string test_set = tmp.File("banking_eval.jsonl");
  EXPECT_NE(demo_out.find("lathe eval run --dataset " + test_set), std::string::npos) << demo_out;
  EXPECT_NE(demo_out.find("--stop $'\\n' --seed 1"), std::string::npos) << demo_out;
  for (const char* name : {"report.json", "report.md", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(tmp.File(std::string("evaluation/") + name))) << name;
  EXPECT_NE(demo_out.find(tmp.File("evaluation/report.html")), std::string::npos) << demo_out;
  auto report = nlohmann::json::parse(ReadFile(tmp.File("evaluation/report.json")), nullptr, false);
  ASSERT_TRUE(report.is_object());
  size_t cases = 0, with_keywords = 0;
  {
    std::istringstream in(ReadFile(test_set));
    for (std::string line; std::getline(in, line);) {
      cases += !line.empty();
      with_keywords += line.find("\"expected_keywords\": [\"") != std::string::npos;
    }
  }
  EXPECT_EQ(cases, 30u);
  EXPECT_EQ(with_keywords, cases);
  // None of its questions is in the training data.
  const std::string train = ReadFile(tmp.File("split/train.jsonl")) + ReadFile(tmp.File("split/validation.jsonl"));
  for (const auto& r : report["results"]) EXPECT_EQ(train.find(r["prompt"].get<std::string>()), std::string::npos) << r;
  ASSERT_EQ(report["models"].size(), 2u) << report.dump().substr(0, 2000);
  for (const auto& m : report["models"]) EXPECT_EQ(m["cases"].size(), cases);
  EXPECT_EQ(report["settings"]["temperature"], 0.1);
  EXPECT_EQ(report["settings"]["maxTokens"], 48);
  EXPECT_TRUE(report["comparisons"].dump().find("keywordCoverage") != std::string::npos);
  // The demo's own report in headless Chromium: every chart drawn, a row for every case (the
  // browser test's checks, on this run instead of its generated one). Skipped without chromium.
  if (std::system("command -v chromium >/dev/null 2>&1") == 0) {
    const std::string log = tmp.File("browser.log");
    const std::string cmd = std::string("python3 ") + LATHE_SOURCE_DIR + "/tests/integration/eval_report_browser_test.py --lathe " +
                            LATHE_BINARY + " --run-dir " + tmp.File("evaluation") + " > " + log + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(log);
  }
}

TEST(Demo, DataStepsCanRunTwiceInTheSameFolder) {
  TempDir tmp;
  std::string out;
  ASSERT_EQ(RunLatheBinary("demo --data-only --dir " + tmp.path(), &out), 0) << out;
  EXPECT_EQ(RunLatheBinary("demo --data-only --dir " + tmp.path(), &out), 0) << out;
}

}  // namespace
}  // namespace lathe
