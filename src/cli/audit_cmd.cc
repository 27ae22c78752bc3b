// `lathe audit`: the audit trail (services/iam/audit_trail.h) of lathe serve, filtered by
// principal, action, time and outcome — read from DATA_DIR/audit without a running server.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/iam_commands.h"
#include "core/arn.h"
#include "engine/default_model.h"
#include "services/iam/audit_trail.h"

namespace lathe::cli {
namespace {

// An ISO 8601 time, or a span back from now ("15m", "2h", "7d").
Result<int64_t> TimeOption(const std::string& value, const char* option) {
  if (value.empty()) return int64_t{0};
  if (value.size() >= 2 && value.size() <= 8 && value.find_first_not_of("0123456789") == value.size() - 1) {
    const int64_t n = std::stoll(value.substr(0, value.size() - 1));
    const char unit = value.back();
    const int64_t ms = unit == 's' ? 1000 : unit == 'm' ? 60000 : unit == 'h' ? 3600000 : unit == 'd' ? 86400000 : 0;
    if (ms) return NowMillis() - n * ms;
  }
  const int64_t t = ParseIso8601(value);
  if (t < 0)
    return Status::InvalidArgument(std::string(option) + ": not a time (2026-12-03T08:00:00Z) or a span (15m, 2h, 7d): " +
                                   value.substr(0, 40));
  return t;
}

}  // namespace

void AddAuditCommand(CLI::App* app, Context* ctx) {
  struct Args {
    std::string data_dir, principal, action, since, until;
    bool denied = false, json = false;
    size_t limit = 100;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "audit", "Every API call lathe serve answered (CloudTrail's record: time, principal, source address,\n"
               "action, resources, outcome, request id), from DATA_DIR/audit");
  cmd->footer(
      "Examples:\n  lathe audit --since 1h\n  lathe audit --principal 'arn:aws:iam::*:user/ci-*' --denied\n"
      "  lathe audit --action 's3:Delete*' --since 2026-12-01T00:00:00Z --json");
  cmd->add_option("--data-dir", a->data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--principal", a->principal, "Only calls by this ARN (wildcards * and ? allowed)");
  cmd->add_option("--action", a->action, "Only this IAM action, e.g. s3:GetObject or 'bedrock:*'");
  cmd->add_option("--since", a->since, "Only calls at or after this time (ISO 8601, or 15m, 2h, 7d ago)");
  cmd->add_option("--until", a->until, "Only calls at or before this time");
  cmd->add_flag("--denied", a->denied, "Only calls refused by IAM (AccessDenied)");
  cmd->add_option("--limit", a->limit, "How many of the newest matching calls to print")->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", a->json, "Print the records as JSON (CloudTrail's field names)");
  cmd->callback([a, ctx] {
    iam::AuditFilter filter;
    filter.principal = a->principal;
    filter.action = a->action;
    filter.denied_only = a->denied;
    filter.limit = a->limit;
    Result<int64_t> since = TimeOption(a->since, "--since"), until = TimeOption(a->until, "--until");
    for (const auto* t : {&since, &until})
      if (!t->ok()) {
        ctx->exit_code = ReportError(t->status());
        return;
      }
    filter.since_ms = *since;
    if (!a->until.empty()) filter.until_ms = *until;
    const std::string data_dir = a->data_dir.empty() ? engine::DefaultDataDir() : a->data_dir;
    Result<std::vector<nlohmann::json>> records = iam::AuditTrail::Query(data_dir + "/audit", filter);
    if (!records.ok()) {
      ctx->exit_code = ReportError(records.status());
      return;
    }
    if (a->json) {
      PrintJson(nlohmann::json(*records));
    } else {
      std::printf("%-24s  %-15s  %-45s  %-40s  %-22s  %s\n", "TIME", "SOURCE", "PRINCIPAL", "ACTION", "OUTCOME",
                  "RESOURCE");
      for (const nlohmann::json& r : *records) {
        const nlohmann::json& who = r.contains("userIdentity") ? r["userIdentity"] : nlohmann::json::object();
        const std::string outcome = r.value("errorCode", std::string("OK"));
        std::string resource;
        if (r.contains("resources") && r["resources"].is_array() && !r["resources"].empty() &&
            r["resources"][0].is_object())
          resource = r["resources"][0].value("ARN", "");
        std::printf("%-24s  %-15s  %-45s  %-40s  %-22s  %s\n", r.value("eventTime", "").c_str(),
                    r.value("sourceIPAddress", "").c_str(), who.value("arn", "").c_str(), r.value("action", "").c_str(),
                    outcome.c_str(), resource.c_str());
      }
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
