#include "data/estimate.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "data/example_reader.h"
#include "data/model_limits.h"
#include "text/tokenizer.h"

namespace lathe::data {

const ModelPrice* PriceTable::For(const std::string& model_id) const {
  auto it = models.find(model_id);
  if (it != models.end()) return &it->second;
  if (!fallback || (!fallback_models.empty() && !fallback_models.count(model_id))) return nullptr;
  return &*fallback;
}

const PriceTable& DefaultPriceTable() {
  static const PriceTable kTable = [] {
    PriceTable t;
    t.source = "training: the Bedrock fine-tuning tutorial's table (February 2026 estimates); storage, provisioned "
               "throughput and on-demand prices: placeholders, set yours (docs/costs.md); check current AWS pricing";
    // Placeholders: the tutorials' own examples (on demand 0.003 per 1k tokens; provisioned
    // throughput "$8-15 per hour"), not AWS's price list.
    auto model = [](const char* name, double training) {
      return ModelPrice{name, training, 1.95, 8.0, 0.003, 0.003};
    };
    t.models["anthropic.claude-3-haiku-20240307-v1:0"] = model("Claude 3 Haiku", 0.012);
    t.models["amazon.titan-text-express-v1"] = model("Titan Text Express", 0.008);
    t.models["cohere.command-light-text-v14"] = model("Cohere Command", 0.010);
    t.fallback = model("lathe's own models (placeholder)", 0.008);
    t.fallback_models = {kLatheDefaultModelId};  // and serve's configured `models` (service_config.cc)
    return t;
  }();
  return kTable;
}

Result<PriceTable> ParsePriceTable(const nlohmann::json& j, const std::string& file) {
  auto bad = [&](const std::string& field, const std::string& why) {
    return Status::InvalidArgument(file + ": " + field + " " + why);
  };
  if (!j.is_object()) return bad("the table", "must be a JSON object");
  PriceTable t;
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (key != "currency" && key != "source" && key != "notes" && key != "models" && key != "fallback")
      return bad("\"" + key + "\"", "is not a price table key (currency, source, notes, models, fallback)");
    if ((key == "currency" || key == "source" || key == "notes") &&
        (!item.value().is_string() || item.value().get<std::string>().size() > kMaxPriceTextLength))
      return bad("\"" + key + "\"", "must be a string of at most " + std::to_string(kMaxPriceTextLength) + " characters");
  }
  t.currency = j.value("currency", std::string("USD"));
  t.source = j.value("source", std::string("prices from ") + file);
  // One model's prices; `field` names it in errors.
  auto parse_model = [&](const nlohmann::json& m, const std::string& field, const std::string& id,
                         ModelPrice* out) -> Status {
    if (!m.is_object()) return bad(field, "must be an object");
    static const std::pair<const char*, double ModelPrice::*> kPrices[] = {
        {"trainingPer1kTokens", &ModelPrice::training_per_1k_tokens},
        {"storagePerMonth", &ModelPrice::storage_per_month},
        {"provisionedPerModelUnitHour", &ModelPrice::provisioned_per_unit_hour},
        {"inputPer1kTokens", &ModelPrice::input_per_1k_tokens},
        {"outputPer1kTokens", &ModelPrice::output_per_1k_tokens}};
    for (const auto& item : m.items()) {
      bool known = item.key() == "name";
      for (const auto& p : kPrices) known = known || item.key() == p.first;
      if (!known)
        return bad(field + "." + item.key(), "is not a price (name, trainingPer1kTokens, storagePerMonth, "
                                             "provisionedPerModelUnitHour, inputPer1kTokens, outputPer1kTokens)");
    }
    for (const auto& p : kPrices) {
      auto price = m.find(p.first);
      if (price == m.end()) {
        if (p.second == &ModelPrice::training_per_1k_tokens) return bad(field + "." + p.first, "must be a non-negative number");
        continue;
      }
      if (!price->is_number() || !(price->get<double>() >= 0) || price->get<double>() > 1e9)
        return bad(field + "." + p.first, "must be a non-negative number");
      out->*(p.second) = price->get<double>();
    }
    if (m.contains("name") && (!m["name"].is_string() || m["name"].get<std::string>().size() > kMaxPriceTextLength))
      return bad(field + ".name", "must be a string");
    out->name = m.value("name", id);
    return Status::Ok();
  };
  auto models = j.find("models");
  if (models == j.end() || !models->is_object() || models->empty() || models->size() > kMaxPricedModels)
    return bad("\"models\"", "must be a non-empty object of model id -> prices (at most " +
                                 std::to_string(kMaxPricedModels) + ")");
  for (const auto& item : models->items()) {
    if (item.key().empty() || item.key().size() > kMaxPriceTextLength)
      return bad("a model id in \"models\"", "must have 1 to " + std::to_string(kMaxPriceTextLength) + " characters");
    LATHE_RETURN_IF_ERROR(parse_model(item.value(), "models.\"" + item.key() + "\"", item.key(), &t.models[item.key()]));
  }
  if (auto fallback = j.find("fallback"); fallback != j.end()) {
    t.fallback.emplace();
    LATHE_RETURN_IF_ERROR(parse_model(*fallback, "fallback", "fallback", &*t.fallback));
  }
  return t;
}

Result<PriceTable> LoadPriceTable(Env* env, const std::string& path) {
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  return ParsePriceTable(j, path);
}

Result<TokenEstimate> CountDatasetTokens(Env* env, const std::string& path, const text::Tokenizer* tokenizer) {
  std::unique_ptr<ExampleReader> reader;
  LATHE_RETURN_IF_ERROR(ExampleReader::Open(env, path, Format::kAuto, &reader));
  TokenEstimate e;
  e.exact = tokenizer != nullptr;
  Record r;
  while (reader->Next(&r)) {
    e.records++;
    const std::string text = r.example.AllText();
    e.tokens += tokenizer ? tokenizer->CountTokens(text)
                          : (CountCodePoints(text) + kCharsPerTokenEstimate - 1) / kCharsPerTokenEstimate;
  }
  LATHE_RETURN_IF_ERROR(reader->status());
  return e;
}

double BreakEvenTokensPerMonth(double on_demand_per_1k, double provisioned_monthly) {
  return on_demand_per_1k > 0 ? provisioned_monthly / on_demand_per_1k * 1000.0 : 0.0;
}

}  // namespace lathe::data
