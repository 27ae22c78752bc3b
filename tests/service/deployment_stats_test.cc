// Per-variant deployment stats (deployment_stats.h) with explicit times: windows over minute
// buckets, the bounds (a day of buckets, served models, remembered responses, comments), latency
// percentiles, feedback on real, forged and forgotten response ids, and the flushed row read back
// by a new instance and by SummaryFromRow.
#include "service/deployment_stats.h"

#include <gtest/gtest.h>

#include <set>

#include "core/arn.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::TempDir;

constexpr int64_t kT0 = 1'800'000'000'000;  // a minute boundary (divisible by 60000)
constexpr int64_t kMinute = 60'000;

Outcome Ok(const std::string& served, int64_t t, int64_t latency = 100) {
  Outcome o;
  o.deployment_id = "dep1";
  o.served = served;
  o.time_ms = t;
  o.latency_ms = latency;
  o.input_tokens = 10;
  o.output_tokens = 20;
  o.compute_ms = 7;
  return o;
}

Feedback Rating(const std::string& r) { return Feedback{r, -1, ""}; }

TEST(DeploymentStats, CountsRequestsErrorsThrottlesAndTokensPerServedModel) {
  DeploymentStats stats(nullptr);
  stats.Record(Ok("g/1", kT0));
  stats.Record(Ok("g/1", kT0 + 1000));
  Outcome failed = Ok("g/1", kT0 + 2000);
  failed.ok = false;
  stats.Record(failed);
  Outcome throttled = Ok("g/1", kT0 + 3000);
  throttled.throttled = true;
  stats.Record(throttled);
  stats.Record(Ok("g/2", kT0 + 4000));

  WindowStats w = stats.Window("dep1", "g/1", kT0 + 5000, 60000);
  EXPECT_EQ(w.requests, 4);
  EXPECT_EQ(w.errors, 1);
  EXPECT_EQ(w.throttled, 1);
  EXPECT_EQ(w.input_tokens, 20);  // answered requests only
  EXPECT_EQ(w.output_tokens, 40);
  EXPECT_EQ(w.compute_ms, 14);
  EXPECT_EQ(w.latency_p50_ms, 100);  // every latency the same: exact
  EXPECT_EQ(w.latency_p95_ms, 100);
  EXPECT_EQ(stats.Window("dep1", "g/2", kT0 + 5000, 60000).requests, 1);
  EXPECT_EQ(stats.Window("dep1", "g/3", kT0, 60000).requests, 0);
  EXPECT_EQ(stats.Window("nope", "g/1", kT0, 60000).requests, 0);
  EXPECT_EQ(stats.LastRequest("dep1"), kT0 + 4000);
  EXPECT_EQ(stats.LastRequest("nope"), 0);

  auto summary = stats.Summary("dep1", kT0 + 5000, 60000);
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0].served, "g/1");
  EXPECT_EQ(summary[0].variant, "");
  EXPECT_EQ(summary[0].total.requests, 4);
  EXPECT_EQ(summary[0].last_request_ms, kT0 + 3000);
  EXPECT_EQ(summary[1].served, "g/2");
}

TEST(DeploymentStats, LatencyPercentilesComeFromTheHistogramWithinAQuarterOctave) {
  DeploymentStats stats(nullptr);
  // 90 fast answers at 10 ms, 10 slow ones at 1000 ms.
  for (int i = 0; i < 90; ++i) stats.Record(Ok("g/1", kT0, 10));
  for (int i = 0; i < 10; ++i) stats.Record(Ok("g/1", kT0, 1000));
  WindowStats w = stats.Window("dep1", "g/1", kT0, kMinute);
  EXPECT_GE(w.latency_p50_ms, 10);
  EXPECT_LE(w.latency_p50_ms, 12);  // 10 ms lies in [9.5, 11.3): the bin's top, rounded
  EXPECT_GE(w.latency_p95_ms, 1000);
  EXPECT_LE(w.latency_p95_ms, 1000);  // the slowest seen caps the estimate
  // Failed requests have no latency to count.
  Outcome failed = Ok("g/9", kT0, 5);
  failed.ok = false;
  stats.Record(failed);
  EXPECT_EQ(stats.Window("dep1", "g/9", kT0, kMinute).latency_p50_ms, 0);
}

TEST(DeploymentStats, TheWindowCoversTheMinutesItTouches) {
  DeploymentStats stats(nullptr);
  stats.Record(Ok("g/1", kT0 - 10 * kMinute));  // minute -10
  stats.Record(Ok("g/1", kT0 - 2 * kMinute + 1));  // minute -2
  stats.Record(Ok("g/1", kT0 - 1));                // minute -1
  stats.Record(Ok("g/1", kT0 + 59'999));           // minute 0
  const int64_t now = kT0 + 30'000;
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 0).requests, 1);          // this minute
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 30'000).requests, 1);     // back to minute 0's start
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 30'001).requests, 2);     // touches minute -1
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 2 * kMinute).requests, 3);
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 10 * kMinute).requests, 4);
  // A window in the past sees nothing newer than its end.
  EXPECT_EQ(stats.Window("dep1", "g/1", kT0 - kMinute, kMinute).requests, 2);
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 10 * kMinute).input_tokens, 40);
}

// A rollback's judged requests are out of the judge's window (a challenger given traffic again
// starts clean) but stay in what people read.
TEST(DeploymentStats, TheJudgeCountsOnlyWhatCameAfterARollbackJudgedIt) {
  DeploymentStats stats(nullptr);
  Outcome failed = Ok("g/2", kT0 + 1000);
  failed.ok = false;
  for (int i = 0; i < 3; ++i) stats.Record(failed);
  stats.Record(Ok("g/2", kT0 + 2000));
  stats.ExcludeFromJudging("dep1", "g/2");
  stats.ExcludeFromJudging("dep1", "never-served");  // nothing to exclude: no effect
  EXPECT_EQ(stats.JudgeWindow("dep1", "g/2", kT0 + 3000, 5 * kMinute).requests, 0);
  stats.Record(failed);
  stats.Record(Ok("g/2", kT0 + kMinute));
  const WindowStats judged = stats.JudgeWindow("dep1", "g/2", kT0 + kMinute, 5 * kMinute);
  EXPECT_EQ(judged.requests, 2);
  EXPECT_EQ(judged.errors, 1);
  const WindowStats shown = stats.Window("dep1", "g/2", kT0 + kMinute, 5 * kMinute);
  EXPECT_EQ(shown.requests, 6);
  EXPECT_EQ(shown.errors, 4);
  // Once the judged minute leaves the window nothing is taken off twice.
  EXPECT_EQ(stats.JudgeWindow("dep1", "g/2", kT0 + kMinute, 0).requests, 1);
}

TEST(DeploymentStats, ADayOfBucketsIsKeptAndTotalsForever) {
  DeploymentStats stats(nullptr);
  for (int64_t m = 0; m < static_cast<int64_t>(kMaxStatsBuckets) + 100; ++m) stats.Record(Ok("g/1", kT0 + m * kMinute));
  const int64_t now = kT0 + (kMaxStatsBuckets + 99) * kMinute;
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 7 * 24 * 3600 * 1000LL).requests, static_cast<int64_t>(kMaxStatsBuckets));
  auto summary = stats.Summary("dep1", now, 7 * 24 * 3600 * 1000LL);
  EXPECT_EQ(summary[0].total.requests, static_cast<int64_t>(kMaxStatsBuckets) + 100);
  // A late request from before the kept day counts in the totals only.
  stats.Record(Ok("g/1", kT0));
  EXPECT_EQ(stats.Window("dep1", "g/1", now, 7 * 24 * 3600 * 1000LL).requests, static_cast<int64_t>(kMaxStatsBuckets));
  EXPECT_EQ(stats.Summary("dep1", now, kMinute)[0].total.requests, static_cast<int64_t>(kMaxStatsBuckets) + 101);
  // A late one within the day lands in its own minute.
  stats.Record(Ok("g/1", now - 5 * kMinute));
  EXPECT_EQ(stats.Window("dep1", "g/1", now - 5 * kMinute, 0).requests, 2);
}

TEST(DeploymentStats, TheLongestIdleServedModelMakesRoomForANewOne) {
  DeploymentStats stats(nullptr);
  for (size_t i = 0; i < kMaxServedPerDeployment; ++i) stats.Record(Ok("g/" + std::to_string(i), kT0 + 1000 * (i == 0 ? 99 : i)));
  stats.Record(Ok("g/new", kT0 + 200'000));
  auto summary = stats.Summary("dep1", kT0 + 200'000, kMinute);
  ASSERT_EQ(summary.size(), kMaxServedPerDeployment);
  std::set<std::string> served;
  for (const auto& v : summary) served.insert(v.served);
  EXPECT_EQ(served.count("g/1"), 0u);  // idle longest (g/0 answered later)
  EXPECT_EQ(served.count("g/0"), 1u);
  EXPECT_EQ(served.count("g/new"), 1u);
}

TEST(DeploymentStats, ResponseIdsAreFreshAndShaped) {
  DeploymentStats stats(nullptr);
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = stats.Record(Ok("g/1", kT0));
    ASSERT_EQ(id.size(), 25u);
    ASSERT_EQ(id.rfind("resp-", 0), 0u);
    for (char c : id.substr(5)) ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(DeploymentStats, FeedbackCountsOncePerResponseAndTheLastOneHolds) {
  DeploymentStats stats(nullptr);
  std::string a = stats.Record(Ok("g/1", kT0));
  std::string b = stats.Record(Ok("g/1", kT0));
  std::string c = stats.Record(Ok("g/1", kT0));
  ASSERT_TRUE(stats.AddFeedback(a, Rating("up")).ok());
  ASSERT_TRUE(stats.AddFeedback(b, Rating("up")).ok());
  ASSERT_TRUE(stats.AddFeedback(b, Rating("down")).ok());  // replaces b's up
  ASSERT_TRUE(stats.AddFeedback(c, Feedback{"", 0.75, "close enough"}).ok());
  WindowStats w = stats.Window("dep1", "g/1", kT0, kMinute);
  EXPECT_EQ(w.feedback, 3);
  EXPECT_EQ(w.positive, 2);  // a's up and c's 0.75
  EXPECT_DOUBLE_EQ(w.feedback_score_sum, 1.0 + 0.0 + 0.75);
  auto summary = stats.Summary("dep1", kT0, kMinute);
  EXPECT_EQ(summary[0].total.feedback, 3);
  EXPECT_EQ(summary[0].comments, std::vector<std::string>{"close enough"});
  // A rating with a score: the rating decides up or down, the score is what is summed.
  ASSERT_TRUE(stats.AddFeedback(c, Feedback{"down", 0.4, ""}).ok());
  w = stats.Window("dep1", "g/1", kT0, kMinute);
  EXPECT_EQ(w.positive, 1);
  EXPECT_DOUBLE_EQ(w.feedback_score_sum, 1.4);
}

TEST(DeploymentStats, FeedbackOnUnknownForgedOrHostileIdsIsNotFound) {
  DeploymentStats stats(nullptr);
  std::string real = stats.Record(Ok("g/1", kT0));
  std::string forged = real;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  for (const std::string& id : {forged, std::string("resp-"), std::string(""), std::string(1 << 20, 'r'),
                                std::string("resp-\xff\xfe\x00zzzzzzzzzzzzzzzzz", 25)}) {
    Status st = stats.AddFeedback(id, Rating("up"));
    EXPECT_EQ(st.code(), Status::Code::kNotFound) << st.ToString();
    EXPECT_LT(st.message().size(), 200u);  // a megabyte id is not echoed
  }
  EXPECT_EQ(stats.Window("dep1", "g/1", kT0, kMinute).feedback, 0);
  // A deployment forgotten (deleted) takes its responses' feedback with it.
  ASSERT_TRUE(stats.Forget("dep1").ok());
  EXPECT_EQ(stats.AddFeedback(real, Rating("up")).code(), Status::Code::kNotFound);
}

TEST(DeploymentStats, BadFeedbackIsInvalidArgument) {
  DeploymentStats stats(nullptr);
  std::string id = stats.Record(Ok("g/1", kT0));
  auto code = [&](const Feedback& f) { return stats.AddFeedback(id, f).code(); };
  EXPECT_EQ(code(Feedback{"sideways", -1, ""}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"UP", -1, ""}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"", -1, "no rating, no score"}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"", 1.01, ""}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"", -0.5, ""}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"", std::nan(""), ""}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"up", -1, std::string(kMaxFeedbackCommentBytes + 1, 'x')}), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Feedback{"up", -1, "\xc3\x28"}), Status::Code::kInvalidArgument);
  // Bad input is refused before the id is looked up, and nothing was counted.
  EXPECT_EQ(stats.AddFeedback("resp-forged", Feedback{"sideways", -1, ""}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(stats.Window("dep1", "g/1", kT0, kMinute).feedback, 0);
  EXPECT_TRUE(stats.AddFeedback(id, Feedback{"up", -1, std::string(kMaxFeedbackCommentBytes, 'x')}).ok());
}

TEST(DeploymentStats, OnlyTheNewestResponsesAreRemembered) {
  DeploymentStats stats(nullptr);
  std::string oldest = stats.Record(Ok("g/1", kT0));
  std::string second = stats.Record(Ok("g/1", kT0));
  for (size_t i = 2; i < kMaxRememberedResponses; ++i) stats.Record(Ok("g/1", kT0));
  EXPECT_TRUE(stats.AddFeedback(oldest, Rating("up")).ok());  // exactly kMaxRememberedResponses so far
  stats.Record(Ok("g/1", kT0));
  EXPECT_EQ(stats.AddFeedback(oldest, Rating("down")).code(), Status::Code::kNotFound);
  EXPECT_TRUE(stats.AddFeedback(second, Rating("up")).ok());
  // The forgotten response's feedback stays counted as it was.
  EXPECT_EQ(stats.Window("dep1", "g/1", kT0, kMinute).positive, 2);
}

TEST(DeploymentStats, CommentsKeptAreTheNewest) {
  DeploymentStats stats(nullptr);
  for (size_t i = 0; i < kMaxKeptComments + 5; ++i) {
    ASSERT_TRUE(stats.AddFeedback(stats.Record(Ok("g/1", kT0)), Feedback{"down", -1, "c" + std::to_string(i)}).ok());
  }
  auto comments = stats.Summary("dep1", kT0, kMinute)[0].comments;
  ASSERT_EQ(comments.size(), kMaxKeptComments);
  EXPECT_EQ(comments.front(), "c5");
  EXPECT_EQ(comments.back(), "c" + std::to_string(kMaxKeptComments + 4));
}

void ExpectSameNumbers(const std::vector<VariantStats>& a, const std::vector<VariantStats>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].served, b[i].served);
    for (auto pair : {std::make_pair(a[i].window, b[i].window), std::make_pair(a[i].total, b[i].total)}) {
      EXPECT_EQ(pair.first.requests, pair.second.requests);
      EXPECT_EQ(pair.first.errors, pair.second.errors);
      EXPECT_EQ(pair.first.throttled, pair.second.throttled);
      EXPECT_EQ(pair.first.feedback, pair.second.feedback);
      EXPECT_EQ(pair.first.positive, pair.second.positive);
      EXPECT_DOUBLE_EQ(pair.first.feedback_score_sum, pair.second.feedback_score_sum);
      EXPECT_EQ(pair.first.latency_p50_ms, pair.second.latency_p50_ms);
      EXPECT_EQ(pair.first.latency_p95_ms, pair.second.latency_p95_ms);
      EXPECT_EQ(pair.first.input_tokens, pair.second.input_tokens);
      EXPECT_EQ(pair.first.output_tokens, pair.second.output_tokens);
      EXPECT_EQ(pair.first.compute_ms, pair.second.compute_ms);
    }
    EXPECT_EQ(a[i].last_request_ms, b[i].last_request_ms);
    EXPECT_EQ(a[i].comments, b[i].comments);
  }
}

TEST(DeploymentStats, FlushedRowsReadBackInANewInstanceAndWithoutTheServer) {
  TempDir tmp;
  auto db = store::MetadataStore::Open(tmp.File("lathe.db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  DeploymentStats stats(db->get());
  std::string r1 = stats.Record(Ok("g/1", kT0, 30));
  stats.Record(Ok("g/1", kT0 + 3 * kMinute, 700));
  Outcome failed = Ok("arn:aws:bedrock:us-east-1:000000000000:custom-model/m/abc", kT0 + kMinute);
  failed.ok = false;
  stats.Record(failed);
  ASSERT_TRUE(stats.AddFeedback(r1, Feedback{"down", -1, "wrong branch hours"}).ok());
  ASSERT_TRUE(stats.Flush().ok());
  // A second flush after more traffic updates the row (and one without changes writes nothing).
  stats.Record(Ok("g/1", kT0 + 4 * kMinute, 50));
  ASSERT_TRUE(stats.Flush().ok());
  ASSERT_TRUE(stats.Flush().ok());
  Outcome other = Ok("g/1", kT0);
  other.deployment_id = "dep2";
  stats.Record(other);
  ASSERT_TRUE(stats.Flush().ok());

  const int64_t now = kT0 + 5 * kMinute;
  auto before = stats.Summary("dep1", now, 3 * kMinute);
  DeploymentStats reloaded(db->get());
  ASSERT_TRUE(reloaded.Load().ok());
  ExpectSameNumbers(before, reloaded.Summary("dep1", now, 3 * kMinute));
  EXPECT_EQ(reloaded.Summary("dep2", now, 3 * kMinute).size(), 1u);
  auto row = (*db)->Find(kDeploymentStatsKind, "dep1");
  ASSERT_TRUE(row.ok());
  ExpectSameNumbers(before, DeploymentStats::SummaryFromRow(*row, now, 3 * kMinute));
  // Response ids do not survive the restart; counting goes on from the loaded numbers.
  EXPECT_EQ(reloaded.AddFeedback(r1, Rating("up")).code(), Status::Code::kNotFound);
  reloaded.Record(Ok("g/1", now));
  ASSERT_TRUE(reloaded.Flush().ok());
  row = (*db)->Find(kDeploymentStatsKind, "dep1");
  EXPECT_EQ(DeploymentStats::SummaryFromRow(*row, now, kMinute)[1].total.requests, 4);

  // Forget drops the numbers and the row.
  ASSERT_TRUE(reloaded.Forget("dep1").ok());
  EXPECT_TRUE(reloaded.Summary("dep1", now, kMinute).empty());
  EXPECT_EQ((*db)->Find(kDeploymentStatsKind, "dep1").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE((*db)->Find(kDeploymentStatsKind, "dep2").ok());
}

TEST(DeploymentStats, AFlushWithoutLoadUpdatesTheRowAnotherInstanceWrote) {
  TempDir tmp;
  auto db = store::MetadataStore::Open(tmp.File("lathe.db"));
  ASSERT_TRUE(db.ok());
  DeploymentStats first(db->get());
  first.Record(Ok("g/1", kT0));
  ASSERT_TRUE(first.Flush().ok());
  DeploymentStats second(db->get());
  second.Record(Ok("g/2", kT0));
  ASSERT_TRUE(second.Flush().ok());
  auto row = (*db)->Find(kDeploymentStatsKind, "dep1");
  ASSERT_TRUE(row.ok());
  auto summary = DeploymentStats::SummaryFromRow(*row, kT0, kMinute);
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].served, "g/2");
}

TEST(DeploymentStats, AMalformedRowIsSkippedAndRewritten) {
  TempDir tmp;
  auto db = store::MetadataStore::Open(tmp.File("lathe.db"));
  ASSERT_TRUE(db.ok());
  for (const nlohmann::json& doc : {nlohmann::json{{"served", 5}},
                                    nlohmann::json{{"served", {{"g/1", {{"lastRequestMs", 1}, {"total", {1, 2}}, {"buckets", nlohmann::json::array()}}}}}}}) {
    store::ResourceRow row{kDeploymentStatsKind, "bad", "bad", "", "", 0, doc};
    ASSERT_TRUE((*db)->Insert(row).ok());
    EXPECT_TRUE(DeploymentStats::SummaryFromRow(row, kT0, kMinute).empty());
    DeploymentStats stats(db->get());
    ASSERT_TRUE(stats.Load().ok());
    EXPECT_TRUE(stats.Summary("bad", kT0, kMinute).empty());
    ASSERT_TRUE(stats.Flush().ok());
    auto rewritten = (*db)->Find(kDeploymentStatsKind, "bad");
    ASSERT_TRUE(rewritten.ok());
    EXPECT_EQ(rewritten->doc["served"], nlohmann::json::object());
    ASSERT_TRUE((*db)->Delete(kDeploymentStatsKind, "bad").ok());
  }
}

}  // namespace
}  // namespace lathe::service

namespace lathe::service {
namespace {

TEST(DeploymentStatsJson, TheWireShapeNamesEveryNumber) {
  DeploymentStats stats(nullptr);
  std::string id = stats.Record(Ok("g/1", kT0, 40));
  ASSERT_TRUE(stats.AddFeedback(id, Feedback{"up", -1, "good"}).ok());
  nlohmann::json j = VariantStatsToJson(stats.Summary("dep1", kT0, kMinute)[0], "challenger");
  EXPECT_EQ(j["variant"], "challenger");
  EXPECT_EQ(j["served"], "g/1");
  EXPECT_EQ(j["lastRequestTime"], Iso8601(kT0));
  EXPECT_EQ(j["comments"], nlohmann::json::array({"good"}));
  for (const char* part : {"window", "total"}) {
    EXPECT_EQ(j[part]["requests"], 1);
    EXPECT_EQ(j[part]["positive"], 1);
    EXPECT_EQ(j[part]["feedbackScoreSum"], 1.0);
    EXPECT_EQ(j[part]["latencyP95Ms"], 40);
    EXPECT_EQ(j[part]["outputTokens"], 20);
  }
  VariantStats idle;
  idle.served = "g/2";
  EXPECT_FALSE(VariantStatsToJson(idle).contains("lastRequestTime"));
}

}  // namespace
}  // namespace lathe::service
