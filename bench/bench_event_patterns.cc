// EventBridge pattern matching: events matched per second against 1,000 rules (issue #12's
// target: >= 50,000 pattern evaluations/s on one core), next to "the simple way" measured in the
// same run: the same patterns kept as nlohmann::json and interpreted on every evaluation (operator
// names compared, strings lowercased and numbers read each time), as a first implementation would.
//
// The rules are a realistic mix for one bus: source/detail-type exact matches, S3 key prefix and
// suffix (and the wildcard form), numeric thresholds on evaluation scores, anything-but on job
// states, equals-ignore-case and $or. The events are S3 Object Created, Bedrock job state changes
// and custom PutEvents entries.
//
//   build/bench/bench_event_patterns [ROUNDS]      (prints one JSON line last)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/events/event_pattern.h"

using json = nlohmann::json;
using lathe::events::EventPattern;

namespace {

std::string Num(int i) { return std::to_string(i); }

std::vector<std::string> Rules(int n) {
  std::vector<std::string> rules;
  for (int i = 0; i < n; ++i) {
    switch (i % 10) {
      case 0: case 1: case 2: case 3:  // a team's custom events by source and detail-type
        rules.push_back(R"({"source": ["custom.app)" + Num(i % 97) + R"("], "detail-type": ["Order Placed", "Order )" +
                        Num(i) + R"("]})");
        break;
      case 4:  // the tutorial's S3 rule, per bucket
        rules.push_back(R"({"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["bucket-)" +
                        Num(i % 50) + R"("]}, "object": {"key": [{"prefix": "training-data/"}]}}})");
        break;
      case 5:
        rules.push_back(R"({"source": ["aws.s3"], "detail": {"object": {"key": [{"suffix": ".jsonl"}], "size": [{"numeric": [">", )" +
                        Num(i) + R"(]}]}}})");
        break;
      case 6:
        rules.push_back(R"({"source": ["aws.s3"], "detail": {"object": {"key": [{"wildcard": "runs/)" + Num(i % 20) +
                        R"(/*.jsonl"}]}}})");
        break;
      case 7:  // "alert when the evaluation score falls below a threshold"
        rules.push_back(R"({"source": ["custom.eval"], "detail": {"model": [{"prefix": "model-)" + Num(i % 30) +
                        R"("}], "score": [{"numeric": [">=", 0, "<", 0.)" + Num(50 + i % 40) + R"(]}]}})");
        break;
      case 8:
        rules.push_back(R"({"source": ["aws.bedrock"], "detail-type": ["Model Customization Job State Change"], "detail": {"status": [{"anything-but": ["InProgress", "Stopping"]}], "jobName": [{"prefix": "job-)" +
                        Num(i % 40) + R"("}]}})");
        break;
      default:
        rules.push_back(R"({"source": ["aws.bedrock", "custom.eval"], "$or": [{"detail": {"status": [{"equals-ignore-case": "failed"}]}}, {"detail": {"error": [{"exists": true}]}}]})");
        break;
    }
  }
  return rules;
}

json Envelope(const std::string& source, const std::string& type, json detail) {
  return {{"version", "0"}, {"id", "6a7e8feb-b491-4cf7-a9f1-bf3703467718"}, {"detail-type", type},
          {"source", source}, {"account", "123456789012"}, {"time", "2026-11-28T12:00:00Z"},
          {"region", "us-east-1"}, {"resources", json::array({"arn:aws:s3:::bucket"})}, {"detail", std::move(detail)}};
}

std::vector<json> Events() {
  std::vector<json> events;
  for (int i = 0; i < 64; ++i) {
    switch (i % 4) {
      case 0:
        events.push_back(Envelope("aws.s3", "Object Created",
                                  {{"version", "0"}, {"bucket", {{"name", "bucket-" + Num(i % 50)}}},
                                   {"object", {{"key", (i % 8 ? "training-data/part-" : "runs/3/out-") + Num(i) + ".jsonl"},
                                               {"size", 1000 + 97 * i}, {"etag", "d41d8cd98f00b204e9800998ecf8427e"}}},
                                   {"reason", "PutObject"}}));
        break;
      case 1:
        events.push_back(Envelope("aws.bedrock", "Model Customization Job State Change",
                                  {{"jobName", "job-" + Num(i % 40)}, {"status", i % 8 == 1 ? "Failed" : "Completed"},
                                   {"jobArn", "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/x"}}));
        break;
      case 2:
        events.push_back(Envelope("custom.eval", "Evaluation Finished",
                                  {{"model", "model-" + Num(i % 30)}, {"score", 0.3 + 0.01 * i}}));
        break;
      default:
        events.push_back(Envelope("custom.app" + Num(i % 97), "Order Placed", {{"order", i}, {"items", {1, 2, 3}}}));
        break;
    }
  }
  return events;
}

// ---- the simple way: interpret the pattern's JSON on every evaluation ----
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool NaiveValue(const json& alt, const json& v) {
  if (!alt.is_object()) return alt == v;
  const std::string op = alt.begin().key();
  const json& arg = alt.begin().value();
  if (op == "exists") return arg.get<bool>();
  if (op == "prefix") return v.is_string() && v.get<std::string>().rfind(arg.get<std::string>(), 0) == 0;
  if (op == "suffix") {
    if (!v.is_string()) return false;
    const std::string s = v.get<std::string>(), x = arg.get<std::string>();
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  }
  if (op == "equals-ignore-case") return v.is_string() && Lower(v.get<std::string>()) == Lower(arg.get<std::string>());
  if (op == "anything-but") {
    for (const json& x : arg)
      if (x == v) return false;
    return true;
  }
  if (op == "wildcard") {  // "p/*.s" only, as the bench uses it
    const std::string w = arg.get<std::string>(), s = v.is_string() ? v.get<std::string>() : "";
    const size_t star = w.find('*');
    const std::string pre = w.substr(0, star), suf = w.substr(star + 1);
    return v.is_string() && s.size() >= pre.size() + suf.size() && s.rfind(pre, 0) == 0 &&
           s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  }
  if (op == "numeric") {
    if (!v.is_number()) return false;
    const double d = v.get<double>();
    for (size_t i = 0; i + 1 < arg.size(); i += 2) {
      const std::string o = arg[i].get<std::string>();
      const double x = arg[i + 1].get<double>();
      if ((o == ">" && !(d > x)) || (o == ">=" && !(d >= x)) || (o == "<" && !(d < x)) || (o == "<=" && !(d <= x)) ||
          (o == "=" && d != x))
        return false;
    }
    return true;
  }
  return false;
}

bool NaiveMatch(const json& pattern, const json& event) {
  for (const auto& [key, p] : pattern.items()) {
    if (key == "$or") {
      bool any = false;
      for (const json& branch : p) any = any || NaiveMatch(branch, event);
      if (!any) return false;
      continue;
    }
    const bool has = event.is_object() && event.contains(key);
    if (p.is_object()) {
      if (!has || !NaiveMatch(p, event[key])) return false;
      continue;
    }
    bool any = false;
    for (const json& alt : p) {
      if (!has) continue;
      const json& v = event[key];
      if (v.is_array()) {
        for (const json& e : v) any = any || NaiveValue(alt, e);
      } else {
        any = any || NaiveValue(alt, v);
      }
    }
    if (!any) return false;
  }
  return true;
}

template <typename F>
double Seconds(F f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  const std::vector<std::string> texts = Rules(1000);
  std::vector<EventPattern> compiled;
  std::vector<json> raw;
  for (const std::string& t : texts) {
    auto p = EventPattern::Parse(t);
    if (!p.ok()) {
      std::fprintf(stderr, "bad rule %s: %s\n", t.c_str(), p.status().message().c_str());
      return 1;
    }
    compiled.push_back(std::move(*p));
    raw.push_back(json::parse(t));
  }
  const std::vector<json> events = Events();

  // The two must agree before either is timed.
  size_t matches = 0, naive_matches = 0;
  for (const json& e : events)
    for (size_t r = 0; r < compiled.size(); ++r) {
      const bool a = compiled[r].Matches(e), b = NaiveMatch(raw[r], e);
      matches += a;
      naive_matches += b;
      if (a != b) std::fprintf(stderr, "disagree: rule %zu on event %s\n", r, e.dump().c_str());
    }

  size_t sink = 0;
  const double t_lathe = Seconds([&] {
    for (int k = 0; k < rounds; ++k)
      for (const json& e : events)
        for (const EventPattern& p : compiled) sink += p.Matches(e);
  });
  const double t_naive = Seconds([&] {
    for (int k = 0; k < std::max(1, rounds / 4); ++k)
      for (const json& e : events)
        for (const json& p : raw) sink += NaiveMatch(p, e);
  });
  const double evals = static_cast<double>(rounds) * events.size() * compiled.size();
  const double naive_evals = static_cast<double>(std::max(1, rounds / 4)) * events.size() * raw.size();
  const double lathe_rate = evals / t_lathe, naive_rate = naive_evals / t_naive;
  std::printf("rules: %zu, events: %zu, matches per pass: %zu (simple way: %zu)\n", compiled.size(), events.size(),
              matches, naive_matches);
  std::printf("lathe EventPattern: %.0f pattern evaluations/s on one core, %.0f events/s against all %zu rules\n",
              lathe_rate, lathe_rate / compiled.size(), compiled.size());
  std::printf("  target 50,000 evaluations/s: %.1fx the target\n", lathe_rate / 50000.0);
  std::printf("the simple way (nlohmann::json interpreted): %.0f evaluations/s, %.0f events/s\n", naive_rate,
              naive_rate / raw.size());
  std::printf("  lathe / simple way: %.1fx\n", lathe_rate / naive_rate);
  std::printf("{\"bench\": \"event_patterns\", \"evaluations_per_s\": %.0f, \"events_per_s\": %.0f, "
              "\"simple_way_evaluations_per_s\": %.0f, \"target_ratio\": %.2f, \"peer_ratio\": %.2f, \"sink\": %zu}\n",
              lathe_rate, lathe_rate / compiled.size(), naive_rate, lathe_rate / 50000.0, lathe_rate / naive_rate,
              sink % 2);
  return matches == naive_matches ? 0 : 1;
}
