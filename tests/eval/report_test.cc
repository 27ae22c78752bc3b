// report.json round trip and checks, report.md and report.html escaping and content.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "eval/report.h"
#include "eval/report_format.h"
#include "eval/review.h"
#include "report_fixture.h"
#include "test_util.h"

namespace lathe::eval {
namespace {

using json = nlohmann::json;
using testing::HandBuiltRun;

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(RunJson, RoundTripKeepsEveryField) {
  RunResult run = HandBuiltRun();
  json first = RunToJson(run);
  auto back = RunFromJson(first);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  // Field by field (a field neither written nor read would survive a JSON-to-JSON comparison).
  EXPECT_EQ(back->run_id, run.run_id);
  EXPECT_EQ(back->created, run.created);
  EXPECT_EQ(back->settings.max_tokens, 300);
  EXPECT_DOUBLE_EQ(back->settings.top_p, 0.9);
  EXPECT_EQ(back->settings.seed, 7u);
  EXPECT_EQ(back->settings.stop_sequences, run.settings.stop_sequences);
  EXPECT_EQ(back->bootstrap_seed, 42u);
  EXPECT_EQ(back->test_set.source, "banking-test.jsonl");
  ASSERT_EQ(back->test_set.cases.size(), 3u);
  EXPECT_EQ(back->test_set.cases[0].keywords, run.test_set.cases[0].keywords);
  EXPECT_EQ(back->test_set.cases[0].record["expected_theme"], "Steps for disputing transactions");
  EXPECT_EQ(back->test_set.cases[1].prompt, testing::kHostilePrompt);
  EXPECT_EQ(back->test_set.cases[1].reference, run.test_set.cases[1].reference);
  ASSERT_EQ(back->test_set.cases[2].messages.size(), 2u);
  EXPECT_EQ(back->test_set.cases[2].messages[1].content, "Reply with a JSON object.");
  EXPECT_EQ(back->test_set.cases[2].format.kind, FormatRule::Kind::kRegex);
  EXPECT_EQ(back->test_set.cases[2].format.regex, "\\{.*\\}");
  ASSERT_EQ(back->models.size(), 2u);
  const ModelResult& tuned = back->models[1];
  EXPECT_EQ(tuned.model.identifier, run.models[1].model.identifier);
  EXPECT_EQ(tuned.cases[1].answer.text, testing::kHostileAnswer);
  EXPECT_DOUBLE_EQ(tuned.cases[1].answer.latency_ms, 95.5);
  EXPECT_EQ(tuned.cases[0].keywords_hit, std::vector<std::string>{"dispute"});
  EXPECT_EQ(tuned.cases[0].human.at("relevance"), 5);
  EXPECT_EQ(tuned.cases[2].judge.at("accuracy"), 3);
  EXPECT_DOUBLE_EQ(tuned.cases[2].metrics.at(kFormatCompliance), 1.0);
  EXPECT_FALSE(back->models[0].cases[2].answer.ok);
  EXPECT_EQ(back->models[0].cases[2].answer.error, "engine: out of memory <oom>");
  EXPECT_EQ(back->models[0].failed, 1u);
  EXPECT_DOUBLE_EQ(tuned.overall.at(kRougeL).interval.high, 0.6);
  EXPECT_EQ(tuned.by_category.at("Out-of-Domain (general tech question)").at(kRougeL).interval.n, 1u);
  EXPECT_DOUBLE_EQ(tuned.latency_p95_ms, 138);
  EXPECT_DOUBLE_EQ(tuned.tokens_per_second, 95.25);
  EXPECT_DOUBLE_EQ(tuned.corpus_bleu, -1);
  EXPECT_DOUBLE_EQ(back->models[0].overall_score, 0.625);
  ASSERT_EQ(back->comparisons.size(), 1u);
  const PairedComparison& p = back->comparisons[0].by_metric.at(kKeywordCoverage);
  EXPECT_EQ(p.losses, 1u);
  EXPECT_DOUBLE_EQ(p.mean_diff, -0.5);
  EXPECT_EQ(back->comparisons[0].by_metric.at(kRougeL).verdict, Verdict::kBetter);
  EXPECT_EQ(back->judge_model, "judge-model");
  EXPECT_DOUBLE_EQ(back->judge_agreement.at(kRougeL), 0.5);
  // And the whole document again, byte for byte.
  EXPECT_EQ(RunToJson(*back).dump(), first.dump());
}

TEST(RunJson, CarriesTheTutorialsEvaluationReportKeys) {
  json j = RunToJson(HandBuiltRun());
  // evaluate_models.py's evaluation_report.json (the automation guide, Lab 4).
  EXPECT_EQ(j["evaluation_date"], "2026-12-02T08:15:00.000Z");
  EXPECT_EQ(j["base_model"], "amazon.titan-text-express-v1");
  EXPECT_EQ(j["finetuned_model_arn"], "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123");
  ASSERT_EQ(j["results"].size(), 3u);
  EXPECT_EQ(j["results"][0]["prompt"], "What is the process to dispute a credit card transaction?");
  EXPECT_EQ(j["results"][0]["category"], "In-Domain (trained on similar example)");
  EXPECT_EQ(j["results"][0]["base_response"], "To dispute a charge, check your statement and call us.");
  EXPECT_EQ(j["results"][0]["finetuned_response"], "Call the DISPUTE line.");
  EXPECT_EQ(j["results"][0]["expected_theme"], "Steps for disputing transactions");
  EXPECT_EQ(j["results"][2]["base_response"], "[Error invoking base model: engine: out of memory <oom>]");
  EXPECT_EQ(j["summary"]["total_tests"], 3);
  EXPECT_EQ(j["summary"]["in_domain_tests"], 1);
  EXPECT_EQ(j["summary"]["out_of_domain_tests"], 1);
}

TEST(RunJson, NonFiniteNumbersBecomeNullAndReadBackAsNaN) {
  RunResult run = HandBuiltRun();
  run.models[0].latency_p50_ms = std::nan("");
  run.models[0].cases[0].metrics["weird"] = std::numeric_limits<double>::infinity();
  json j = RunToJson(run);
  EXPECT_TRUE(j["models"][0]["latencyP50Ms"].is_null());
  EXPECT_FALSE(j["models"][0]["cases"][0]["metrics"].contains("weird"));  // absent = not applicable
  auto back = RunFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(std::isnan(back->models[0].latency_p50_ms));
}

// RunFromJson on a document with one change; the error must name `path`.
void ExpectRejected(const std::function<void(json&)>& edit, const std::string& path) {
  json j = RunToJson(HandBuiltRun());
  edit(j);
  auto r = RunFromJson(j);
  ASSERT_FALSE(r.ok()) << "accepted an edit at " << path;
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST(RunJson, RejectsWrongTypesNamingThePath) {
  ExpectRejected([](json& j) { j["models"][0]["cases"][1]["latencyMs"] = "fast"; }, "models[0].cases[1].latencyMs");
  ExpectRejected([](json& j) { j["models"][1]["cases"][0]["ok"] = 1; }, "models[1].cases[0].ok");
  ExpectRejected([](json& j) { j["models"][1]["cases"][0]["human"]["accuracy"] = "4"; },
                 "models[1].cases[0].human.accuracy");
  ExpectRejected([](json& j) { j["testSet"]["cases"][0]["expectedKeywords"] = "dispute"; },
                 "testSet.cases[0].expectedKeywords");
  ExpectRejected([](json& j) { j["testSet"]["cases"][0]["expectedKeywords"][1] = 3; },
                 "testSet.cases[0].expectedKeywords[1]");
  ExpectRejected([](json& j) { j["comparisons"][0]["metrics"]["rougeL"]["wins"] = -1; },
                 "comparisons[0].metrics.rougeL.wins");
  ExpectRejected([](json& j) { j["comparisons"][0]["metrics"]["rougeL"]["verdict"] = "great"; },
                 "comparisons[0].metrics.rougeL.verdict");
  ExpectRejected([](json& j) { j["settings"]["maxTokens"] = 1.5; }, "settings.maxTokens");
  ExpectRejected([](json& j) { j["models"][0]["metrics"]["rougeL"] = 0.5; }, "models[0].metrics.rougeL");
  ExpectRejected([](json& j) { j["models"] = json::object(); }, "models");
  ExpectRejected([](json& j) { j = json::array(); }, "(top level)");
  ExpectRejected([](json& j) { j["reportVersion"] = 2; }, "reportVersion");
  ExpectRejected([](json& j) { j["testSet"]["cases"][1].erase("prompt"); }, "testSet.cases[1]");
}

TEST(RunJson, RejectsInconsistentAndOversizeDocuments) {
  ExpectRejected([](json& j) { j["models"][0]["cases"].erase(2); }, "models[0].cases");
  ExpectRejected([](json& j) { j["models"][0]["cases"][1]["caseIndex"] = 7; }, "models[0].cases[1].caseIndex");
  ExpectRejected([](json& j) { j["models"][1]["cases"][1]["text"] = std::string(kMaxReportStringBytes + 1, 'x'); },
                 "models[1].cases[1].text");
  ExpectRejected([](json& j) { j["testSet"]["cases"][0]["expectedKeywords"] = json(std::vector<std::string>(kMaxKeywords + 1, "k")); },
                 "testSet.cases[0].expectedKeywords");
  ExpectRejected([](json& j) { j["testSet"]["cases"][0]["category"] = std::string(kMaxCategoryBytes + 1, 'c'); },
                 "testSet.cases[0].category");
  ExpectRejected([](json& j) {
    json m = json::object();
    for (size_t i = 0; i <= kMaxReportMapEntries; ++i) m[std::to_string(i)] = 1.0;
    j["models"][0]["cases"][0]["metrics"] = m;
  }, "models[0].cases[0].metrics");
  ExpectRejected([](json& j) {
    json models = json::array();
    for (size_t i = 0; i <= kMaxReportModels; ++i) models.push_back(j["models"][0]);
    j["models"] = models;
  }, "models");
  ExpectRejected([](json& j) { j["testSet"]["cases"] = json::array(); }, "testSet.cases");
}

TEST(ReadReport, NamesTheFileAndChecksNestingBeforeParsing) {
  lathe::testing::TempDir dir;
  auto missing = ReadReport(Env::Default(), dir.path());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  dir.Write("report.json", "{\"runId\": ");
  auto bad = ReadReport(Env::Default(), dir.path());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(dir.File("report.json")), std::string::npos);
  dir.Write("report.json", std::string(100000, '[') + std::string(100000, ']'));
  auto deep = ReadReport(Env::Default(), dir.path());
  EXPECT_NE(deep.status().message().find("nested deeper"), std::string::npos) << deep.status().ToString();
  json j = RunToJson(HandBuiltRun());
  j["models"][0]["cases"][0]["latencyMs"] = "slow";
  dir.Write("report.json", j.dump());
  auto typed = ReadReport(Env::Default(), dir.path());
  EXPECT_NE(typed.status().message().find("report.json: models[0].cases[0].latencyMs: expected a number, got string"),
            std::string::npos)
      << typed.status().ToString();
}

TEST(WriteReports, WritesThreeFilesThatReadBack) {
  lathe::testing::TempDir dir;
  std::string out = dir.File("run/nested");
  ASSERT_TRUE(WriteReports(Env::Default(), HandBuiltRun(), out).ok());
  for (const char* name : kReportFiles) EXPECT_TRUE(Env::Default()->FileExists(out + "/" + name)) << name;
  auto back = ReadReport(Env::Default(), out);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(RunToJson(*back), RunToJson(HandBuiltRun()));
}

TEST(WriteReports, InvalidUtf8InAnAnswerIsReplacedNotFatal) {
  RunResult run = HandBuiltRun();
  run.models[1].cases[0].answer.text = "bad \xC3\x28 bytes \xFF";
  lathe::testing::TempDir dir;
  ASSERT_TRUE(WriteReports(Env::Default(), run, dir.path()).ok());
  auto back = ReadReport(Env::Default(), dir.path());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->models[1].cases[0].answer.text, "bad \xEF\xBF\xBD( bytes \xEF\xBF\xBD");
}

TEST(FindChartJs, PrefersLatheChartjsThenDebiansUmdBuild) {
  lathe::testing::TempDir dir;
  std::string mine = dir.Write("chart.js", "/* mine */ window.Chart = function () {};");
  ::setenv("LATHE_CHARTJS", mine.c_str(), 1);
  auto js = FindChartJs();
  ::unsetenv("LATHE_CHARTJS");
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(*js, "/* mine */ window.Chart = function () {};");
  if (!Env::Default()->FileExists("/usr/share/javascript/chart.js/chart.min.js"))
    GTEST_SKIP() << "Debian's libjs-chart.js is not installed";
  auto debian = FindChartJs();
  ASSERT_TRUE(debian.ok()) << debian.status().ToString();
  EXPECT_NE(debian->find("Chart.js v"), std::string::npos);
  EXPECT_NE(debian->find(".Chart="), std::string::npos) << "not the UMD build that defines window.Chart";
}

TEST(ReportHtml, EscapesEveryStringFromTestSetsAndModels) {
  RunResult run = HandBuiltRun();
  run.models[1].model.label = "tuned<i>";
  run.test_set.cases[0].category = "In-Domain </script><img src=y onerror=alert(3)>";
  const std::string chart_js = "/* lib */ var s = '</script><script>alert(4)</script>'; var c = '<!--';";
  std::string html = ReportHtml(run, chart_js);
  std::string lower = Lower(html);
  EXPECT_EQ(Count(lower, "<img"), 0u);
  EXPECT_EQ(Count(html, "<i>"), 0u);
  EXPECT_EQ(Count(html, "<b>bold</b>"), 0u);
  // Exactly the page's own three elements end: the data, Chart.js and the page's script. (The
  // library's "<script>" text stays inside its string: with "<!--" made inert it cannot start one.)
  EXPECT_EQ(Count(lower, "</script"), 3u);
  EXPECT_NE(html.find("var s = '<\\/script><script>alert(4)<\\/script>'"), std::string::npos);
  EXPECT_NE(html.find("var c = '<\\!--'"), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/SCRIPT&gt;&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  // The charts' data: no raw < > & or U+2028 in the JSON script.
  size_t data_at = html.find("id=\"report-data\">");
  ASSERT_NE(data_at, std::string::npos);
  std::string data = html.substr(data_at, html.find("</script>", data_at) - data_at);
  data = data.substr(std::string("id=\"report-data\">").size());
  EXPECT_EQ(data.find_first_of("<>&"), std::string::npos);
  EXPECT_EQ(data.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_NE(data.find("tuned\\u003ci\\u003e"), std::string::npos);
  auto parsed = json::parse(data);
  EXPECT_EQ(parsed["models"][1]["label"], "tuned<i>");
}

// report.json may be edited by hand: metric names, criteria and categories are untrusted too.
TEST(Reports, EscapeMetricNamesFromAnEditedReport) {
  const std::string evil = "<img src=x onerror=alert(5)>|";
  RunResult run = HandBuiltRun();
  for (auto& m : run.models) {
    m.overall[evil].interval = {1, 0.5, 0.4, 0.6};
    m.cases[0].metrics[evil] = 0.5;
    m.cases[0].human[evil] = 3;
  }
  run.comparisons[0].by_metric[evil] = run.comparisons[0].by_metric[kRougeL];
  run.judge_agreement[evil] = 0.1;
  std::string html = Lower(ReportHtml(run, "/* chart */"));
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(5)&gt;"), std::string::npos);
  std::string md = Lower(ReportMarkdown(run));
  EXPECT_EQ(md.find("<img"), std::string::npos);
  EXPECT_NE(md.find("&lt;img src=x onerror=alert\\(5\\)&gt;\\|"), std::string::npos);
}

TEST(ReportHtml, SelfContainedWithChartsTableAndFilter) {
  RunResult run = HandBuiltRun();
  std::string html = ReportHtml(run, "/* chart */");
  // Nothing fetched at view time: no URL of any scheme in a src or href, and a CSP saying so.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-metric-0\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-categories\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-latency\""), std::string::npos);
  EXPECT_NE(html.find("id=\"losses-only\""), std::string::npos);
  EXPECT_EQ(Count(html, "<tr class=\"case"), 3u);
  EXPECT_EQ(Count(html, "<tr class=\"case loss\""), 1u);  // tuned covered fewer keywords on case 1
  EXPECT_NE(html.find("<mark>dispute</mark>"), std::string::npos);
  EXPECT_NE(html.find("<mark>DISPUTE</mark>"), std::string::npos);  // case-insensitive, as the guide's check
  EXPECT_NE(html.find("<mark>statement</mark>"), std::string::npos);
  EXPECT_NE(html.find("no significant difference"), std::string::npos);
  EXPECT_NE(html.find("badge better"), std::string::npos);
  EXPECT_NE(html.find("error: engine: out of memory &lt;oom&gt;"), std::string::npos);
  EXPECT_NE(html.find("human: accuracy 4.000, relevance 5.000"), std::string::npos);
  EXPECT_EQ(html.find("libjs-chart.js (or set"), std::string::npos);
  // Without Chart.js the page says what to install instead of drawing nothing silently.
  std::string bare = ReportHtml(run, "");
  EXPECT_NE(bare.find("libjs-chart.js"), std::string::npos);
  EXPECT_EQ(Count(Lower(bare), "<script"), 2u);
}

TEST(ReportHtml, CapsTheTableOfAnswersAndSaysSo) {
  RunResult run = HandBuiltRun();
  TestCase c = run.test_set.cases[0];
  while (run.test_set.cases.size() < kMaxTableCases + 5) run.test_set.cases.push_back(c);
  for (auto& m : run.models)
    while (m.cases.size() < run.test_set.cases.size()) m.cases.push_back(m.cases[0]);
  std::string html = ReportHtml(run, "");
  EXPECT_EQ(Count(html, "<tr class=\"case"), kMaxTableCases);
  EXPECT_NE(html.find("The first 2000 of 2005 cases"), std::string::npos);
  std::string md = ReportMarkdown(run);
  EXPECT_NE(md.find("The first 2000 of 2005 cases"), std::string::npos);
}

// An answer cannot make report.md load a remote image, link somewhere or format itself.
TEST(ReportMarkdown, EscapesMarkdownInAnswers) {
  RunResult run = HandBuiltRun();
  run.models[0].cases[0].answer.text = "![x](https://evil.example/p.png) [click](https://evil.example) `code` **b** _i_";
  std::string md = ReportMarkdown(run);
  EXPECT_EQ(md.find("![x]("), std::string::npos);
  EXPECT_EQ(md.find("[click]("), std::string::npos);
  EXPECT_NE(md.find("\\!\\[x\\]\\(https://evil.example/p.png\\) \\[click\\]\\(https://evil.example\\) \\`code\\` "
                    "\\*\\*b\\*\\* \\_i\\_"),
            std::string::npos)
      << md;
}

TEST(ReportMarkdown, EscapesPipesAndMarkupInCells) {
  std::string md = ReportMarkdown(HandBuiltRun());
  EXPECT_NE(md.find("Is a\\|b safe?"), std::string::npos);
  EXPECT_NE(md.find("pipes \\| here &amp; &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(Lower(md).find("<img"), std::string::npos);
  EXPECT_EQ(md.find("<b>"), std::string::npos);
  // Every table row has as many unescaped pipes as its header.
  std::string line;
  std::istringstream in(md);
  size_t expected = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '|') {
      expected = 0;
      continue;
    }
    size_t pipes = 0;
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++pipes;
    if (expected == 0) expected = pipes;
    EXPECT_EQ(pipes, expected) << line;
  }
  EXPECT_NE(md.find("## tuned vs base"), std::string::npos);
  EXPECT_NE(md.find("**tuned**: better on rougeL; no significant difference on keywordCoverage."),
            std::string::npos);
  EXPECT_NE(md.find("| keywordCoverage | 1.000 | 0.500 | -0.500 [-0.500, -0.500] | 0 / 0 / 1 | 1.000 | 1.000 | **no significant difference** |"),
            std::string::npos);
  EXPECT_NE(md.find("## Human review"), std::string::npos);
  EXPECT_NE(md.find("**(loss)**"), std::string::npos);
}

TEST(ReportFormat, KeywordSpansMergeOverlapsCaseInsensitively) {
  using report_format::KeywordSpans;
  auto spans = KeywordSpans("Card cardholder CARD", {"card", "cardholder", ""});
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0], (std::pair<size_t, size_t>{0, 4}));
  EXPECT_EQ(spans[1], (std::pair<size_t, size_t>{5, 15}));
  EXPECT_EQ(spans[2], (std::pair<size_t, size_t>{16, 20}));
  EXPECT_EQ(report_format::TruncateUtf8("h\xC3\xA9llo", 2), "h\xE2\x80\xA6");  // never half of é
}

}  // namespace
}  // namespace lathe::eval
