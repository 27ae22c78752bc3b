// `lathe costs`'s calculator (service/costs.h) on rows made here, every number exact: what each
// kind of work is priced at, windows, custom models followed to their base, the fallback and
// unpriced work, totals; and the price tables (the built-in one is docs/prices.example.json).
#include "service/costs.h"

#include <gtest/gtest.h>

#include "core/arn.h"
#include "core/env.h"
#include "core/json_fields.h"
#include "service/service_config.h"
#include "service/usage_meter.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using nlohmann::json;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kNow = 1000 * kHour;  // a fixed clock
const std::string kTitan = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1";

data::PriceTable Prices() {
  data::PriceTable t;
  t.source = "test prices";
  t.models["amazon.titan-text-express-v1"] = {"Titan", 0.01, 2.0, 10.0, 0.001, 0.002};
  t.models["only.training"] = {"Training only", 0.5};  // the rest unpriced
  return t;
}

store::ResourceRow Row(const std::string& kind, const std::string& id, int64_t created, json doc,
                       const std::string& status = "") {
  return {kind, id, id + "-name", "arn:aws:bedrock:us-east-1:123456789012:" + kind + "/" + id, status, created, doc};
}

const CostLine& Only(const CostReport& r) {
  EXPECT_EQ(r.lines.size(), 1u);
  static const CostLine kNone;
  return r.lines.empty() ? kNone : r.lines[0];
}

TEST(Costs, AJobIsTheTokensItTrainedAtTheTrainingPriceBesideItsCompute) {
  CostInputs in;
  in.jobs.push_back(Row("job", "j1", kNow - 2 * kHour,
                        {{"baseModelArn", kTitan}, {"endTime", Iso8601(kNow - kHour)},
                         {"_compute", {{"cpuMs", 2 * kHour}, {"wallMs", kHour / 2}, {"workers", 1}, {"trainedTokens", 41000}}}},
                        "Completed"));
  const CostReport r = ComputeCosts(in, Prices(), kNow, 0);
  const CostLine& l = Only(r);
  EXPECT_EQ(l.kind, "customization-job");
  EXPECT_EQ(l.base_model, "amazon.titan-text-express-v1");
  EXPECT_EQ(l.trained_tokens, 41000u);
  EXPECT_TRUE(l.priced);
  EXPECT_DOUBLE_EQ(l.bedrock_cost, 41.0 * 0.01);
  EXPECT_DOUBLE_EQ(*l.cpu_hours, 2.0);
  EXPECT_DOUBLE_EQ(l.wall_hours, 0.5);
  EXPECT_EQ(l.end_ms, kNow - kHour);
  EXPECT_DOUBLE_EQ(r.bedrock_total, 0.41);
  EXPECT_DOUBLE_EQ(r.cpu_hours, 2.0);
  EXPECT_DOUBLE_EQ(r.wall_hours, 0.5);
  // Before the window: not in it.
  EXPECT_TRUE(ComputeCosts(in, Prices(), kNow, kNow - kHour / 2).lines.empty());
  EXPECT_EQ(ComputeCosts(in, Prices(), kNow, kNow - 2 * kHour).lines.size(), 1u);
}

TEST(Costs, ACustomModelIsPricedAsTheBaseItWasTrainedFrom) {
  CostInputs in;
  store::ResourceRow first = Row("custom-model", "c1", kNow - 730 * kHour, {{"baseModelArn", kTitan}});
  store::ResourceRow second = Row("custom-model", "c2", kNow - 73 * kHour, {{"baseModelArn", first.arn}});
  in.custom_models = {first, second};
  EXPECT_EQ(BaseModelId(second.arn, in.custom_models), "amazon.titan-text-express-v1");
  EXPECT_EQ(BaseModelId("c2-name", in.custom_models), "amazon.titan-text-express-v1");
  EXPECT_EQ(BaseModelId("amazon.titan-text-express-v1", in.custom_models), "amazon.titan-text-express-v1");
  EXPECT_EQ(BaseModelId("arn:aws:bedrock:us-east-1:123456789012:custom-model/gone", in.custom_models), "");
  // Storage: months of 730 hours.
  const CostReport r = ComputeCosts(in, Prices(), kNow, 0);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].kind, "custom-model");
  EXPECT_DOUBLE_EQ(r.lines[0].hours, 730.0);
  EXPECT_DOUBLE_EQ(r.lines[0].bedrock_cost, 2.0);
  EXPECT_DOUBLE_EQ(r.lines[1].bedrock_cost, 0.2);
  EXPECT_TRUE(r.lines[0].held);
  EXPECT_DOUBLE_EQ(r.wall_hours, 0.0);  // time stored is not compute
  // Within a window: only the stored time inside it.
  EXPECT_DOUBLE_EQ(ComputeCosts(in, Prices(), kNow, kNow - 73 * kHour).bedrock_total, 0.2 + 0.2);
}

TEST(Costs, ProvisionedThroughputIsHoursHeldTimesModelUnitsInsideTheWindow) {
  CostInputs in;
  in.throughputs.push_back(Row("provisioned-model", "p1", kNow - 3 * kHour,
                               {{"foundationModelArn", kTitan}, {"modelUnits", 2}}, "InService"));
  store::ResourceRow deleted = Row("provisioned-model", "p0", kNow - 10 * kHour,
                                   {{"foundationModelArn", kTitan}, {"modelUnits", 1}});
  deleted.name = "old-pt";
  in.usage.push_back(EndedThroughputUsage(deleted, kNow - 8 * kHour));
  CostReport r = ComputeCosts(in, Prices(), kNow, 0);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].name, "old-pt");  // oldest first
  EXPECT_EQ(r.lines[0].status, "Deleted");
  EXPECT_EQ(r.lines[0].id, "p0");
  EXPECT_DOUBLE_EQ(r.lines[0].bedrock_cost, 2 * 1 * 10.0);
  EXPECT_EQ(r.lines[1].model_units, 2);
  EXPECT_DOUBLE_EQ(r.lines[1].hours, 3.0);
  EXPECT_DOUBLE_EQ(r.lines[1].bedrock_cost, 3 * 2 * 10.0);
  EXPECT_DOUBLE_EQ(r.bedrock_total, 80.0);
  // The last hour: the deleted one is outside, the live one counts one hour.
  r = ComputeCosts(in, Prices(), kNow, kNow - kHour);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_DOUBLE_EQ(r.lines[0].bedrock_cost, 1 * 2 * 10.0);
}

TEST(Costs, OnDemandAndDeploymentsAreTokensAtOnDemandPrices) {
  CostInputs in;
  in.usage.push_back({kUsageKind, "on-demand/2026-01-01/amazon.titan-text-express-v1", "n", "", "Recorded", 0,
                      {{"what", "on-demand"}, {"modelId", "amazon.titan-text-express-v1"}, {"day", "2026-01-01"},
                       {"requests", 3}, {"inputTokens", 1000}, {"outputTokens", 2000}, {"computeMs", kHour}}});
  in.deployments.push_back({"d1", "dep", "banking/3", "", 4, 3000, 500, kHour / 4, kNow - kHour, kNow});
  in.deployments.back().model_arn = kTitan;
  const CostReport r = ComputeCosts(in, Prices(), kNow, 0);
  ASSERT_EQ(r.lines.size(), 2u);
  const CostLine& dep = r.lines[0];
  EXPECT_EQ(dep.kind, "deployment");
  EXPECT_EQ(dep.name, "dep (banking/3)");
  EXPECT_DOUBLE_EQ(dep.bedrock_cost, 3 * 0.001 + 0.5 * 0.002);
  EXPECT_DOUBLE_EQ(dep.wall_hours, 0.25);
  const CostLine& od = r.lines[1];
  EXPECT_EQ(od.kind, "on-demand");
  EXPECT_EQ(od.requests, 3);
  EXPECT_DOUBLE_EQ(od.bedrock_cost, 1 * 0.001 + 2 * 0.002);
  EXPECT_FALSE(od.cpu_hours.has_value());  // inference runs inside the server: not measured
  EXPECT_DOUBLE_EQ(r.wall_hours, 1.25);
  // A day before the window is not in it.
  EXPECT_EQ(ComputeCosts(in, Prices(), kNow, ParseIso8601("2026-01-02T00:00:00Z")).lines.size(), 1u);
}

TEST(Costs, AnEvaluationPaysForEachModelsTokensButNotOnProvisionedThroughput) {
  CostInputs in;
  in.evaluation_jobs.push_back(Row(
      "evaluation-job", "e1", kNow - kHour,
      {{"lastModifiedTime", Iso8601(kNow)},
       {"_compute",
        {{"cpuMs", kHour}, {"wallMs", kHour}, {"inputTokensEstimated", true},
         {"models", json::array({{{"identifier", "amazon.titan-text-express-v1"}, {"arn", kTitan}, {"kind", "foundation-model"},
                                  {"inputTokens", 2000}, {"outputTokens", 1000}},
                                 {{"identifier", "my-pt"}, {"arn", "arn:aws:bedrock:us-east-1:1:provisioned-model/x"},
                                  {"kind", "provisioned-model"}, {"inputTokens", 2000}, {"outputTokens", 4000}}})}}}},
      "Completed"));
  const CostLine& l = Only(ComputeCosts(in, Prices(), kNow, 0));
  EXPECT_TRUE(l.priced);
  EXPECT_DOUBLE_EQ(l.bedrock_cost, 2 * 0.001 + 1 * 0.002);
  EXPECT_EQ(l.input_tokens, 4000u);
  EXPECT_EQ(l.output_tokens, 5000u);
  EXPECT_TRUE(l.input_estimated);
  EXPECT_NE(l.pricing.find("my-pt: on provisioned throughput"), std::string::npos) << l.pricing;
}

TEST(Costs, WorkWithoutAPriceIsShownUnpricedNotFree) {
  CostInputs in;
  in.jobs.push_back(Row("job", "j", 0, {{"baseModelArn", "arn:aws:bedrock:us-east-1::foundation-model/lathe.default-v1"},
                                        {"_compute", {{"trainedTokens", 5000}}}}));
  in.throughputs.push_back(Row("provisioned-model", "p", kNow - kHour,
                               {{"foundationModelArn", "arn:aws:bedrock:us-east-1::foundation-model/only.training"},
                                {"modelUnits", 1}}));
  data::PriceTable prices = Prices();
  CostReport r = ComputeCosts(in, prices, kNow, 0);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_FALSE(r.lines[0].priced);
  EXPECT_EQ(r.lines[0].pricing, "no price for lathe.default-v1");
  EXPECT_FALSE(r.lines[1].priced);
  EXPECT_EQ(r.lines[1].pricing, "no provisioned throughput price for only.training");
  EXPECT_EQ(r.unpriced, 2u);
  EXPECT_DOUBLE_EQ(r.bedrock_total, 0.0);
  json j = CostReportJson(r);
  EXPECT_TRUE(j["lines"][0]["bedrockCost"].is_null());
  EXPECT_EQ(j["totals"]["unpricedLines"], 2);
  // With a fallback, lathe's own model is priced as the fallback says.
  prices.fallback = data::ModelPrice{"fallback", 0.002, 1, 1, 1, 1};
  r = ComputeCosts(in, prices, kNow, 0);
  EXPECT_TRUE(r.lines[0].priced);
  EXPECT_DOUBLE_EQ(r.lines[0].bedrock_cost, 5 * 0.002);
}

TEST(Costs, TheJsonHasEveryNumberOfALine) {
  CostInputs in;
  in.jobs.push_back(Row("job", "j1", kNow - 2 * kHour,
                        {{"baseModelArn", kTitan}, {"endTime", Iso8601(kNow)},
                         {"_compute", {{"cpuMs", kHour}, {"wallMs", kHour}, {"trainedTokens", 1000}}}},
                        "Completed"));
  const json j = CostReportJson(ComputeCosts(in, Prices(), kNow, 0));
  EXPECT_EQ(j["currency"], "USD");
  EXPECT_EQ(j["priceSource"], "test prices");
  const json& l = j["lines"][0];
  EXPECT_EQ(l["kind"], "customization-job");
  EXPECT_EQ(l["name"], "j1-name");
  EXPECT_EQ(l["trainedTokens"], 1000);
  EXPECT_DOUBLE_EQ(l["bedrockCost"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(l["cpuHours"].get<double>(), 1.0);
  EXPECT_EQ(l["start"], Iso8601(kNow - 2 * kHour));
  EXPECT_DOUBLE_EQ(j["totals"]["bedrockCost"].get<double>(), 0.01);
}

TEST(PriceTables, TheBuiltInFallbackPricesOnlyLathesOwnModels) {
  const data::PriceTable& built_in = data::DefaultPriceTable();
  ASSERT_NE(built_in.For(kDefaultModelId), nullptr);
  EXPECT_EQ(built_in.For("meta.llama3-8b-instruct-v1:0"), nullptr);  // unknown to the table: unpriced
  EXPECT_NE(built_in.For("amazon.titan-text-express-v1"), nullptr);
  // lathe serve's configured models join lathe.default-v1 (the built-in table only).
  lathe::testing::TempDir dir;
  auto config = LoadServiceConfig(dir.Write("serve.json", R"({"models": {"my-local": "/m"}})"), ServiceConfig{});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_NE(config->prices.For("my-local"), nullptr);
  EXPECT_EQ(config->prices.For("other"), nullptr);
}

TEST(PriceTables, TheBuiltInTableIsTheDocumentedOne) {
  auto shipped = data::LoadPriceTable(Env::Default(), std::string(LATHE_SOURCE_DIR) + "/docs/prices.example.json");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  const data::PriceTable& built_in = data::DefaultPriceTable();
  EXPECT_EQ(shipped->source, built_in.source);
  ASSERT_EQ(shipped->models.size(), built_in.models.size());
  auto same = [](const data::ModelPrice& a, const data::ModelPrice& b) {
    return a.name == b.name && a.training_per_1k_tokens == b.training_per_1k_tokens &&
           a.storage_per_month == b.storage_per_month && a.provisioned_per_unit_hour == b.provisioned_per_unit_hour &&
           a.input_per_1k_tokens == b.input_per_1k_tokens && a.output_per_1k_tokens == b.output_per_1k_tokens;
  };
  for (const auto& [id, price] : built_in.models) {
    ASSERT_TRUE(shipped->models.count(id)) << id;
    EXPECT_TRUE(same(shipped->models.at(id), price)) << id;
  }
  ASSERT_TRUE(shipped->fallback && built_in.fallback);
  EXPECT_TRUE(same(*shipped->fallback, *built_in.fallback));
}

TEST(PriceTables, MistakesAreNamedAndOptionalPricesStayUnpriced) {
  auto parse = [](const char* text) { return data::ParsePriceTable(json::parse(text), "p.json"); };
  auto ok = parse(R"({"models": {"m": {"trainingPer1kTokens": 0.5, "inputPer1kTokens": 0.1}}})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->models.at("m").input_per_1k_tokens, 0.1);
  EXPECT_EQ(ok->models.at("m").output_per_1k_tokens, data::kUnpriced);
  EXPECT_FALSE(ok->fallback);
  EXPECT_EQ(ok->For("other"), nullptr);
  EXPECT_EQ(parse(R"({"models": {"m": {"trainingPer1kTokens": 1, "inputPer1KTokens": 1}}})").status().message(),
            "p.json: models.\"m\".inputPer1KTokens is not a price (name, trainingPer1kTokens, storagePerMonth, "
            "provisionedPerModelUnitHour, inputPer1kTokens, outputPer1kTokens)");
  EXPECT_EQ(parse(R"({"models": {"m": {"trainingPer1kTokens": 1}}, "fallback": {"trainingPer1kTokens": -1}})")
                .status().message(),
            "p.json: fallback.trainingPer1kTokens must be a non-negative number");
  EXPECT_EQ(parse(R"({"models": {"m": {"trainingPer1kTokens": 1}}, "price": 1})").status().message(),
            "p.json: \"price\" is not a price table key (currency, source, notes, models, fallback)");
  auto fallback = parse(R"({"models": {"m": {"trainingPer1kTokens": 1}}, "fallback": {"trainingPer1kTokens": 2}})");
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->For("other")->training_per_1k_tokens, 2);
  EXPECT_EQ(fallback->For("m")->training_per_1k_tokens, 1);
}

// lathe serve's config: "prices" replaces the built-in table whole; a mistake names the key.
TEST(PriceTables, TheServeConfigsPricesReplaceTheBuiltInTable) {
  lathe::testing::TempDir dir;
  EXPECT_EQ(ServiceConfig{}.prices.models.size(), data::DefaultPriceTable().models.size());
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"prices": {"currency": "EUR", "source": "ours",
      "models": {"amazon.titan-text-express-v1": {"trainingPer1kTokens": 0.25}}}})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->prices.currency, "EUR");
  EXPECT_EQ(c->prices.source, "ours");
  ASSERT_EQ(c->prices.models.size(), 1u);
  EXPECT_EQ(c->prices.models.at("amazon.titan-text-express-v1").training_per_1k_tokens, 0.25);
  const std::string bad_path = dir.Write("bad.json", R"({"prices": {"models": {"m": {"trainingPer1kTokens": "free"}}}})");
  auto bad = LoadServiceConfig(bad_path, ServiceConfig{});
  EXPECT_EQ(bad.status().message(), bad_path + ": \"prices\": models.\"m\".trainingPer1kTokens must be a non-negative number");
}

}  // namespace
}  // namespace lathe::service

namespace lathe {
namespace {

TEST(JsonFields, RowMembersOfAnyTypeReadSafely) {
  const nlohmann::json j = {{"i", 42}, {"big", 1e300}, {"neg", -1e300}, {"f", 2.9}, {"u", 18446744073709551615ull},
                            {"s", "x"}, {"n", nullptr}};
  EXPECT_EQ(JsonInt(j, "i"), 42);
  EXPECT_EQ(JsonInt(j, "big"), std::numeric_limits<int64_t>::max());  // not UB: clamped
  EXPECT_EQ(JsonInt(j, "neg"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(JsonInt(j, "f"), 2);
  EXPECT_EQ(JsonInt(j, "u"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(JsonInt(j, "s"), 0);
  EXPECT_EQ(JsonInt(j, "missing"), 0);
  EXPECT_EQ(JsonStr(j, "s"), "x");
  EXPECT_EQ(JsonStr(j, "i"), "");
}

}  // namespace
}  // namespace lathe
