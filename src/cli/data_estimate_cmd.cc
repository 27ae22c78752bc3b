// `lathe data estimate FILE --epochs N`: tokens trained on, and what the same job would cost on
// Bedrock (prices from an editable table), plus the provisioned-vs-on-demand break-even.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "data/estimate.h"

namespace lathe::cli {

void AddDataEstimateCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string file, prices;
    int epochs = 2;
    DatasetModelArgs model;
    double on_demand_per_1k = 0, provisioned_monthly = 0;  // default: the price table's
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "estimate",
      "Tokens x epochs, and the cost of the same job on Bedrock at per-1k-token prices (default: the\n"
      "tutorial's published prices, labelled as such; --prices FILE for your own table, format in\n"
      "docs/prices.example.json). Also the monthly token volume at which provisioned throughput\n"
      "costs the same as on-demand.\n\n"
      "Example:\n  lathe data estimate train.jsonl --epochs 3 --model amazon.titan-text-express-v1");
  cmd->add_option("file", a->file, "Training JSONL file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--epochs", a->epochs, "Passes over the data")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--model", a->model.model_id, "Price only this model id (default: every model in the table)");
  cmd->add_option("--tokenizer", a->model.tokenizer_path, "SentencePiece .model for exact token counts (else characters / 6)");
  cmd->add_option("--prices", a->prices, "Price table JSON file")->check(CLI::ExistingFile);
  CLI::Option* on_demand =
      cmd->add_option("--on-demand-per-1k", a->on_demand_per_1k,
                      "On-demand inference price per 1k tokens, for the break-even (default: the price table's input price)")
          ->check(CLI::PositiveNumber);
  CLI::Option* provisioned =
      cmd->add_option("--provisioned-monthly", a->provisioned_monthly,
                      "Provisioned throughput price per month (default: the price table's model-unit hour x 730)")
          ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx, on_demand, provisioned] {
    data::PriceTable table = data::DefaultPriceTable();
    if (!a->prices.empty()) {
      auto t = data::LoadPriceTable(Env::Default(), a->prices);
      if (!t.ok()) {
        ctx->exit_code = ReportError(t.status());
        return;
      }
      table = *t;
    }
    if (!a->model.model_id.empty() && !table.models.count(a->model.model_id)) {
      std::string known;
      for (const auto& [id, p] : table.models) known += "\n  " + id;
      ctx->exit_code = ReportError(Status::InvalidArgument("no price for model '" + a->model.model_id +
                                                           "' in the price table; it has:" + known));
      return;
    }
    // The break-even's prices: the flags, else the table's for --model (else its first priced model).
    const data::ModelPrice* priced = a->model.model_id.empty() ? nullptr : table.For(a->model.model_id);
    for (const auto& entry : table.models)
      if (!priced && entry.second.input_per_1k_tokens > 0 && entry.second.provisioned_per_unit_hour >= 0) priced = &entry.second;
    if (!priced && table.fallback) priced = &*table.fallback;
    if (!on_demand->count()) a->on_demand_per_1k = priced && priced->input_per_1k_tokens > 0 ? priced->input_per_1k_tokens : 0;
    if (!provisioned->count())
      a->provisioned_monthly = priced && priced->provisioned_per_unit_hour >= 0 ? priced->provisioned_per_unit_hour * 730 : 0;
    if (a->on_demand_per_1k <= 0) {
      ctx->exit_code = ReportError(Status::InvalidArgument(
          "the price table has no on-demand price for the break-even: give --on-demand-per-1k"));
      return;
    }
    std::unique_ptr<text::Tokenizer> tokenizer;
    if (!a->model.tokenizer_path.empty()) {
      auto t = text::LoadTokenizer(a->model.tokenizer_path);
      if (!t.ok()) {
        ctx->exit_code = ReportError(t.status());
        return;
      }
      tokenizer = std::move(t).value();
    }
    auto est = data::CountDatasetTokens(Env::Default(), a->file, tokenizer.get());
    if (!est.ok()) {
      ctx->exit_code = ReportError(est.status());
      return;
    }
    const uint64_t trained = est->tokens * static_cast<uint64_t>(a->epochs);
    const double breakeven = data::BreakEvenTokensPerMonth(a->on_demand_per_1k, a->provisioned_monthly);
    nlohmann::json costs = nlohmann::json::array();
    for (const auto& [id, p] : table.models)
      if (a->model.model_id.empty() || id == a->model.model_id)
        costs.push_back({{"modelId", id}, {"name", p.name}, {"trainingPer1kTokens", p.training_per_1k_tokens},
                         {"cost", static_cast<double>(trained) / 1000.0 * p.training_per_1k_tokens}});
    if (a->json) {
      PrintJson({{"file", a->file}, {"records", est->records}, {"tokensPerEpoch", est->tokens},
                 {"tokensExact", est->exact}, {"epochs", a->epochs}, {"trainingTokens", trained},
                 {"currency", table.currency}, {"priceSource", table.source}, {"costs", costs},
                 {"breakEven", {{"onDemandPer1kTokens", a->on_demand_per_1k}, {"provisionedMonthly", a->provisioned_monthly},
                                {"tokensPerMonth", breakeven}}}});
    } else {
      std::printf("%s: %llu records, %s%llu tokens per epoch%s\n", a->file.c_str(),
                  static_cast<unsigned long long>(est->records), est->exact ? "" : "~",
                  static_cast<unsigned long long>(est->tokens), est->exact ? "" : " (estimated as characters / 6)");
      std::printf("%d epochs: %llu training tokens\n\n", a->epochs, static_cast<unsigned long long>(trained));
      std::printf("What the same job would cost on Bedrock (%s):\n", table.source.c_str());
      for (const auto& c : costs)
        std::printf("  %-24s %s %.4f per 1k tokens -> %s %.2f\n", c["name"].get<std::string>().c_str(),
                    table.currency.c_str(), c["trainingPer1kTokens"].get<double>(), table.currency.c_str(),
                    c["cost"].get<double>());
      std::printf("On lathe: the electricity of this machine.\n\n");
      std::printf("Provisioned vs on-demand inference: at %s %.4f per 1k tokens on demand and %s %.2f per month\n"
                  "provisioned, provisioned is cheaper above %.0f tokens per month (%.0fK).\n",
                  table.currency.c_str(), a->on_demand_per_1k, table.currency.c_str(), a->provisioned_monthly, breakeven,
                  breakeven / 1000);
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
