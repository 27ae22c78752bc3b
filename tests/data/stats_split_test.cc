// lathe data stats and split on small fixtures: every rule, a golden report, reproducibility.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/sha256.h"
#include "data/dedup.h"
#include "data/split.h"
#include "data/stats.h"
#include "test_util.h"

namespace lathe::data {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;

std::string Pc(const std::string& p, const std::string& c) {
  return nlohmann::json{{"prompt", p}, {"completion", c}}.dump() + "\n";
}

// 10 records: an exact duplicate pair (lines 1, 4), a normalized duplicate (line 5 of line 2),
// two short completions (lines 6, 7), one of 2001 characters (line 8).
std::string Fixture() {
  return Pc("How do I reset my PIN?", "Use the ATM's PIN services menu or the app.") +      // 1
         Pc("What is the routing number?", "It is printed on your checks and in the app.") +  // 2
         Pc("Can I open a joint account?", "Yes, both holders sign the agreement online.") +  // 3
         Pc("How do I reset my PIN?", "Use the ATM's PIN services menu or the app.") +      // 4
         Pc("what is the ROUTING number", "It is printed on your checks and in the app") +    // 5
         Pc("Is my money insured?", "Yes.") +                                                 // 6
         Pc("Do you offer mortgages?", "We do.") +                                            // 7
         Pc("How long can answers be?", std::string(2001, 'x')) +                             // 8
         Pc("Why was my card declined?", "Limits, funds, PIN or a fraud check.") +            // 9
         Pc("Where is the nearest ATM?", "The app's branch finder shows it.");                // 10
}

TEST(Dedup, NormalizationIgnoresCasePunctuationAndSpacing) {
  EXPECT_EQ(NormalizeText("  How do I   reset my PIN?! "), "how do i reset my pin");
  EXPECT_EQ(NormalizeText("caf\xC3\xA9, s'il vous pla\xC3\xAEt"), "caf\xC3\xA9 sil vous pla\xC3\xAEt");
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);  // FNV-1a offset basis
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);  // published FNV-1a 64 test vector
}

TEST(Stats, FindsDuplicatesShortLongAndBalance) {
  TempDir tmp;
  std::string f = tmp.Write("t.jsonl", Fixture());
  auto s = ComputeStats(Env::Default(), f, "", nullptr);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->records, 10u);
  ASSERT_EQ(s->exact_duplicates.size(), 1u);
  EXPECT_EQ(s->exact_duplicates[0].lines, (std::vector<uint64_t>{1, 4}));
  ASSERT_EQ(s->normalized_duplicates.size(), 2u);
  EXPECT_EQ(s->normalized_duplicates[1].lines, (std::vector<uint64_t>{2, 5}));
  EXPECT_EQ(s->short_completions, (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(s->long_completions, (std::vector<uint64_t>{8}));
  EXPECT_EQ(s->completion_chars.max, 2001u);
  EXPECT_EQ(s->prompt_chars.min, 20u);  // "Is my money insured?"
  ASSERT_FALSE(s->categories.empty());
  EXPECT_EQ(s->categories[0].word, "how");
  EXPECT_EQ(s->categories[0].count, 3u);
  // 2 of 10 completions under 20 chars is 20% > 10%; one is over 2000; duplicates exist.
  EXPECT_EQ(s->warnings.size(), 3u);
}

TEST(Stats, ShortCompletionsWarnOnlyAboveTenPercent) {
  TempDir tmp;
  std::string data;
  for (int i = 0; i < 10; ++i) data += Pc("Question number " + std::to_string(i) + "?", i == 0 ? "Short." : "A complete, helpful answer here.");
  auto s = ComputeStats(Env::Default(), tmp.Write("t.jsonl", data), "", nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->short_completions.size(), 1u);
  EXPECT_TRUE(s->warnings.empty());  // exactly 10% is not more than 10%
}

TEST(Stats, ReportsLeakageWithLinesOnBothSides) {
  TempDir tmp;
  std::string train = tmp.Write("t.jsonl", Fixture());
  std::string val = tmp.Write("v.jsonl", Pc("Brand new question?", "And its answer.") + Pc("IS my money insured", "Yes"));
  auto s = ComputeStats(Env::Default(), train, val, nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->validation_records, 2u);
  ASSERT_EQ(s->leaks.size(), 1u);
  EXPECT_EQ(s->leaks[0].validation_line, 2u);
  EXPECT_EQ(s->leaks[0].training_line, 6u);
}

TEST(Stats, GoldenReports) {
  TempDir tmp;
  std::string train = tmp.Write("train.jsonl", Fixture());
  std::string val = tmp.Write("val.jsonl", Pc("Is my money insured?", "Yes."));
  auto s = ComputeStats(Env::Default(), train, val, nullptr);
  ASSERT_TRUE(s.ok());
  s->file = "train.jsonl";  // stable names in the golden files
  s->validation_file = "val.jsonl";
  const std::string dir = std::string(LATHE_SOURCE_DIR) + "/tests/data/golden/";
  if (std::getenv("LATHE_UPDATE_GOLDEN")) {  // rewrite, then review the diff by hand
    std::ofstream(dir + "stats_report.txt") << FormatStats(*s);
    std::ofstream(dir + "stats_report.json") << StatsToJson(*s).dump(2) + "\n";
  }
  EXPECT_EQ(FormatStats(*s), ReadFile(dir + "stats_report.txt"));
  EXPECT_EQ(StatsToJson(*s).dump(2) + "\n", ReadFile(dir + "stats_report.json"));
}

TEST(Stats, InvalidInputNamesTheLine) {
  TempDir tmp;
  auto s = ComputeStats(Env::Default(), tmp.Write("t.jsonl", Pc("a?", "b") + "{oops\n"), "", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("t.jsonl:2:2: error: invalid JSON"), std::string::npos) << s.status().message();
}

std::string ManyRecords(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += Pc("Question " + std::to_string(i) + "?", "Answer number " + std::to_string(i) + ".");
  return out;
}

TEST(Split, SameSeedSameBytesDifferentSeedDifferentSplit) {
  TempDir tmp;
  std::string src = tmp.Write("all.jsonl", ManyRecords(100));
  SplitOptions o;
  o.seed = 7;
  o.out_dir = tmp.File("a");
  auto a = SplitDataset(Env::Default(), src, o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  o.out_dir = tmp.File("b");
  ASSERT_TRUE(SplitDataset(Env::Default(), src, o).ok());
  EXPECT_EQ(ReadFile(tmp.File("a/train.jsonl")), ReadFile(tmp.File("b/train.jsonl")));
  EXPECT_EQ(ReadFile(tmp.File("a/validation.jsonl")), ReadFile(tmp.File("b/validation.jsonl")));
  o.seed = 8;
  o.out_dir = tmp.File("c");
  ASSERT_TRUE(SplitDataset(Env::Default(), src, o).ok());
  EXPECT_NE(ReadFile(tmp.File("a/train.jsonl")), ReadFile(tmp.File("c/train.jsonl")));
  EXPECT_EQ(a->train_records, 80u);
  EXPECT_EQ(a->validation_records, 20u);
}

TEST(Split, IsTheSameOnEveryMachine) {
  // The order below was computed by an independent Python re-implementation of xoshiro256**
  // (splitmix64 seeding), Lemire's bounded draw and Fisher-Yates with seed 1 over 10 records:
  // training gets records 3 6 1 5 0 9 2 8 (0-based), validation 4 7. Any compiler or standard
  // library must give the same bytes; changing the algorithm must be a deliberate break.
  TempDir tmp;
  std::string src = tmp.Write("all.jsonl", ManyRecords(10));
  SplitOptions o;
  o.seed = 1;
  o.out_dir = tmp.File("o");
  ASSERT_TRUE(SplitDataset(Env::Default(), src, o).ok());
  std::string want_train, want_val;
  for (int i : {3, 6, 1, 5, 0, 9, 2, 8}) want_train += Pc("Question " + std::to_string(i) + "?", "Answer number " + std::to_string(i) + ".");
  for (int i : {4, 7}) want_val += Pc("Question " + std::to_string(i) + "?", "Answer number " + std::to_string(i) + ".");
  EXPECT_EQ(ReadFile(tmp.File("o/train.jsonl")), want_train);
  EXPECT_EQ(ReadFile(tmp.File("o/validation.jsonl")), want_val);
  std::string sha;
  ASSERT_TRUE(Sha256File(Env::Default(), tmp.File("o/train.jsonl"), &sha).ok());
  auto manifest = nlohmann::json::parse(ReadFile(tmp.File("o/manifest.json")));
  EXPECT_EQ(manifest["outputs"]["train"]["sha256"], sha);
  EXPECT_EQ(manifest["outputs"]["train"]["records"], 8);
  EXPECT_EQ(manifest["seed"], 1);
  EXPECT_EQ(manifest["source"]["format"], "prompt-completion");
}

TEST(Split, KeepsDuplicateGroupsOnOneSide) {
  TempDir tmp;
  std::string data = ManyRecords(40);
  for (int i = 0; i < 10; ++i) data += Pc("question 3", "answer number 3");  // normalized copies of record 4
  std::string src = tmp.Write("all.jsonl", data);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SplitOptions o;
    o.seed = seed;
    o.out_dir = tmp.File("s" + std::to_string(seed));
    auto r = SplitDataset(Env::Default(), src, o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->duplicate_groups, 1u);
    std::string train = ReadFile(tmp.File("s" + std::to_string(seed) + "/train.jsonl"));
    std::string val = ReadFile(tmp.File("s" + std::to_string(seed) + "/validation.jsonl"));
    auto has_group = [](const std::string& text) {
      return text.find("\"Question 3?\"") != std::string::npos || text.find("\"question 3\"") != std::string::npos;
    };
    auto has_all = [](const std::string& text) {
      return text.find("\"Question 3?\"") != std::string::npos && text.find("\"question 3\"") != std::string::npos;
    };
    EXPECT_NE(has_group(train), has_group(val)) << "seed " << seed;
    EXPECT_TRUE(has_all(train) || has_all(val)) << "seed " << seed;
    EXPECT_EQ(r->train_records + r->validation_records, 50u);
  }
}

TEST(Split, OutputLinesAreTheSourceBytesWithoutBomOrCrlf) {
  TempDir tmp;
  std::string src = tmp.Write("all.jsonl", "\xEF\xBB\xBF{\"prompt\": \"a?\",  \"completion\": \"b\"}\r\n"
                                           "{\"prompt\":\"c?\",\"completion\":\"d\"}\r\n");
  SplitOptions o;
  o.train_ratio = 0.5;
  o.out_dir = tmp.File("o");
  ASSERT_TRUE(SplitDataset(Env::Default(), src, o).ok());
  std::string both = ReadFile(tmp.File("o/train.jsonl")) + ReadFile(tmp.File("o/validation.jsonl"));
  EXPECT_NE(both.find("{\"prompt\": \"a?\",  \"completion\": \"b\"}\n"), std::string::npos);
  EXPECT_NE(both.find("{\"prompt\":\"c?\",\"completion\":\"d\"}\n"), std::string::npos);
  EXPECT_EQ(both.find('\r'), std::string::npos);
  EXPECT_EQ(both.find("\xEF\xBB\xBF"), std::string::npos);
}

TEST(Split, RejectsBadRatiosEmptySidesAndOverwrites) {
  TempDir tmp;
  std::string src = tmp.Write("all.jsonl", ManyRecords(4));
  SplitOptions o;
  o.out_dir = tmp.File("o");
  for (double bad : {0.0, 1.0, -0.5, 1.5}) {
    o.train_ratio = bad;
    EXPECT_EQ(SplitDataset(Env::Default(), src, o).status().code(), Status::Code::kInvalidArgument);
  }
  o.train_ratio = 0.99;
  auto r = SplitDataset(Env::Default(), src, o);
  EXPECT_NE(r.status().message().find("validation side empty"), std::string::npos) << r.status().message();
  o.train_ratio = 0.5;
  ASSERT_TRUE(SplitDataset(Env::Default(), src, o).ok());
  EXPECT_EQ(SplitDataset(Env::Default(), src, o).status().code(), Status::Code::kAlreadyExists);
  o.force = true;
  EXPECT_TRUE(SplitDataset(Env::Default(), src, o).ok());
}

}  // namespace
}  // namespace lathe::data
