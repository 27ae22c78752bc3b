#include "service/costs.h"

#include <algorithm>
#include <cstdio>

#include "core/arn.h"
#include "core/json_fields.h"
#include "service/custom_model_service.h"
#include "service/evaluation_jobs.h"
#include "service/job_service.h"
#include "service/throughput_service.h"
#include "service/usage_meter.h"

namespace lathe::service {
using nlohmann::json;

namespace {

constexpr double kMsPerHour = 3600.0 * 1000.0;

// Members of rows lathe wrote, read without trusting their types (a row from an older lathe).
constexpr auto Int = JsonInt;
constexpr auto Str = JsonStr;

std::string Num(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits + 2, v);
  return buf;
}

// Prices `line` with `price` (null: unpriced). `cost` computes from the model's prices; returns
// false where the table lacks the price it needs.
template <typename F>
void Price(CostLine* line, const data::PriceTable& prices, F cost) {
  const data::ModelPrice* p = prices.For(line->base_model);
  if (!p) {
    line->pricing = "no price for " + (line->base_model.empty() ? std::string("an unknown model") : line->base_model);
    return;
  }
  line->priced = cost(*p);
  if (!line->priced) line->bedrock_cost = 0;
}

// Tokens at on-demand prices; false when the table has no on-demand price for the model.
bool OnDemand(CostLine* line, const data::ModelPrice& p) {
  if (p.input_per_1k_tokens < 0 || p.output_per_1k_tokens < 0) {
    line->pricing = "no on-demand price for " + line->base_model;
    return false;
  }
  line->bedrock_cost += static_cast<double>(line->input_tokens) / 1000.0 * p.input_per_1k_tokens +
                        static_cast<double>(line->output_tokens) / 1000.0 * p.output_per_1k_tokens;
  line->pricing = Num(static_cast<double>(line->input_tokens) / 1000.0) + "k in x " + Num(p.input_per_1k_tokens) +
                  " + " + Num(static_cast<double>(line->output_tokens) / 1000.0) + "k out x " +
                  Num(p.output_per_1k_tokens) + " (" + p.name + ")";
  return true;
}

// The part of [start, end) inside [since, now], in hours.
double HeldHours(int64_t start, int64_t end, int64_t since, int64_t now) {
  const int64_t from = std::max(start, since), to = std::min(end > 0 ? end : now, now);
  return to > from ? static_cast<double>(to - from) / kMsPerHour : 0.0;
}

CostLine NewLine(const std::string& kind, const std::string& id, const std::string& name, const std::string& status) {
  CostLine l;
  l.kind = kind;
  l.id = id;
  l.name = name;
  l.status = status;
  return l;
}

void Compute(CostLine* line, const json& doc) {
  const json c = doc.value("_compute", json::object());
  if (!c.is_object() || c.empty()) return;
  line->cpu_hours = static_cast<double>(Int(c, "cpuMs")) / kMsPerHour;
  line->wall_hours = static_cast<double>(Int(c, "wallMs")) / kMsPerHour;
}

void JobLines(const CostInputs& in, const data::PriceTable& prices, std::vector<CostLine>* out) {
  for (const auto& r : in.jobs) {
    CostLine l = NewLine("customization-job", r.id, r.name, r.status);
    l.start_ms = r.created_ms;
    l.end_ms = r.doc.contains("endTime") ? ParseIso8601(Str(r.doc, "endTime")) : 0;
    l.base_model = BaseModelId(Str(r.doc, "baseModelArn"), in.custom_models);
    Compute(&l, r.doc);
    const json c = r.doc.value("_compute", json::object());
    l.trained_tokens = c.is_object() ? static_cast<uint64_t>(std::max<int64_t>(Int(c, "trainedTokens"), 0)) : 0;
    Price(&l, prices, [&l](const data::ModelPrice& p) {
      l.bedrock_cost = static_cast<double>(l.trained_tokens) / 1000.0 * p.training_per_1k_tokens;
      l.pricing = Num(static_cast<double>(l.trained_tokens) / 1000.0) + "k tokens trained x " +
                  Num(p.training_per_1k_tokens) + " (" + p.name + ")";
      return true;
    });
    out->push_back(std::move(l));
  }
}

void EvaluationLines(const CostInputs& in, const data::PriceTable& prices, std::vector<CostLine>* out) {
  for (const auto& r : in.evaluation_jobs) {
    CostLine l = NewLine("evaluation-job", r.id, r.name, r.status);
    l.start_ms = r.created_ms;
    l.end_ms = r.status == "InProgress" || r.status == "Stopping" ? 0 : ParseIso8601(Str(r.doc, "lastModifiedTime"));
    Compute(&l, r.doc);
    const json c = r.doc.value("_compute", json::object());
    const json models = c.is_object() ? c.value("models", json::array()) : json::array();
    l.input_estimated = c.is_object() && c.value("inputTokensEstimated", false);
    l.priced = true;
    std::vector<std::string> how;
    for (const auto& m : models) {
      if (!m.is_object()) continue;
      CostLine part;
      part.input_tokens = static_cast<uint64_t>(std::max<int64_t>(Int(m, "inputTokens"), 0));
      part.output_tokens = static_cast<uint64_t>(std::max<int64_t>(Int(m, "outputTokens"), 0));
      l.input_tokens += part.input_tokens;
      l.output_tokens += part.output_tokens;
      if (Str(m, "kind") == "provisioned-model") {  // its hours are priced on its own line
        how.push_back(Str(m, "identifier") + ": on provisioned throughput");
        continue;
      }
      part.base_model = BaseModelId(Str(m, "arn").empty() ? Str(m, "identifier") : Str(m, "arn"), in.custom_models);
      if (l.base_model.empty()) l.base_model = part.base_model;
      Price(&part, prices, [&part](const data::ModelPrice& p) { return OnDemand(&part, p); });
      if (!part.priced) l.priced = false;
      l.bedrock_cost += part.bedrock_cost;
      how.push_back(part.pricing);
    }
    if (!l.priced) l.bedrock_cost = 0;
    for (size_t i = 0; i < how.size(); ++i) l.pricing += (i ? "; " : "") + how[i];
    if (models.empty()) l.pricing = "no tokens recorded";
    out->push_back(std::move(l));
  }
}

// A provisioned throughput held from `created` to `deleted` (0: still held).
CostLine ThroughputLine(const std::string& id, const std::string& name, const std::string& status,
                        const std::string& foundation_arn, int units, int64_t created, int64_t deleted,
                        const CostInputs& in, const data::PriceTable& prices, int64_t now, int64_t since) {
  CostLine l = NewLine("provisioned-throughput", id, name, status);
  l.start_ms = created;
  l.end_ms = deleted;
  l.base_model = BaseModelId(foundation_arn, in.custom_models);
  l.model_units = units;
  l.hours = HeldHours(created, deleted, since, now);
  l.wall_hours = l.hours;
  l.held = true;
  Price(&l, prices, [&l](const data::ModelPrice& p) {
    if (p.provisioned_per_unit_hour < 0) {
      l.pricing = "no provisioned throughput price for " + l.base_model;
      return false;
    }
    l.bedrock_cost = l.hours * l.model_units * p.provisioned_per_unit_hour;
    l.pricing = Num(l.hours) + " h x " + std::to_string(l.model_units) + " model unit(s) x " +
                Num(p.provisioned_per_unit_hour) + " (" + p.name + ", no commitment)";
    return true;
  });
  return l;
}

void HeldLines(const CostInputs& in, const data::PriceTable& prices, int64_t now, int64_t since,
               std::vector<CostLine>* out) {
  for (const auto& r : in.throughputs)
    out->push_back(ThroughputLine(r.id, r.name, r.status, Str(r.doc, "foundationModelArn"),
                                  static_cast<int>(Int(r.doc, "modelUnits")), r.created_ms, 0, in, prices, now, since));
  for (const auto& r : in.usage)
    if (Str(r.doc, "what") == "provisioned-throughput")
      out->push_back(ThroughputLine(r.id.substr(r.id.find('/') + 1), Str(r.doc, "provisionedModelName"), "Deleted", Str(r.doc, "foundationModelArn"),
                                    static_cast<int>(Int(r.doc, "modelUnits")), Int(r.doc, "createdMs"),
                                    Int(r.doc, "deletedMs"), in, prices, now, since));
  for (const auto& r : in.custom_models) {
    CostLine l = NewLine("custom-model", r.id, r.name, "Stored");
    l.start_ms = r.created_ms;
    l.base_model = BaseModelId(r.arn, in.custom_models);
    l.hours = HeldHours(r.created_ms, 0, since, now);
    l.wall_hours = l.hours;
    l.held = true;
    Price(&l, prices, [&l](const data::ModelPrice& p) {
      if (p.storage_per_month < 0) {
        l.pricing = "no storage price for " + l.base_model;
        return false;
      }
      l.bedrock_cost = l.hours / kHoursPerMonth * p.storage_per_month;
      l.pricing = Num(l.hours / kHoursPerMonth) + " month(s) stored x " + Num(p.storage_per_month) + " (" + p.name + ")";
      return true;
    });
    out->push_back(std::move(l));
  }
}

void InferenceLines(const CostInputs& in, const data::PriceTable& prices, int64_t since, std::vector<CostLine>* out) {
  const std::string since_day = since > 0 ? Iso8601(since).substr(0, 10) : "";
  for (const auto& r : in.usage) {
    if (Str(r.doc, "what") != "on-demand" || Str(r.doc, "day") < since_day) continue;
    CostLine l = NewLine("on-demand", r.id, Str(r.doc, "modelId"), Str(r.doc, "day"));
    l.start_ms = ParseIso8601(Str(r.doc, "day") + "T00:00:00Z");
    l.end_ms = l.start_ms + 24 * 3600 * 1000;
    l.base_model = BaseModelId(Str(r.doc, "modelId"), in.custom_models);
    l.wall_hours = static_cast<double>(Int(r.doc, "computeMs")) / kMsPerHour;
    l.requests = Int(r.doc, "requests");
    l.input_tokens = static_cast<uint64_t>(std::max<int64_t>(Int(r.doc, "inputTokens"), 0));
    l.output_tokens = static_cast<uint64_t>(std::max<int64_t>(Int(r.doc, "outputTokens"), 0));
    Price(&l, prices, [&l](const data::ModelPrice& p) { return OnDemand(&l, p); });
    out->push_back(std::move(l));
  }
  for (const auto& d : in.deployments) {
    CostLine l = NewLine("deployment", d.deployment_id, d.deployment_name + " (" + d.served + ")", "Active");
    l.start_ms = d.created_ms;
    l.base_model = BaseModelId(d.model_arn.empty() ? d.served : d.model_arn, in.custom_models);
    l.wall_hours = static_cast<double>(d.compute_ms) / kMsPerHour;
    l.requests = d.requests;
    l.input_tokens = static_cast<uint64_t>(std::max<int64_t>(d.input_tokens, 0));
    l.output_tokens = static_cast<uint64_t>(std::max<int64_t>(d.output_tokens, 0));
    Price(&l, prices, [&l](const data::ModelPrice& p) { return OnDemand(&l, p); });
    out->push_back(std::move(l));
  }
}

int KindOrder(const std::string& kind) {
  static const char* kOrder[] = {"customization-job", "evaluation-job", "custom-model", "provisioned-throughput",
                                 "deployment", "on-demand"};
  for (int i = 0; i < 6; ++i)
    if (kind == kOrder[i]) return i;
  return 6;
}

}  // namespace

std::string BaseModelId(const std::string& model, const std::vector<store::ResourceRow>& custom_models) {
  std::string m = model;
  for (int depth = 0; depth < 8 && !m.empty(); ++depth) {  // a custom model of a custom model ...
    const std::string resource = m.rfind("arn:", 0) == 0 ? ArnResource(m) : "";
    if (resource.rfind("foundation-model/", 0) == 0) return resource.substr(17);
    const store::ResourceRow* found = nullptr;
    for (const auto& r : custom_models)
      if (r.arn == m || r.name == m || r.id == m) found = &r;
    if (!found) return resource.empty() ? m : "";  // a foundation model id, or an ARN lathe no longer has
    m = Str(found->doc, "baseModelArn");
  }
  return "";
}

CostReport ComputeCosts(const CostInputs& in, const data::PriceTable& prices, int64_t now_ms, int64_t since_ms) {
  CostReport report;
  report.currency = prices.currency;
  report.price_source = prices.source;
  std::vector<CostLine> lines;
  JobLines(in, prices, &lines);
  EvaluationLines(in, prices, &lines);
  HeldLines(in, prices, now_ms, since_ms, &lines);
  InferenceLines(in, prices, since_ms, &lines);
  for (auto& l : lines) {
    // Finished work before the window is not in it; held resources count their time inside it.
    if (since_ms > 0 && !l.held && l.end_ms > 0 && l.end_ms < since_ms && l.kind != "on-demand") continue;
    if (since_ms > 0 && l.held && l.hours <= 0) continue;
    if (l.priced) report.bedrock_total += l.bedrock_cost;
    else report.unpriced++;
    if (!l.held) {
      report.cpu_hours += l.cpu_hours.value_or(0);
      report.wall_hours += l.wall_hours;
    }
    report.lines.push_back(std::move(l));
  }
  std::stable_sort(report.lines.begin(), report.lines.end(), [](const CostLine& a, const CostLine& b) {
    if (KindOrder(a.kind) != KindOrder(b.kind)) return KindOrder(a.kind) < KindOrder(b.kind);
    return a.start_ms < b.start_ms;
  });
  return report;
}

json CostReportJson(const CostReport& r) {
  json lines = json::array();
  for (const auto& l : r.lines) {
    json j = {{"kind", l.kind}, {"id", l.id}, {"name", l.name}, {"status", l.status}, {"baseModel", l.base_model},
              {"start", l.start_ms > 0 ? json(Iso8601(l.start_ms)) : json()},
              {"end", l.end_ms > 0 ? json(Iso8601(l.end_ms)) : json()},
              {"cpuHours", l.cpu_hours ? json(*l.cpu_hours) : json()}, {"wallHours", l.wall_hours},
              {"held", l.held}, {"priced", l.priced}, {"bedrockCost", l.priced ? json(l.bedrock_cost) : json()},
              {"pricing", l.pricing}};
    if (l.kind == "customization-job") j["trainedTokens"] = l.trained_tokens;
    if (l.kind == "evaluation-job" || l.kind == "on-demand" || l.kind == "deployment") {
      j["inputTokens"] = l.input_tokens;
      j["outputTokens"] = l.output_tokens;
      if (l.input_estimated) j["inputTokensEstimated"] = true;
    }
    if (l.kind == "on-demand" || l.kind == "deployment") j["requests"] = l.requests;
    if (l.held) j["hours"] = l.hours;
    if (l.kind == "provisioned-throughput") j["modelUnits"] = l.model_units;
    lines.push_back(std::move(j));
  }
  return {{"currency", r.currency},
          {"priceSource", r.price_source},
          {"lines", lines},
          {"totals", {{"bedrockCost", r.bedrock_total}, {"unpricedLines", r.unpriced}, {"cpuHours", r.cpu_hours},
                      {"wallHours", r.wall_hours}}}};
}

Result<CostInputs> ReadCostInputs(store::MetadataStore& db) {
  CostInputs in;
  const std::pair<const char*, std::vector<store::ResourceRow>*> kinds[] = {{kJobKind, &in.jobs},
                                                                            {kEvaluationJobKind, &in.evaluation_jobs},
                                                                            {kThroughputKind, &in.throughputs},
                                                                            {kCustomModelKind, &in.custom_models},
                                                                            {kUsageKind, &in.usage}};
  for (const auto& [kind, rows] : kinds) {
    auto listed = db.List(kind);
    if (!listed.ok()) return listed.status();
    *rows = std::move(*listed);
  }
  return in;
}

}  // namespace lathe::service
