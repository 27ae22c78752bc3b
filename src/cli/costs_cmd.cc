// `lathe costs [--since 30d] [--json] [--data-dir D] [--config F] [--store URL] [--prices F]`: every job,
// evaluation job, custom model, provisioned throughput, deployment and on-demand model with
// lathe's compute time and what Bedrock would have charged for the same work at the configured
// prices (service/costs.h). Reads lathe serve's store directly (DATA_DIR/lathe.db or a shared
// --store; store_choice.h), like `lathe registry`, so it works whether or not `lathe serve` runs.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/costs_deployments.h"
#include "cli/store_choice.h"
#include "core/arn.h"
#include "core/env.h"
#include "data/estimate.h"
#include "service/costs.h"
#include "service/retention_policy.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

// "30d", "12h", "90m" -> milliseconds; "" or "all" -> 0 (everything). Bounded: at most 100 years.
// --since: "all", or a duration as the retention policy writes them (30d, 12h, 90m, ...).
Result<int64_t> ParseSince(const std::string& s) {
  if (s.empty() || s == "all") return int64_t{0};
  return service::ParseRetentionDuration(s, "--since");
}

std::string Hours(const std::optional<double>& h) {
  if (!h) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *h);
  return buf;
}

std::string Work(const service::CostLine& l) {
  char buf[160];
  if (l.kind == "customization-job")
    std::snprintf(buf, sizeof buf, "%llu tokens trained", static_cast<unsigned long long>(l.trained_tokens));
  else if (l.kind == "provisioned-throughput")
    std::snprintf(buf, sizeof buf, "%.3f h x %d MU held", l.hours, l.model_units);
  else if (l.kind == "custom-model")
    std::snprintf(buf, sizeof buf, "%.4f months stored", l.hours / service::kHoursPerMonth);
  else
    std::snprintf(buf, sizeof buf, "%s%llu in, %llu out tokens%s", l.input_estimated ? "~" : "",
                  static_cast<unsigned long long>(l.input_tokens), static_cast<unsigned long long>(l.output_tokens),
                  l.requests ? (", " + std::to_string(l.requests) + " requests").c_str() : "");
  return buf;
}

std::string Cut(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

void PrintTable(const service::CostReport& r, const std::string& since) {
  std::printf("What lathe did%s, and what Bedrock would have charged for it\n(prices: %s)\n\n",
              since.empty() || since == "all" ? "" : (" in the last " + since).c_str(), r.price_source.c_str());
  std::printf("%-22s %-28s %-30s %9s %9s  %-32s %12s\n", "KIND", "NAME", "BASE MODEL", "CPU h", "WALL h", "WORK",
              ("BEDROCK " + r.currency).c_str());
  for (const auto& l : r.lines) {
    char cost[32];
    if (l.priced) std::snprintf(cost, sizeof cost, "%.4f", l.bedrock_cost);
    else std::snprintf(cost, sizeof cost, "unpriced");
    std::printf("%-22s %-28s %-30s %9s %9s%s %-32s %12s\n", l.kind.c_str(), Cut(l.name, 28).c_str(),
                Cut(l.base_model.empty() ? "?" : l.base_model, 30).c_str(), Hours(l.cpu_hours).c_str(),
                Hours(l.wall_hours).c_str(), l.held ? "*" : " ", Cut(Work(l), 32).c_str(), cost);
  }
  std::printf("\nTotal: lathe computed %.4f CPU hours in %.4f wall hours; Bedrock would have charged %s %.4f%s.\n",
              r.cpu_hours, r.wall_hours, r.currency.c_str(), r.bedrock_total,
              r.unpriced ? (" (" + std::to_string(r.unpriced) + " line(s) unpriced: the price table has no price for them)").c_str() : "");
  std::printf("* time held (provisioned throughput, stored models), not compute. CPU h: '-' where lathe does not\n"
              "  measure it (inference runs inside the server). Prices are examples or placeholders unless you set\n"
              "  yours: docs/costs.md.\n");
}

}  // namespace

void AddCostsCommand(CLI::App* app, Context* ctx) {
  struct Args {
    StoreFlags where;  // --store, --config, --data-dir
    std::string prices, since = "all";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "costs",
      "lathe's compute time for every job, evaluation, custom model, provisioned throughput, deployment and\n"
      "on-demand model, beside what Bedrock would have charged for the same work at the configured prices\n"
      "(lathe serve's config \"prices\", or --prices; docs/costs.md).\n\n"
      "Example:\n  lathe costs --since 30d --config serve.json");
  cmd->add_option("--data-dir", a->where.data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--config", a->where.config, "lathe serve's JSON config (its \"prices\" and \"store\")");
  AddStoreOptions(cmd, &a->where, nullptr);
  cmd->add_option("--prices", a->prices, "A price table JSON file (docs/prices.example.json's format); overrides the config's")
      ->check(CLI::ExistingFile);
  cmd->add_option("--since", a->since, "Only work in this window: 30d, 12h, 90m, or all")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    auto fail = [ctx](const Status& s) { ctx->exit_code = ReportError(s); };
    auto window = ParseSince(a->since);
    if (!window.ok()) return fail(window.status());
    service::ServiceConfig config;
    if (!a->where.config.empty()) {
      auto loaded = service::LoadServiceConfig(a->where.config, config);
      if (!loaded.ok()) return fail(loaded.status());
      config = *loaded;
    }
    if (!a->prices.empty()) {
      auto table = data::LoadPriceTable(Env::Default(), a->prices);
      if (!table.ok()) return fail(table.status());
      config.prices = *table;
    }
    auto db = OpenChosenStore(a->where, &config);
    if (!db.ok()) return fail(db.status());
    auto read = service::ReadCostInputs(**db);
    if (!read.ok()) return fail(read.status());
    service::CostInputs in = std::move(*read);
    const int64_t now = NowMillis();
    const int64_t since = *window > 0 ? now - *window : 0;
    auto deployments = DeploymentUsages(db->get(), now, since);
    if (!deployments.ok()) return fail(deployments.status());
    in.deployments = std::move(*deployments);
    const service::CostReport report = service::ComputeCosts(in, config.prices, now, since);
    if (a->json) {
      nlohmann::json out = service::CostReportJson(report);
      out["since"] = since > 0 ? nlohmann::json(Iso8601(since)) : nlohmann::json();
      PrintJson(out);
    } else {
      PrintTable(report, a->since);
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
