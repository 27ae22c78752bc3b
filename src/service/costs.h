// `lathe costs`: what lathe's work cost it (compute time) beside what Bedrock would have charged
// for the same work at the configured prices (data::PriceTable). A pure calculator over the rows
// lathe keeps (compute_record.h, usage_meter.h, the deployment stats): no clock, no store, no I/O,
// so every number is tested exactly (tests/service/costs_test.cc).
//
// What is priced at what (docs/costs.md):
//   customization job       tokens trained / 1000 x trainingPer1kTokens of its base model
//   evaluation job          per evaluated model: tokens read and generated at on-demand prices
//                           (nothing extra on a provisioned throughput: its hours are priced)
//   provisioned throughput  hours held x model units x provisionedPerModelUnitHour (no commitment)
//   custom model            months stored (730 hours each) x storagePerMonth
//   on-demand / deployment  tokens read and generated at on-demand prices
// The base model of custom models is followed through their rows (a custom model of a custom
// model prices as the first's base); a model the table does not name gets the fallback's prices,
// and without a fallback the line is shown unpriced.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/estimate.h"
#include "store/metadata_store.h"

namespace lathe::service {

// One served model of a deployment, as DeploymentStats::SummaryFromRow reports it.
struct DeploymentUsage {
  std::string deployment_id, deployment_name;
  std::string served;     // "<group>/<version>" or a model ARN
  std::string model_arn;  // the custom (or foundation) model that served it, "" when unknown
  int64_t requests = 0, input_tokens = 0, output_tokens = 0, compute_ms = 0;
  int64_t created_ms = 0, last_request_ms = 0;
};

struct CostInputs {
  std::vector<store::ResourceRow> jobs;              // kind "job"
  std::vector<store::ResourceRow> evaluation_jobs;   // kind "evaluation-job"
  std::vector<store::ResourceRow> throughputs;       // kind "provisioned-model" (held now)
  std::vector<store::ResourceRow> custom_models;     // kind "custom-model" (stored now; also resolves bases)
  std::vector<store::ResourceRow> usage;             // kind "usage" (usage_meter.h)
  std::vector<DeploymentUsage> deployments;
};

struct CostLine {
  // "customization-job", "evaluation-job", "provisioned-throughput", "custom-model", "deployment",
  // "on-demand".
  std::string kind;
  std::string id, name, status;
  std::string base_model;  // the Bedrock model id it is priced as ("" when unknown)
  int64_t start_ms = 0, end_ms = 0;  // end 0: still running or held
  // lathe's compute: CPU time (nullopt where lathe does not measure it) and wall time. For
  // provisioned throughput and custom models the wall time is the time held (`held`), not compute.
  std::optional<double> cpu_hours;
  double wall_hours = 0;
  bool held = false;
  // The work.
  uint64_t trained_tokens = 0, input_tokens = 0, output_tokens = 0;
  bool input_estimated = false;
  int64_t requests = 0;
  double hours = 0;  // provisioned: hours held; custom model: hours stored
  int model_units = 0;
  // Bedrock's price for it.
  bool priced = false;  // false: the price table has no price for this work
  double bedrock_cost = 0;
  std::string pricing;  // how, in words: "41.3 x 1k tokens x 0.008"
};

struct CostReport {
  std::string currency, price_source;
  std::vector<CostLine> lines;
  double bedrock_total = 0;          // priced lines
  size_t unpriced = 0;               // lines without a price
  double cpu_hours = 0, wall_hours = 0;  // lathe's compute (held time not included)
};

inline constexpr double kHoursPerMonth = 730;  // AWS's monthly prices are 730 hours

// The rows ComputeCosts reads, from the store: every job, evaluation job, provisioned
// throughput, custom model and usage row (`deployments` is left to the caller).
Result<CostInputs> ReadCostInputs(store::MetadataStore& db);

// The lines for work overlapping [since_ms, now_ms] (since_ms 0: all of it); time held is
// counted inside the window only, finished work whole. Sorted by kind, then start.
CostReport ComputeCosts(const CostInputs& in, const data::PriceTable& prices, int64_t now_ms, int64_t since_ms);

// {"currency", "priceSource", "since", "lines": [...], "totals": {...}}; members in docs/costs.md.
nlohmann::json CostReportJson(const CostReport& report);

// The Bedrock model id an ARN or id stands for, following custom models to their base.
std::string BaseModelId(const std::string& model, const std::vector<store::ResourceRow>& custom_models);

}  // namespace lathe::service
