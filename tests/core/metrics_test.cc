#include "core/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lathe::metrics {
namespace {

// A reader of the text format 0.0.4 as Prometheus parses it: HELP and TYPE before a family's
// samples, each sample `name{label="value",...} number`, label values unescaped (\\, \", \n).
struct Parsed {
  std::map<std::string, std::string> types, helps;
  // "name{a=x,b=y}" (values unescaped, in order written) -> value
  std::map<std::string, double> samples;
  std::vector<std::string> sample_order;
  std::string error;
};

Parsed Parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line, family;
  if (!text.empty() && text.back() != '\n') p.error = "no final newline";
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      family = line.substr(7, sp - 7);
      p.helps[family] = line.substr(sp + 1);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const size_t sp = line.find(' ', 7);
      if (line.substr(7, sp - 7) != family) p.error = "TYPE without HELP before it: " + line;
      p.types[family] = line.substr(sp + 1);
      continue;
    }
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    std::string key = line.substr(0, i);
    if (key.rfind(family, 0) != 0) p.error = "sample " + key + " outside its family " + family;
    if (i < line.size() && line[i] == '{') {
      key += "{";
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          p.error = "bad label in " + line;
          return p;
        }
        key += line.substr(i, eq - i) + "=";
        i = eq + 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char e = line[++i];
            if (e == 'n') key += '\n';
            else if (e == '\\' || e == '"') key += e;
            else p.error = "bad escape in " + line;
          } else {
            key += line[i];
          }
          ++i;
        }
        ++i;  // the closing quote
        if (i < line.size() && line[i] == ',') {
          key += ",";
          ++i;
        }
      }
      key += "}";
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      p.error = "no value in " + line;
      return p;
    }
    const std::string number = line.substr(i + 1);
    p.samples[key] = number == "+Inf" ? INFINITY : number == "NaN" ? NAN : std::stod(number);
    p.sample_order.push_back(key);
  }
  return p;
}

TEST(Metrics, CountersGaugesAndHistogramsAreWrittenInTheTextFormat) {
  Registry r;
  auto& requests = r.Counters("test_requests_total", "Requests answered", {"service", "code"});
  requests.With({"s3", "2xx"}).Add();
  requests.With({"s3", "2xx"}).Add(2);
  requests.With({"bedrock", "4xx"}).Add();
  requests.With({"bedrock", "4xx"}).Add(-5);  // a counter never goes down
  auto& depth = r.Gauges("test_depth", "Items waiting");
  depth.With({}).Set(7);
  depth.With({}).Add(-2.5);
  auto& latency = r.Histograms("test_latency_seconds", "Latency", {"op"}, {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 100.0}) latency.With({"Get"}).Observe(v);

  const std::string text = r.Exposition();
  const Parsed p = Parse(text);
  ASSERT_EQ(p.error, "") << text;
  EXPECT_EQ(p.types.at("test_requests_total"), "counter");
  EXPECT_EQ(p.types.at("test_depth"), "gauge");
  EXPECT_EQ(p.types.at("test_latency_seconds"), "histogram");
  EXPECT_EQ(p.helps.at("test_requests_total"), "Requests answered");
  EXPECT_EQ(p.samples.at("test_requests_total{service=s3,code=2xx}"), 3);
  EXPECT_EQ(p.samples.at("test_requests_total{service=bedrock,code=4xx}"), 1);
  EXPECT_EQ(p.samples.at("test_depth"), 4.5);
  // Buckets are cumulative; le is inclusive; +Inf holds everything, as _count does.
  EXPECT_EQ(p.samples.at("test_latency_seconds_bucket{op=Get,le=0.1}"), 2);
  EXPECT_EQ(p.samples.at("test_latency_seconds_bucket{op=Get,le=1}"), 3);
  EXPECT_EQ(p.samples.at("test_latency_seconds_bucket{op=Get,le=10}"), 4);
  EXPECT_EQ(p.samples.at("test_latency_seconds_bucket{op=Get,le=+Inf}"), 5);
  EXPECT_EQ(p.samples.at("test_latency_seconds_count{op=Get}"), 5);
  EXPECT_DOUBLE_EQ(p.samples.at("test_latency_seconds_sum{op=Get}"), 102.65);
  // Families are sorted by name, so two scrapes of the same state are the same text.
  EXPECT_LT(text.find("# HELP test_depth"), text.find("# HELP test_latency_seconds"));
  EXPECT_LT(text.find("# HELP test_latency_seconds"), text.find("# HELP test_requests_total"));
  EXPECT_EQ(text, r.Exposition());
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  auto& c = r.Counters("test_odd_total", "Help with \\ and\nnewline", {"v"});
  const std::string hostile = "a\"b\\c\nd} 99\n# TYPE x counter";
  c.With({hostile}).Add();
  c.With({"caf\xc3\xa9 \xff"}).Add();  // invalid UTF-8 is replaced, valid kept
  const std::string text = r.Exposition();
  const Parsed p = Parse(text);
  ASSERT_EQ(p.error, "") << text;
  EXPECT_EQ(p.samples.at("test_odd_total{v=" + hostile + "}"), 1) << text;
  EXPECT_EQ(p.samples.at("test_odd_total{v=caf\xc3\xa9 \xef\xbf\xbd}"), 1) << text;
  EXPECT_NE(text.find("# HELP test_odd_total Help with \\\\ and\\nnewline\n"), std::string::npos) << text;
  EXPECT_EQ(p.types.count("x"), 0u);
}

TEST(Metrics, LongLabelValuesAreCutOnACharacterBoundary) {
  Registry r;
  std::string long_value(kMaxLabelValueBytes - 1, 'x');
  long_value += "\xc3\xa9tail";  // é straddles the cut
  r.Counters("test_long_total", "h", {"v"}).With({long_value}).Add();
  const Parsed p = Parse(r.Exposition());
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.samples.count("test_long_total{v=" + std::string(kMaxLabelValueBytes - 1, 'x') + "}"), 1u);
}

TEST(Metrics, TheNumberOfLabelSetsIsBoundedAndTotalsStayRight) {
  Registry r;
  auto& c = r.Counters("test_paths_total", "h", {"path"}, /*max_series=*/10);
  for (int i = 0; i < 1000; ++i) c.With({"/hostile/" + std::to_string(i)}).Add();
  EXPECT_EQ(c.series(), 11u);  // ten, and the one that holds the rest
  const Parsed p = Parse(r.Exposition());
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.samples.at("test_paths_total{path=_other}"), 990);
  double total = 0;
  for (const auto& [key, v] : p.samples)
    if (key.rfind("test_paths_total", 0) == 0) total += v;
  EXPECT_EQ(total, 1000);
  // A value seen before the bound keeps its own series.
  c.With({"/hostile/3"}).Add();
  EXPECT_EQ(Parse(r.Exposition()).samples.at("test_paths_total{path=/hostile/3}"), 2);
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
  Registry r;
  auto& c = r.Counters("test_concurrent_total", "h", {"t"});
  auto& h = r.Histograms("test_concurrent_seconds", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.With({std::to_string(t % 2)}).Add();
        h.With({}).Observe(i % 2 ? 0.5 : 2);
        if (i % 1000 == 0) (void)r.Exposition();  // scrapes meanwhile
      }
    });
  for (auto& t : threads) t.join();
  const Parsed p = Parse(r.Exposition());
  EXPECT_EQ(p.samples.at("test_concurrent_total{t=0}") + p.samples.at("test_concurrent_total{t=1}"), 40000);
  EXPECT_EQ(p.samples.at("test_concurrent_seconds_count"), 40000);
  EXPECT_EQ(p.samples.at("test_concurrent_seconds_bucket{le=1}"), 20000);
  EXPECT_DOUBLE_EQ(p.samples.at("test_concurrent_seconds_sum"), 20000 * 0.5 + 20000 * 2);
}

TEST(Metrics, CallbackGaugesAreReadAtEachScrapeUntilTheirOwnerGoes) {
  Registry r;
  int depth = 3;
  auto gauge = r.AddCallbackGauge("test_queue_depth", "Queued", {"kind"}, [&]() -> Result<std::vector<Sample>> {
    return std::vector<Sample>{{{"job"}, static_cast<double>(depth)}, {{"too", "many"}, 1}};
  });
  EXPECT_EQ(Parse(r.Exposition()).samples.at("test_queue_depth{kind=job}"), 3);
  depth = 5;
  Parsed p = Parse(r.Exposition());
  EXPECT_EQ(p.samples.at("test_queue_depth{kind=job}"), 5);
  EXPECT_EQ(p.samples.size(), 1u);  // the sample with the wrong label count is left out
  gauge.reset();
  p = Parse(r.Exposition());
  EXPECT_EQ(p.samples.count("test_queue_depth{kind=job}"), 0u);
  EXPECT_EQ(p.types.at("test_queue_depth"), "gauge");
}

TEST(Metrics, AFailingCallbackIsLeftOutAndCounted) {
  Registry r;
  auto gauge = r.AddCallbackGauge("test_store_depth", "h", {}, []() -> Result<std::vector<Sample>> {
    return Status::IOError("the store is unreachable");
  });
  const Parsed p = Parse(r.Exposition());
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.samples.count("test_store_depth"), 0u);
  EXPECT_EQ(p.samples.at("lathe_metrics_collect_errors_total{family=test_store_depth}"), 1);
}

TEST(Metrics, ProgrammingMistakesAreRefusedAtRegistration) {
  Registry r;
  r.Counters("test_a_total", "h", {"x"});
  EXPECT_THROW(r.Gauges("test_a_total", "h", {"x"}), std::logic_error);    // another type
  EXPECT_THROW(r.Counters("test_a_total", "h", {"y"}), std::logic_error);  // other labels
  EXPECT_NO_THROW(r.Counters("test_a_total", "h", {"x"}));                 // the same: found
  EXPECT_THROW(r.Counters("1bad", "h"), std::logic_error);
  EXPECT_THROW(r.Counters("bad-name", "h"), std::logic_error);
  EXPECT_THROW(r.Counters("test_b_total", "h", {"__reserved"}), std::logic_error);
  EXPECT_THROW(r.Histograms("test_h", "h", {"le"}, {1}), std::logic_error);
  EXPECT_THROW(r.Histograms("test_h2", "h", {}, {2, 1}), std::logic_error);
  EXPECT_THROW(r.Histograms("test_h3", "h", {}, {}), std::logic_error);
  EXPECT_THROW(r.Counters("test_a_total", "h", {"x"}).With({"1", "2"}), std::logic_error);
}

TEST(Metrics, NumbersAreWrittenAsPrometheusReadsThem) {
  EXPECT_EQ(FormatNumber(0), "0");
  EXPECT_EQ(FormatNumber(3), "3");
  EXPECT_EQ(FormatNumber(0.1), "0.1");
  EXPECT_EQ(FormatNumber(1e21), "1e+21");
  EXPECT_EQ(FormatNumber(INFINITY), "+Inf");
  EXPECT_EQ(FormatNumber(-INFINITY), "-Inf");
  EXPECT_EQ(FormatNumber(NAN), "NaN");
}

}  // namespace
}  // namespace lathe::metrics
