#include "cli/deployments_format.h"

#include <cstdio>

#include "cli/client.h"
#include "core/arn.h"
#include "service/deployment_service.h"
#include "service/deployment_stats.h"
#include "service/deployment_traffic.h"
#include "store/metadata_store.h"

namespace lathe::cli {
using nlohmann::json;

namespace {

constexpr size_t kMaxPolicyFileBytes = 64 * 1024;

std::string Number(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::string Percent(int64_t part, int64_t whole) {
  return whole > 0 ? Number("%.0f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) : "";
}

// One row of the per-variant table from a "window" or "total" object.
std::vector<std::string> StatsRow(const json& v, const json& w, int64_t all_requests) {
  const int64_t requests = Int(w, "requests"), errors = Int(w, "errors"), throttled = Int(w, "throttled");
  const int64_t answered = requests - throttled;
  const int64_t feedback = Int(w, "feedback"), up = Int(w, "positive");
  return {Field(v, "variant"),
          Field(v, "served"),
          std::to_string(requests),
          Percent(requests, all_requests),
          answered > 0 ? Number("%.3f", static_cast<double>(errors) / static_cast<double>(answered)) : "",
          std::to_string(throttled),
          answered > errors ? std::to_string(Int(w, "latencyP50Ms")) : "",
          answered > errors ? std::to_string(Int(w, "latencyP95Ms")) : "",
          std::to_string(Int(w, "inputTokens")) + "/" + std::to_string(Int(w, "outputTokens")),
          std::to_string(up),
          std::to_string(feedback - up),
          Percent(up, feedback)};
}

void PrintVariantTable(const json& variants, const char* part) {
  int64_t all = 0;
  for (const auto& v : variants) all += Int(v.value(part, json::object()), "requests");
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : variants) rows.push_back(StatsRow(v, v.value(part, json::object()), all));
  PrintTable({"VARIANT", "SERVED", "REQUESTS", "SHARE", "ERROR RATE", "THROTTLED", "P50 MS", "P95 MS", "TOKENS IN/OUT",
              "UP", "DOWN", "POSITIVE"},
             rows);
}

}  // namespace

void AddPolicyFlags(CLI::App* cmd, PolicyFlags* f) {
  const char* group = "Rollback policy";
  cmd->add_flag("--rollback", f->rollback, "Turn automatic rollback on")->group(group);
  cmd->add_flag("--no-rollback", f->no_rollback, "Turn automatic rollback off")->group(group);
  cmd->add_option("--canary-weight", f->canary_weight, "Share a new alias holder gets while watched (0..1]")->group(group);
  cmd->add_option("--watch", f->watch, "How long a new alias holder is watched: 10m, 1h")->group(group);
  cmd->add_option("--window", f->window, "The sliding window the thresholds are read over: 5m")->group(group);
  cmd->add_option("--min-requests", f->min_requests, "No error-rate verdict before this many requests")->group(group);
  cmd->add_option("--max-error-rate", f->max_error_rate, "Roll back above this share of failed requests")->group(group);
  cmd->add_option("--min-feedback", f->min_feedback, "No feedback verdict before this many ratings")->group(group);
  cmd->add_option("--min-positive-feedback", f->min_positive_feedback, "Roll back below this share of thumbs up")
      ->group(group);
  cmd->add_flag("--no-evaluation-rollback", f->no_evaluation_rollback,
                "Do not roll back when the holder's newest evaluation is worse than its baseline")
      ->group(group);
}

Result<int64_t> ParseDuration(const std::string& text, const std::string& flag, int64_t max_seconds) {
  const std::string bad = flag + ": expected a duration like 90s, 15m, 1h or 1d, at most " + std::to_string(max_seconds) + " s";
  if (text.empty() || text.size() > 12) return Status::InvalidArgument(bad);
  int64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's': unit = 1; digits.pop_back(); break;
    case 'm': unit = 60; digits.pop_back(); break;
    case 'h': unit = 3600; digits.pop_back(); break;
    case 'd': unit = 86400; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.size() > 9) return Status::InvalidArgument(bad);
  for (char c : digits) {
    if (c < '0' || c > '9') return Status::InvalidArgument(bad);
  }
  const int64_t seconds = std::stoll(digits) * unit;
  if (seconds < 1 || seconds > max_seconds) return Status::InvalidArgument(bad);
  return seconds;
}

Result<json> BuildPolicy(const std::string& file_text, const PolicyFlags& f) {
  json p = json::object();
  if (!file_text.empty()) {
    if (file_text.size() > kMaxPolicyFileBytes) return Status::InvalidArgument("--policy-file: larger than 64 KiB");
    p = json::parse(file_text, nullptr, false);
    if (p.is_discarded() || !p.is_object()) return Status::InvalidArgument("--policy-file: not a JSON object");
  }
  if (f.rollback && f.no_rollback) return Status::InvalidArgument("--rollback and --no-rollback contradict each other");
  if (f.rollback) p["enabled"] = true;
  if (f.no_rollback) p["enabled"] = false;
  if (f.no_evaluation_rollback) p["onEvaluationRegression"] = false;
  if (f.canary_weight >= 0) p["canaryWeight"] = f.canary_weight;
  if (f.max_error_rate >= 0) p["maxErrorRate"] = f.max_error_rate;
  if (f.min_positive_feedback >= 0) p["minPositiveFeedback"] = f.min_positive_feedback;
  if (f.min_requests >= 0) p["minRequests"] = f.min_requests;
  if (f.min_feedback >= 0) p["minFeedback"] = f.min_feedback;
  for (auto [text, flag, key] : {std::make_tuple(&f.window, "--window", "windowSeconds"),
                                 std::make_tuple(&f.watch, "--watch", "watchSeconds")}) {
    if (text->empty()) continue;
    auto seconds = ParseDuration(*text, flag, 7 * 86400);
    if (!seconds.ok()) return seconds.status();
    p[key] = *seconds;
  }
  // The server's own check, before anything is sent.
  if (auto checked = service::RollbackPolicyFromJson(p); !checked.ok()) return checked.status();
  return p;
}

std::string TrafficText(const json& t) {
  const std::string challenger = Field(t, "challengerModelArn");
  const double weight = t.value("challengerWeight", 0.0);
  if (challenger.empty()) return "all to the champion";
  return Number("%.0f%%", weight * 100) + " to " + challenger +
         (t.value("sticky", true) ? ", sticky by user id" : ", drawn per request");
}

std::string PolicyText(const json& p) {
  if (!p.value("enabled", false)) return "off";
  return "on: roll back when error rate > " + Number("%.2f", p.value("maxErrorRate", 0.0)) + " (from " +
         std::to_string(p.value("minRequests", 0)) + " requests) or positive feedback < " +
         Number("%.2f", p.value("minPositiveFeedback", 0.0)) + " (from " + std::to_string(p.value("minFeedback", 0)) +
         " ratings) over " + Number("%g", p.value("windowSeconds", 0.0)) + " s" +
         (p.value("onEvaluationRegression", true) ? " or an evaluation regresses" : "") + "; new alias holders get " +
         Number("%.0f%%", p.value("canaryWeight", 0.0) * 100) + " for " + Number("%g", p.value("watchSeconds", 0.0)) +
         " s";
}

void PrintStats(const json& s) {
  std::printf("Deployment %s (%s)\nModel      %s\n", Field(s, "deploymentName").c_str(), Field(s, "deploymentArn").c_str(),
              Field(s, "modelArn").c_str());
  const json variants = s.value("variants", json::array());
  if (variants.empty()) {
    std::printf("\nNo requests yet.\n");
  } else {
    std::printf("\nLast %s s:\n", Field(s, "windowSeconds").c_str());
    PrintVariantTable(variants, "window");
    std::printf("\nAll time:\n");
    PrintVariantTable(variants, "total");
  }
  for (const auto& v : variants) {
    const json comments = v.value("comments", json::array());
    if (comments.empty()) continue;
    std::printf("\nRecent comments on %s (%s):\n", Field(v, "served").c_str(), Field(v, "variant").c_str());
    for (const auto& c : comments) std::printf("  - %s\n", c.is_string() ? c.get<std::string>().c_str() : "");
  }
  const json rollbacks = s.value("rollbacks", json::array());
  if (!rollbacks.empty()) std::printf("\nRollbacks:\n");
  for (const auto& r : rollbacks) {
    std::printf("  %s  %s -> %s: %s\n", ShortTime(Iso8601(Int(r, "timeMs"))).c_str(), Field(r, "from").c_str(),
                Field(r, "to").c_str(), Field(r, "reason").c_str());
  }
}

Result<json> StatsFromStore(const StoreFlags& where, const std::string& deployment, int64_t window_ms) {
  auto db = OpenChosenStore(where);
  if (!db.ok()) return db.status();
  auto row = (*db)->Find(service::kDeploymentKind, deployment);
  if (!row.ok()) return row.status();
  const json serving = row->doc.value("_serving", json::object());
  const std::string champion = serving.value("champion", "");
  const std::string challenger = serving.contains("challenger") ? Field(serving["challenger"], "served") : "";
  const bool challenger_live = row->doc.contains("traffic") && row->doc["traffic"].value("challengerWeight", 0.0) > 0;
  json variants = json::array();
  if (auto stats = (*db)->Find(service::kDeploymentStatsKind, row->id); stats.ok()) {
    for (const auto& v : service::DeploymentStats::SummaryFromRow(*stats, NowMillis(), window_ms)) {
      const char* variant = v.served == champion ? "champion"
                            : v.served == challenger && challenger_live ? "challenger"
                                                                        : "retired";
      variants.push_back(service::VariantStatsToJson(v, variant));
    }
  }
  return json{{"deploymentArn", row->arn},
              {"deploymentName", row->name},
              {"modelArn", row->doc.value("modelArn", "")},
              {"variants", std::move(variants)},
              {"windowSeconds", window_ms / 1000},
              {"rollbacks", row->doc.value("rollbacks", json::array())}};
}

}  // namespace lathe::cli
