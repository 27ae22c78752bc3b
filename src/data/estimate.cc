#include "data/estimate.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "data/example_reader.h"
#include "data/model_limits.h"
#include "text/tokenizer.h"

namespace lathe::data {

const PriceTable& DefaultPriceTable() {
  static const PriceTable kTable = [] {
    PriceTable t;
    t.source = "the Bedrock fine-tuning tutorial's published training prices (February 2026 estimates); "
               "check current AWS pricing";
    t.models["anthropic.claude-3-haiku-20240307-v1:0"] = {"Claude 3 Haiku", 0.012};
    t.models["amazon.titan-text-express-v1"] = {"Titan Text Express", 0.008};
    t.models["cohere.command-light-text-v14"] = {"Cohere Command", 0.010};
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
  for (const char* key : {"currency", "source"})
    if (j.contains(key) && !j[key].is_string()) return bad(std::string("\"") + key + "\"", "must be a string");
  t.currency = j.value("currency", std::string("USD"));
  t.source = j.value("source", std::string("prices from ") + file);
  auto models = j.find("models");
  if (models == j.end() || !models->is_object() || models->empty())
    return bad("\"models\"", "must be a non-empty object of model id -> prices");
  for (const auto& item : models->items()) {
    const std::string field = "models.\"" + item.key() + "\"";
    if (!item.value().is_object()) return bad(field, "must be an object");
    auto price = item.value().find("trainingPer1kTokens");
    if (price == item.value().end() || !price->is_number() || price->get<double>() < 0)
      return bad(field + ".trainingPer1kTokens", "must be a non-negative number");
    if (item.value().contains("name") && !item.value()["name"].is_string()) return bad(field + ".name", "must be a string");
    t.models[item.key()] = {item.value().value("name", item.key()), price->get<double>()};
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
