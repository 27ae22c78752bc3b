// Blind review driven by scripted input: the order, the un-shuffling, bad input, quit and resume.
#include <algorithm>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "eval/report.h"
#include "eval/review.h"
#include "report_fixture.h"
#include "test_util.h"

namespace lathe::eval {
namespace {

using testing::HandBuiltRun;

// A person at the keyboard: `script` as stdin, what the review prints captured.
struct Terminal {
  explicit Terminal(const std::string& script) : in(std::tmpfile()), out(std::tmpfile()) {
    std::fputs(script.c_str(), in);
    std::rewind(in);
  }
  ~Terminal() {
    std::fclose(in);
    std::fclose(out);
  }
  std::string Printed() {
    std::fflush(out);
    std::rewind(out);
    std::string s;
    for (int c; (c = std::fgetc(out)) != EOF;) s += static_cast<char>(c);
    return s;
  }
  std::FILE* in;
  std::FILE* out;
};

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

std::map<std::string, double> Scores(std::vector<double> v) {
  std::map<std::string, double> m;
  for (size_t i = 0; i < v.size(); ++i) m[RubricCriteria()[i]] = v[i];
  return m;
}

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult run = HandBuiltRun();
    for (auto& m : run.models)
      for (auto& c : m.cases) c.human.clear();  // a run straight from `lathe eval run`
    ASSERT_TRUE(WriteReports(Env::Default(), run, dir_.path()).ok());
  }
  Status Review(Terminal* t) {
    ReviewOptions o;
    o.run_dir = dir_.path();
    o.in = t->in;
    o.out = t->out;
    return RunReview(Env::Default(), o);
  }
  RunResult Reloaded() {
    auto r = ReadReport(Env::Default(), dir_.path());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunResult{};
  }
  lathe::testing::TempDir dir_;
};

TEST(BlindOrder, IsADeterministicPermutationThatShuffles) {
  RunResult run = HandBuiltRun();
  run.models.resize(4, run.models[1]);
  size_t identity = 0;
  for (size_t i = 0; i < 60; ++i) {
    std::vector<size_t> order = BlindOrder(run, i);
    std::vector<size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<size_t>{0, 1, 2, 3}));
    EXPECT_EQ(order, BlindOrder(run, i));
    identity += order == std::vector<size_t>{0, 1, 2, 3};
  }
  EXPECT_LT(identity, 15u) << "the baseline would be recognisable by its position";
  RunResult other = run;
  other.run_id = "another-run";
  size_t same = 0;
  for (size_t i = 0; i < 60; ++i) same += BlindOrder(run, i) == BlindOrder(other, i);
  EXPECT_LT(same, 30u) << "the order should depend on the run";
}

TEST(RubricCriteria, AreTheGuidesFive) {
  EXPECT_EQ(RubricCriteria(), (std::vector<std::string>{"accuracy", "relevance", "tone", "completeness", "formatting"}));
}

TEST_F(ReviewTest, ScoresLandOnTheModelThatWroteTheAnswer) {
  // Case 1: answer 1 scored after two bad lines, answer 2 as five digits. Case 2: skipped.
  // Case 3: the base model failed, so only the tuned model's answer is asked for.
  Terminal t("bad\n6 1 1 1 1\n4 5 3 4 4\n12345\ns\n3,3,3,3,3\n");
  ASSERT_TRUE(Review(&t).ok());
  std::string printed = t.Printed();
  EXPECT_EQ(Count(printed, "Please give five whole scores"), 2u);
  EXPECT_EQ(printed.find("tuned"), std::string::npos) << "a model's name was shown";
  EXPECT_EQ(printed.find("amazon.titan"), std::string::npos);
  EXPECT_NE(printed.find("[no answer: the model failed]"), std::string::npos);
  EXPECT_NE(printed.find("Review complete. 2 of 3 cases scored, 1 skipped"), std::string::npos) << printed;

  RunResult run = HandBuiltRun();
  std::vector<size_t> order = BlindOrder(run, 0);
  RunResult after = Reloaded();
  EXPECT_EQ(after.models[order[0]].cases[0].human, Scores({4, 5, 3, 4, 4}));
  EXPECT_EQ(after.models[order[1]].cases[0].human, Scores({1, 2, 3, 4, 5}));
  EXPECT_TRUE(after.models[0].cases[1].human.empty());
  EXPECT_TRUE(after.models[1].cases[1].human.empty());
  EXPECT_TRUE(after.models[0].cases[2].human.empty());
  EXPECT_EQ(after.models[1].cases[2].human, Scores({3, 3, 3, 3, 3}));
  EXPECT_TRUE(after.human_reviewed);
  // Re-summarised: the rubric means are aggregated beside the automatic metrics.
  ASSERT_TRUE(after.models[1].overall.count("humanScore"));
  EXPECT_EQ(after.models[1].overall.at("humanScore").interval.n, 2u);
  std::string md = lathe::testing::ReadFile(dir_.File("report.md"));
  EXPECT_NE(md.find("## Human review"), std::string::npos);
  EXPECT_NE(lathe::testing::ReadFile(dir_.File("report.html")).find("id=\"chart-human\""), std::string::npos);
}

TEST_F(ReviewTest, QuitSavesAndAReviewResumesWhereItStopped) {
  {
    Terminal t("2 2 2 2 2\n5 5 5 5 5\n1 1 1 1 1\nq\n");  // case 1 done, case 2 half done, then quit
    Status s = Review(&t);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_NE(t.Printed().find("Saved. 1 of 3 cases scored"), std::string::npos) << t.Printed();
  }
  auto journal = nlohmann::json::parse(lathe::testing::ReadFile(dir_.File("review.json")));
  EXPECT_EQ(journal["cases"].size(), 1u);
  RunResult partial = Reloaded();
  EXPECT_FALSE(partial.human_reviewed);
  EXPECT_EQ(partial.models[BlindOrder(partial, 0)[0]].cases[0].human, Scores({2, 2, 2, 2, 2}));
  EXPECT_TRUE(partial.models[0].cases[1].human.empty()) << "a half-scored case was kept";
  {
    Terminal t("4 4 4 4 4\n3 3 3 3 3\n5 4 5 4 5\n");
    Status s = Review(&t);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::string printed = t.Printed();
    EXPECT_NE(printed.find("2 of 3 cases to review"), std::string::npos) << printed;
    EXPECT_EQ(printed.find("=== Case 1 of 3"), std::string::npos) << "case 1 was asked again";
  }
  RunResult done = Reloaded();
  EXPECT_TRUE(done.human_reviewed);
  std::vector<size_t> order = BlindOrder(done, 1);
  EXPECT_EQ(done.models[order[0]].cases[1].human, Scores({4, 4, 4, 4, 4}));
  EXPECT_EQ(done.models[order[1]].cases[1].human, Scores({3, 3, 3, 3, 3}));
  EXPECT_EQ(done.models[1].cases[2].human, Scores({5, 4, 5, 4, 5}));
  EXPECT_EQ(done.models[BlindOrder(done, 0)[1]].cases[0].human, Scores({5, 5, 5, 5, 5}));
}

TEST_F(ReviewTest, EndOfInputSavesLikeQuit) {
  Terminal t("3 3 3 3 3\n");
  ASSERT_TRUE(Review(&t).ok());
  EXPECT_NE(t.Printed().find("Saved. 0 of 3 cases scored"), std::string::npos) << t.Printed();
  EXPECT_FALSE(Env::Default()->FileExists(dir_.File("review.json")));
}

TEST_F(ReviewTest, AnswersCannotDriveTheTerminal) {
  RunResult run = Reloaded();
  // ESC sequences, BEL, C1's CSI as UTF-8, and bidi overrides (U+202E RLO, U+2066 LRI, U+200F).
  run.models[0].cases[0].answer.text =
      "clear\x1b[2J\x1b]0;title\x07 and \xC2\x9B" "31m rev\xE2\x80\xAE" "desrever\xE2\x81\xA6x\xE2\x80\x8F ok \xC3\x9B";
  ASSERT_TRUE(WriteReports(Env::Default(), run, dir_.path()).ok());
  Terminal t("q\n");
  ASSERT_TRUE(Review(&t).ok());
  std::string printed = t.Printed();
  EXPECT_EQ(printed.find('\x1b'), std::string::npos);
  EXPECT_EQ(printed.find('\x07'), std::string::npos);
  EXPECT_EQ(printed.find("\xC2\x9B"), std::string::npos);
  EXPECT_NE(printed.find("clear^[[2J"), std::string::npos);
  EXPECT_EQ(printed.find("\xE2\x80\xAE"), std::string::npos);
  EXPECT_EQ(printed.find("\xE2\x81\xA6"), std::string::npos);
  EXPECT_EQ(printed.find("\xE2\x80\x8F"), std::string::npos);
  EXPECT_NE(printed.find("rev\xEF\xBF\xBD" "desrever"), std::string::npos);
  EXPECT_NE(printed.find("ok \xC3\x9B"), std::string::npos);  // a letter (U+00DB) whose 2nd byte is 0x9B stays
}

TEST_F(ReviewTest, RefusesAJournalOfAnotherRunOrWithBadScores) {
  lathe::testing::TempDir unused;
  dir_.Write("review.json", R"({"runId": "someone-else", "cases": []})");
  Terminal t("q\n");
  Status s = Review(&t);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("another run"), std::string::npos) << s.ToString();
  dir_.Write("review.json", R"({"runId": "eval-20261202-081500-3f2a", "cases": [{"case": 0, "scores": [{"accuracy": 9}, {}]}]})");
  Terminal t2("q\n");
  s = Review(&t2);
  EXPECT_NE(s.message().find("cases[0].scores[0].accuracy: expected 1 to 5"), std::string::npos) << s.ToString();
}

TEST(Review, AMissingRunFolderIsNotFound) {
  lathe::testing::TempDir dir;
  Terminal t("");
  ReviewOptions o;
  o.run_dir = dir.File("nope");
  o.in = t.in;
  o.out = t.out;
  EXPECT_EQ(RunReview(Env::Default(), o).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace lathe::eval
