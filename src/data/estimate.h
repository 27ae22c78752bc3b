// `lathe data estimate`: how many tokens a job trains on, and what the same job would cost on
// Bedrock at per-1k-token prices from an editable price table (docs/prices.example.json).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/env.h"

namespace lathe::text {
class Tokenizer;
}

namespace lathe::data {

struct ModelPrice {
  std::string name;
  double training_per_1k_tokens = 0;
};

struct PriceTable {
  std::string currency = "USD";
  std::string source;  // where the numbers come from, printed next to every cost
  std::map<std::string, ModelPrice> models;
};

// The tutorial's published fine-tuning prices (February 2026 estimates), labelled as such.
const PriceTable& DefaultPriceTable();
// {"currency", "source", "models": {"<id>": {"name", "trainingPer1kTokens"}}}; errors name the field.
Result<PriceTable> ParsePriceTable(const nlohmann::json& j, const std::string& file);
Result<PriceTable> LoadPriceTable(Env* env, const std::string& path);

struct TokenEstimate {
  uint64_t records = 0;
  uint64_t tokens = 0;  // one pass over the data
  bool exact = false;   // counted with a tokenizer (else characters / 6)
};
Result<TokenEstimate> CountDatasetTokens(Env* env, const std::string& path, const text::Tokenizer* tokenizer);

// Tokens per month at which a monthly provisioned fee equals on-demand per-1k-token pricing.
double BreakEvenTokensPerMonth(double on_demand_per_1k, double provisioned_monthly);

}  // namespace lathe::data
