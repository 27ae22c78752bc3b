// `lathe generate --model DIR --prompt TEXT`: text generation from a local model, streamed.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "engine/language_model.h"

namespace lathe::cli {

void AddGenerateCommand(CLI::App* app, Context* ctx) {
  struct Args {
    std::string model;
    std::vector<std::string> prompts;
    engine::GenerationOptions opt;
    bool no_bos = false;
    bool chat = false;
    std::string system;
    std::string chat_template;
    std::string weights = "f32";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand("generate", "Generate text with a local model (or lathe-default)");
  cmd->footer("Greedy unless --temperature > 0; several --prompt options run as one batch.\n\n"
              "Example:\n  lathe generate --model models/stories260K --prompt \"Once upon a time\" --max-tokens 64");
  cmd->add_option("--model", a->model, "Model directory (Hugging Face layout), or lathe-default")->required();
  cmd->add_option("--prompt", a->prompts, "Prompt text (repeat for a batch)")->required();
  cmd->add_option("--max-tokens", a->opt.max_tokens, "Most tokens to generate")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", a->opt.temperature, "0 = greedy")->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", a->opt.top_k, "Sample from the k most likely tokens (0 = all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", a->opt.top_p, "Nucleus sampling threshold (1 = off)")->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", a->opt.seed, "Seed for sampling (reproducible)")->capture_default_str();
  cmd->add_option("--stop", a->opt.stop_sequences, "Stop when this text appears (repeatable)");
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the model's BOS token");
  cmd->add_flag("--chat", a->chat,
                "Send each prompt as a user message in the model's chat format (stops at the end of "
                "the assistant's turn)");
  cmd->add_option("--system", a->system, "System prompt (implies --chat)");
  cmd->add_option("--template", a->chat_template,
                  "Chat format: plain, chatml, llama2 or llama3 (default: from the model's files)");
  cmd->add_option("--weights", a->weights,
                  "Hold the weights in f32, bf16 or q8_0 (fewer bytes a token: `lathe models perplexity` "
                  "measures the quality cost)")
      ->capture_default_str()->check(CLI::IsMember({"f32", "bf16", "q8_0"}));
  cmd->add_flag("--json", a->json, "Print machine-readable results (no streaming)");
  cmd->callback([a, ctx] {
    auto dir = ResolveModelDir(a->model);
    if (!dir.ok()) {
      ctx->exit_code = ReportError(dir.status());
      return;
    }
    auto model = engine::LanguageModel::Load(*dir);
    if (model.ok() && a->weights != "f32") model = (*model)->WithWeightPrecision(*engine::ParseWeightPrecision(a->weights));
    if (!model.ok()) {
      ctx->exit_code = ReportError(model.status());
      return;
    }
    a->opt.add_bos = !a->no_bos;
    std::vector<std::string> shown = a->prompts;
    if (a->chat || !a->system.empty() || !a->chat_template.empty()) {
      text::ChatTemplate t = (*model)->chat_template();
      if (!a->chat_template.empty()) {
        auto parsed = text::ParseChatTemplate(a->chat_template);
        if (!parsed.ok()) {
          ctx->exit_code = ReportError(parsed.status());
          return;
        }
        t = *parsed;
      }
      for (auto& p : a->prompts) {
        std::vector<text::ChatMessage> msgs;
        if (!a->system.empty()) msgs.push_back({"system", a->system});
        msgs.push_back({"user", p});
        auto rendered = text::RenderChat(t, msgs, true);
        if (!rendered.ok()) {
          ctx->exit_code = ReportError(rendered.status());
          return;
        }
        p = *rendered;
      }
      for (auto& s : text::ChatStopSequences(t)) a->opt.stop_sequences.push_back(s);
    }
    const bool stream = !a->json && a->prompts.size() == 1;
    if (stream) {
      std::fputs(shown[0].c_str(), stdout);
      std::fflush(stdout);
    }
    auto results = (*model)->Generate(a->prompts, a->opt, [&](size_t, std::string_view piece) {
      if (stream) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      }
      return true;
    });
    if (!results.ok()) {
      ctx->exit_code = ReportError(results.status());
      return;
    }
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : *results)
        out.push_back({{"text", r.text}, {"tokens", r.tokens}, {"promptTokens", r.prompt_tokens},
                       {"stopReason", engine::StopReasonName(r.reason)}});
      PrintJson(out);
    } else if (stream) {
      std::fprintf(stdout, "\n");
      std::fflush(stdout);
      std::fprintf(stderr, "[%zu tokens, stopped: %s]\n", (*results)[0].tokens.size(),
                   engine::StopReasonName((*results)[0].reason));
    } else {
      for (size_t i = 0; i < results->size(); ++i)
        std::printf("[%zu] %s%s\n    (%zu tokens, stopped: %s)\n", i, shown[i].c_str(),
                    (*results)[i].text.c_str(), (*results)[i].tokens.size(),
                    engine::StopReasonName((*results)[i].reason));
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
