// `lathe models import` (and, as lathe grows, the rest of `lathe models`).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "core/heap_reuse.h"
#include "engine/default_model.h"
#include "engine/gguf_convert.h"
#include "engine/llama2c_import.h"

namespace lathe::cli {
namespace {

// By content, not by name: a GGUF file starts with its magic whatever it is called.
bool IsGgufFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  const bool gguf = std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, "GGUF", 4) == 0;
  std::fclose(f);
  return gguf;
}

}  // namespace

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
      "Import a GGUF model (llama.cpp, Ollama) or a llama2.c checkpoint (.bin, version 0) into a\n"
      "Hugging Face model directory (config.json, model.safetensors, tokenizer.model or\n"
      "tokenizer.json, generation_config.json) that lathe serves and fine-tunes. GGUF: the llama\n"
      "architecture with a SentencePiece (\"llama\") or byte-level BPE (\"gpt2\": Llama 3, Qwen 2,\n"
      "GPT-2 pre-tokenizers) vocabulary and Llama 3's rope scaling (Llama 3.1-3.3: rope_freqs); F32,\n"
      "F16, BF16, Q8_0, Q4_K and Q6_K tensors, dequantized to float32.\n\n"
      "Examples:\n  lathe models import tinyllama.Q8_0.gguf --out models/tinyllama\n"
      "  lathe models import llama-3.2-1b-instruct.Q8_0.gguf --out models/llama3.2-1b\n"
      "  lathe models import stories260K.bin --tokenizer tok512.model --out models/stories260K");
  imp->add_option("checkpoint", a->bin, "GGUF file, or llama2.c .bin file")->required()->check(CLI::ExistingFile);
  imp->add_option("--tokenizer", a->tokenizer, "SentencePiece tokenizer.model of a llama2.c checkpoint (a GGUF file carries its own)")
      ->check(CLI::ExistingFile);
  imp->add_option("--out", a->out, "Model directory to write")->required();
  imp->add_flag("--json", a->json, "Print machine-readable results");
  imp->callback([a, ctx] {
    const bool gguf = IsGgufFile(a->bin);
    if (!gguf && a->tokenizer.empty()) {
      ctx->exit_code = ReportError(Status::InvalidArgument(
          a->bin + " is not a GGUF file: as a llama2.c checkpoint it needs --tokenizer tokenizer.model"));
      return;
    }
    engine::ModelConfig c;
    int64_t parameters = 0;
    std::string tensor_types;
    if (gguf) {
      auto r = engine::ImportGguf(a->bin, a->out);
      if (!r.ok()) {
        ctx->exit_code = ReportError(r.status());
        return;
      }
      c = r->config;
      parameters = r->parameters;
      tensor_types = r->tensor_types;
    } else {
      auto r = engine::ImportLlama2c(a->bin, a->tokenizer, a->out);
      if (!r.ok()) {
        ctx->exit_code = ReportError(r.status());
        return;
      }
      c = r->config;
      parameters = r->parameters;
    }
    if (a->json) {
      nlohmann::json j = {{"modelDir", a->out}, {"parameters", parameters}, {"config", engine::ModelConfigToJson(c)}};
      if (gguf) j["ggufTensorTypes"] = tensor_types;
      PrintJson(j);
    } else {
      std::printf("imported %s -> %s\n  %lld parameters: %lld layers, width %lld, %lld heads (%lld kv), "
                  "vocabulary %lld, context %lld\n",
                  a->bin.c_str(), a->out.c_str(), static_cast<long long>(parameters),
                  static_cast<long long>(c.num_layers), static_cast<long long>(c.hidden_size),
                  static_cast<long long>(c.num_heads), static_cast<long long>(c.num_kv_heads),
                  static_cast<long long>(c.vocab_size), static_cast<long long>(c.max_position_embeddings));
      if (gguf) std::printf("  GGUF tensors: %s (saved as float32)\n", tensor_types.c_str());
    }
    ctx->exit_code = kExitOk;
  });

  struct ExportArgs {
    std::string dir, out, type = "f16";
    bool json = false;
  };
  auto e = std::make_shared<ExportArgs>();
  CLI::App* exp = models->add_subcommand(
      "export-gguf",
      "Write a model directory (a fine-tuned model merged, an imported one) as a GGUF file that\n"
      "llama.cpp and Ollama load: the llama architecture with its SentencePiece tokenizer.model or\n"
      "byte-level BPE tokenizer.json (Llama 3, Qwen 2, GPT-2 pre-tokenizers), and Llama 3's rope\n"
      "scaling as llama.cpp's rope_freqs tensor.\n"
      "--type f16 (default), f32 or q8_0 for the matrices; norms stay f32, as llama.cpp keeps them.\n\n"
      "Example:\n  lathe models export-gguf models/my-tuned --out my-tuned.Q8_0.gguf --type q8_0");
  exp->add_option("model-dir", e->dir, "Hugging Face model directory")->required()->check(CLI::ExistingDirectory);
  exp->add_option("--out", e->out, "GGUF file to write")->required();
  exp->add_option("--type", e->type, "f16, f32 or q8_0")->check(CLI::IsMember({"f16", "f32", "q8_0"}));
  exp->add_flag("--json", e->json, "Print machine-readable results");
  exp->callback([e, ctx] {
    const engine::GgmlType type = e->type == "f32"   ? engine::GgmlType::kF32
                                  : e->type == "q8_0" ? engine::GgmlType::kQ8_0
                                                      : engine::GgmlType::kF16;
    auto r = engine::ExportGguf(e->dir, e->out, type);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (e->json)
      PrintJson({{"ggufFile", e->out}, {"bytes", r->bytes}, {"tensors", r->tensors}, {"type", e->type}});
    else
      std::printf("exported %s -> %s (%s, %d tensors, %llu bytes)\n", e->dir.c_str(), e->out.c_str(),
                  e->type.c_str(), r->tensors, static_cast<unsigned long long>(r->bytes));
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
    (void)KeepFreedMemoryInHeap();  // the build pretrains, step after step (core/heap_reuse.h)
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
  AddModelsPerplexityCommand(models, ctx);
  AddModelsClientCommands(models, ctx);  // `list` and `delete` ask a running lathe serve
  AddModelsAddCommand(models, ctx);      // `add` imports without a server
}

}  // namespace lathe::cli
