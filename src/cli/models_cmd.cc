// `lathe models import` (and, as lathe grows, the rest of `lathe models`).
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "engine/default_model.h"
#include "engine/llama2c_import.h"

namespace lathe::cli {

void AddModelsCommand(CLI::App* app, Context* ctx) {
  CLI::App* models = app->add_subcommand("models", "Models: import local ones, build the default, list or delete those on lathe serve");
  models->require_subcommand(1);

  struct ImportArgs {
    std::string bin, tokenizer, out;
    bool json = false;
  };
  auto a = std::make_shared<ImportArgs>();
  CLI::App* imp = models->add_subcommand(
      "import",
      "Import a llama2.c checkpoint (.bin, version 0) into a Hugging Face model directory\n"
      "(config.json, model.safetensors, tokenizer.model, generation_config.json).\n\n"
      "Example:\n  lathe models import stories260K.bin --tokenizer tok512.model --out models/stories260K");
  imp->add_option("checkpoint", a->bin, "llama2.c .bin file")->required()->check(CLI::ExistingFile);
  imp->add_option("--tokenizer", a->tokenizer, "SentencePiece tokenizer.model of the checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  imp->add_option("--out", a->out, "Model directory to write")->required();
  imp->add_flag("--json", a->json, "Print machine-readable results");
  imp->callback([a, ctx] {
    auto r = engine::ImportLlama2c(a->bin, a->tokenizer, a->out);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    const auto& c = r->config;
    if (a->json) {
      PrintJson({{"modelDir", a->out}, {"parameters", r->parameters}, {"config", engine::ModelConfigToJson(c)}});
    } else {
      std::printf("imported %s -> %s\n  %lld parameters: %lld layers, width %lld, %lld heads (%lld kv), "
                  "vocabulary %lld, context %lld\n",
                  a->bin.c_str(), a->out.c_str(), static_cast<long long>(r->parameters),
                  static_cast<long long>(c.num_layers), static_cast<long long>(c.hidden_size),
                  static_cast<long long>(c.num_heads), static_cast<long long>(c.num_kv_heads),
                  static_cast<long long>(c.vocab_size), static_cast<long long>(c.max_position_embeddings));
    }
    ctx->exit_code = kExitOk;
  });

  struct DefaultArgs {
    DefaultModelOptionsCli opt;
    bool json = false;
  };
  auto d = std::make_shared<DefaultArgs>();
  CLI::App* def = models->add_subcommand(
      "build-default",
      "Build lathe's built-in default model once: a SentencePiece tokenizer and a small Llama\n"
      "pretrained here on WordNet, the fortunes collection (Debian packages, permissive licenses)\n"
      "and questions and answers made from WordNet. About four minutes on 2 cores; cached in the\n"
      "data directory; an interrupted build resumes; `lathe models status` shows how far it is.\n"
      "Commands given --model lathe-default build it by themselves (docs/default-model.md).\n\n"
      "Example:\n  lathe models build-default");
  def->add_option("--data-dir", d->opt.data_dir, "Where lathe keeps models (default: $LATHE_HOME or ~/.local/share/lathe)");
  def->add_option("--max-records", d->opt.max_train_records, "Pretraining records (default: the recipe's; fewer: faster, weaker)")
      ->check(CLI::Range(1000, 10000000));
  def->add_option("--recipe", d->opt.recipe,
                  "v2 (the default) or v1 (the first recipe: glosses and fortunes only), to compare them\n"
                  "(bench/bench_default_model.py)")
      ->check(CLI::IsMember({"v1", "v2"}));
  def->add_flag("--json", d->json, "Print machine-readable results");
  def->callback([d, ctx] {
    // Another recipe would replace the default model the server and the demo use.
    if (!d->opt.recipe.empty() && d->opt.recipe != engine::kDefaultRecipe && d->opt.data_dir.empty()) {
      ctx->exit_code = ReportError(Status::InvalidArgument(
          "--recipe " + d->opt.recipe + " needs --data-dir: built into the default data directory it would replace "
          "the default model (recipe " + engine::kDefaultRecipe + ")"));
      return;
    }
    auto r = EnsureDefaultModelWithProgress(d->opt);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (d->json)
      PrintJson({{"modelDir", r->dir}, {"builtNow", r->built_now}, {"heldoutPerplexity", r->heldout_perplexity}});
    else
      std::printf("%s the default model: %s (held-out perplexity %.1f)\n", r->built_now ? "Built" : "Found",
                  r->dir.c_str(), r->heldout_perplexity);
    ctx->exit_code = kExitOk;
  });

  AddModelsStatusCommand(models, ctx);
  AddModelsClientCommands(models, ctx);  // `list` and `delete` ask a running lathe serve
  AddModelsAddCommand(models, ctx);      // `add` imports without a server
}

}  // namespace lathe::cli
