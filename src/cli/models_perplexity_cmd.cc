// `lathe models perplexity MODEL --text FILE`: what holding a model's weights in bf16 or q8_0
// costs in quality, as the perplexity of held-out text next to f32's (docs/performance.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "core/env.h"
#include "engine/language_model.h"
#include "engine/token_nll.h"

namespace lathe::cli {
namespace {

// The text is read whole: bounded so that a wrong path (a model file) fails fast.
constexpr uint64_t kMaxTextBytes = 16u << 20;
// Longer windows see more context (lower perplexity) but cost quadratically in attention.
constexpr int64_t kMaxWindow = 1024;

// Mean negative log-likelihood of each window's tokens after its first, over all windows.
Result<double> MeanNll(engine::LanguageModel* model, const std::vector<std::vector<int>>& windows, int64_t* scored) {
  const int64_t vocab = model->config().vocab_size;
  double nll = 0;
  *scored = 0;
  for (const std::vector<int>& w : windows) {
    auto logits = model->Logits(w);
    if (!logits.ok()) return logits.status();
    for (size_t t = 0; t + 1 < w.size(); ++t) {
      nll += engine::NextTokenNll(logits->data() + static_cast<int64_t>(t) * vocab, static_cast<size_t>(vocab), w[t + 1]);
      ++*scored;
    }
  }
  if (*scored == 0) return Status::InvalidArgument("the text has too few tokens to score (at least 2 are needed)");
  return nll / static_cast<double>(*scored);
}

}  // namespace

void AddModelsPerplexityCommand(CLI::App* models, Context* ctx) {
  struct Args {
    std::string model, text;
    std::vector<std::string> weights = {"f32", "bf16", "q8_0"};
    int64_t max_tokens = 8192;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = models->add_subcommand(
      "perplexity",
      "Measure what serving a model's weights in bf16 or q8_0 costs in quality: the perplexity of\n"
      "a held-out text (plain UTF-8) with the weights in each precision, next to f32's. The text is\n"
      "cut into windows of up to 1,024 tokens (the model's context if shorter), each starting\n"
      "with the model's BOS token. Serve a precision with lathe serve's \"weightPrecision\".\n\n"
      "Example:\n  lathe models perplexity lathe-default --text heldout.txt --weights f32,q8_0");
  cmd->add_option("model", a->model, "Model directory (Hugging Face layout), or lathe-default")->required();
  cmd->add_option("--text", a->text, "Held-out text file (at most 16 MiB)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--weights", a->weights, "Precisions to compare: f32, bf16, q8_0")
      ->delimiter(',')->capture_default_str()->check(CLI::IsMember({"f32", "bf16", "q8_0"}));
  cmd->add_option("--max-tokens", a->max_tokens, "Most tokens of the text to score")->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    auto fail = [ctx](const Status& s) { ctx->exit_code = ReportError(s); };
    auto dir = ResolveModelDir(a->model);
    if (!dir.ok()) return fail(dir.status());
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(a->text, ec);
    if (ec || size > kMaxTextBytes)
      return fail(Status::InvalidArgument(a->text + (ec ? ": " + ec.message() : " is over 16 MiB: give a smaller held-out text")));
    std::string text;
    if (Status s = ReadFileToString(Env::Default(), a->text, &text); !s.ok()) return fail(s);
    auto model = engine::LanguageModel::Load(*dir);
    if (!model.ok()) return fail(model.status());
    engine::GenerationOptions opt;  // add_bos: each window starts as a prompt would
    auto ids = (*model)->EncodePrompt(text, opt);
    if (!ids.ok()) return fail(Status::InvalidArgument(a->text + ": " + ids.status().message()));
    const bool bos = !ids->empty() && (*ids)[0] == (*model)->config().bos_token_id;
    std::vector<int> body(ids->begin() + (bos ? 1 : 0), ids->end());
    if (static_cast<int64_t>(body.size()) > a->max_tokens) body.resize(static_cast<size_t>(a->max_tokens));
    const int64_t window = std::min<int64_t>(kMaxWindow, (*model)->config().max_position_embeddings) - (bos ? 1 : 0);
    if (window < 2) return fail(Status::InvalidArgument("the model's context is too short to score text"));
    std::vector<std::vector<int>> windows;
    for (size_t i = 0; i < body.size(); i += static_cast<size_t>(window)) {
      std::vector<int> w;
      if (bos) w.push_back((*ids)[0]);
      w.insert(w.end(), body.begin() + static_cast<std::ptrdiff_t>(i),
               body.begin() + static_cast<std::ptrdiff_t>(std::min(body.size(), i + static_cast<size_t>(window))));
      windows.push_back(std::move(w));
    }

    nlohmann::json results = nlohmann::json::array();
    double f32_ppl = 0;
    int64_t scored = 0;
    for (const std::string& name : a->weights) {
      const engine::WeightPrecision p = engine::ParseWeightPrecision(name).value();  // checked by IsMember
      std::unique_ptr<engine::LanguageModel> held;
      if (p != engine::WeightPrecision::kF32) {
        auto converted = (*model)->WithWeightPrecision(p);
        if (!converted.ok()) return fail(converted.status());
        held = std::move(*converted);
      }
      engine::LanguageModel* m = held ? held.get() : model->get();
      auto nll = MeanNll(m, windows, &scored);
      if (!nll.ok()) return fail(nll.status());
      const double ppl = std::exp(*nll);
      if (p == engine::WeightPrecision::kF32) f32_ppl = ppl;
      results.push_back({{"weights", name}, {"perplexity", ppl}, {"weightBytes", m->WeightBytes()}});
    }
    // After the loop: f32 may come anywhere in --weights.
    if (f32_ppl > 0)
      for (auto& r : results) r["changeVsF32"] = r["perplexity"].get<double>() / f32_ppl - 1;
    if (a->json) {
      PrintJson({{"model", a->model}, {"text", a->text}, {"tokensScored", scored}, {"windows", windows.size()},
                 {"results", results}});
    } else {
      std::printf("perplexity of %s on %s (%lld tokens scored, %zu windows):\n", a->text.c_str(), a->model.c_str(),
                  static_cast<long long>(scored), windows.size());
      for (const auto& r : results) {
        std::printf("  %-5s %10.4f", r["weights"].get<std::string>().c_str(), r["perplexity"].get<double>());
        if (r.contains("changeVsF32") && r["weights"] != "f32")
          std::printf("  (%+.2f %% vs f32)", 100 * r["changeVsF32"].get<double>());
        std::printf("  weights held: %.1f MB\n", r["weightBytes"].get<double>() / 1e6);
      }
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
