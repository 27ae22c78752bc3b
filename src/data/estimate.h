// `lathe data estimate`: how many tokens a job trains on, and what the same job would cost on
// Bedrock at per-1k-token prices from an editable price table (docs/prices.example.json).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/env.h"

namespace lathe::text {
class Tokenizer;
}

namespace lathe::data {

// A price the table does not give: what it would cost is unknown, not zero.
inline constexpr double kUnpriced = -1;

// One base model family's Bedrock prices. Training is what `lathe data estimate` needs; the
// others are what `lathe costs` prices the rest of lathe's work at (service/costs.h).
struct ModelPrice {
  std::string name;
  double training_per_1k_tokens = 0;         // model customization, per 1,000 tokens trained
  double storage_per_month = kUnpriced;      // one custom model stored, per month (730 hours)
  double provisioned_per_unit_hour = kUnpriced;  // provisioned throughput, no commitment, per model unit
  double input_per_1k_tokens = kUnpriced;    // on-demand inference, per 1,000 tokens read
  double output_per_1k_tokens = kUnpriced;   // ... per 1,000 tokens generated
};

struct PriceTable {
  std::string currency = "USD";
  std::string source;  // where the numbers come from, printed next to every cost
  std::map<std::string, ModelPrice> models;  // by Bedrock base model id
  // The prices of a model the table does not name (lathe's own models among them); none: such
  // work is shown unpriced.
  std::optional<ModelPrice> fallback;
  // Non-empty: the fallback prices only these model ids (the built-in table's placeholder prices
  // lathe's own local models, not every Bedrock model it does not name).
  std::set<std::string> fallback_models;

  // The model's prices, else the fallback's (where it applies), else null.
  const ModelPrice* For(const std::string& model_id) const;
};

// Bounds on a price table: models named, characters in a model id or a text.
inline constexpr size_t kMaxPricedModels = 1000;
inline constexpr size_t kMaxPriceTextLength = 1024;

// lathe's built-in prices (docs/prices.example.json holds the same table): training prices from
// the Bedrock fine-tuning tutorial (February 2026 estimates), the others placeholders, each
// labelled as such in `source`.
const PriceTable& DefaultPriceTable();
// {"currency", "source", "notes", "models": {"<id>": {"name", "trainingPer1kTokens",
// "storagePerMonth", "provisionedPerModelUnitHour", "inputPer1kTokens", "outputPer1kTokens"}},
// "fallback": {...the same}}; trainingPer1kTokens is required, the others optional; unknown keys
// and wrong types are errors naming the field.
Result<PriceTable> ParsePriceTable(const nlohmann::json& j, const std::string& file);
Result<PriceTable> LoadPriceTable(Env* env, const std::string& path);

struct TokenEstimate {
  uint64_t records = 0;
  uint64_t tokens = 0;  // one pass over the data
  bool exact = false;   // counted with a tokenizer (else characters / 6)
};
Result<TokenEstimate> CountDatasetTokens(Env* env, const std::string& path, const text::Tokenizer* tokenizer);

// The built-in table's id of lathe's own default local model (service::kDefaultModelId).
inline constexpr const char* kLatheDefaultModelId = "lathe.default-v1";

// Tokens per month at which a monthly provisioned fee equals on-demand per-1k-token pricing.
double BreakEvenTokensPerMonth(double on_demand_per_1k, double provisioned_monthly);

}  // namespace lathe::data
