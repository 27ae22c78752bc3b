// What `lathe deployments` (deployments_cmd.cc) shows and builds: traffic and rollback policy in
// words, the rollback policy from a file and flags, the per-variant stats table, and the same
// stats read from lathe.db when no server answers.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/store_choice.h"
#include "core/status.h"

namespace lathe::cli {

// The rollback policy flags of `split`; unset ones leave the file's (or the server's) value.
struct PolicyFlags {
  bool rollback = false, no_rollback = false, no_evaluation_rollback = false;
  double canary_weight = -1, max_error_rate = -1, min_positive_feedback = -1;
  int64_t min_requests = -1, min_feedback = -1;
  std::string window, watch;  // durations: 90s, 10m, 1h
};
void AddPolicyFlags(CLI::App* cmd, PolicyFlags* flags);
// The rollbackPolicy member to send: the file's JSON object (`file_text`, "" = none) with the
// flags over it, checked as the server checks it; {} when neither sets anything.
Result<nlohmann::json> BuildPolicy(const std::string& file_text, const PolicyFlags& flags);

// "90s", "15m", "1h", "2d" or plain seconds -> seconds, 1..max_seconds; `flag` names it in errors.
Result<int64_t> ParseDuration(const std::string& text, const std::string& flag, int64_t max_seconds);

// "20% to banking/3, sticky by user id" / "none".
std::string TrafficText(const nlohmann::json& traffic);
// "on: error rate > 0.05 or positive feedback < 0.50 over 300 s (...)" / "off".
std::string PolicyText(const nlohmann::json& policy);

// The stats operation's answer as tables: the window per variant, all time, rollbacks, comments.
void PrintStats(const nlohmann::json& stats);

// The stats operation's answer built from the rows of lathe serve's store (store_choice.h: a
// shared --store, or DATA_DIR/lathe.db): the numbers as the server last flushed them.
Result<nlohmann::json> StatsFromStore(const StoreFlags& where, const std::string& deployment, int64_t window_ms);

}  // namespace lathe::cli
