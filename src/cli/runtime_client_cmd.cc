// `lathe invoke` and `lathe chat`: Bedrock Runtime (InvokeModel, Converse) on a running lathe serve.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "cli/client.h"
#include "cli/commands.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

struct Args {
  std::string model, prompt, format = "anthropic", system;
  int max_tokens = 0;
  std::optional<double> temperature;
  ClientOptions client;
};

void AddGenerationOptions(CLI::App* cmd, Args* a) {
  cmd->add_option("--max-tokens", a->max_tokens, "Most tokens to generate")->check(CLI::Range(1, 8192))->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "0 = greedy; higher = more varied (default: the format's)")
      ->check(CLI::Range(0.0, 1.0));
}

// The InvokeModel body in the chosen format, and where its answer's text is.
json InvokeBody(const Args& a) {
  if (a.format == "titan") {
    json config = {{"maxTokenCount", a.max_tokens}};
    if (a.temperature) config["temperature"] = *a.temperature;
    return {{"inputText", a.prompt}, {"textGenerationConfig", config}};
  }
  json body = {{"anthropic_version", "bedrock-2023-05-31"},
               {"max_tokens", a.max_tokens},
               {"messages", json::array({{{"role", "user"}, {"content", a.prompt}}})}};
  if (a.temperature) body["temperature"] = *a.temperature;
  if (!a.system.empty()) body["system"] = a.system;
  return body;
}

std::string AnswerText(const json& answer) {
  std::string text;
  if (answer.contains("results") && answer["results"].is_array())  // Titan
    for (const auto& r : answer["results"]) text += Field(r, "outputText");
  if (answer.contains("content") && answer["content"].is_array())  // Anthropic Messages
    for (const auto& c : answer["content"]) text += Field(c, "text");
  const json message = answer.value("output", json::object()).value("message", json::object());
  for (const auto& c : message.value("content", json::array())) text += Field(c, "text");  // Converse
  return text;
}

std::string ModelPath(const std::string& model, const char* operation) {
  return "/model/" + Encode(model) + "/" + operation;  // an ARN's ':' and '/' travel encoded, as boto3 sends them
}

}  // namespace

void AddInvokeCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<Args>();
  a->max_tokens = 256;
  CLI::App* cmd = app->add_subcommand("invoke", "Generate text with a model on lathe serve (InvokeModel)");
  cmd->footer("MODEL is a foundation model id, a custom model ARN or a provisioned throughput name or ARN.\n"
              "The body is Anthropic Messages (the prompt as one user turn) or Titan Text (the prompt\n"
              "verbatim). Prints the answer's text; --json prints the whole answer body.\n\n"
              "Example:\n  lathe invoke lathe.default-v1 \"How do I reset my card PIN?\" --max-tokens 60\n"
              "  echo \"Customer: hi\\nAgent:\" | lathe invoke support-pt - --format titan");
  cmd->add_option("model", a->model, "Model id or ARN")->required();
  cmd->add_option("prompt", a->prompt, "The prompt; - reads it from stdin")->required();
  cmd->add_option("--format", a->format, "Request body format")->check(CLI::IsMember({"anthropic", "titan"}))->capture_default_str();
  cmd->add_option("--system", a->system, "System prompt (anthropic format)");
  AddGenerationOptions(cmd, a.get());
  AddClientOptions(cmd, &a->client);
  cmd->callback([a, ctx] {
    if (a->prompt == "-") a->prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
    if (!a->system.empty() && a->format != "anthropic")
      throw CLI::ValidationError("--system", "only the anthropic format has a system prompt");
    auto r = BedrockClient(a->client).Post(ModelPath(a->model, "invoke"), InvokeBody(*a));
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->client.json) {
      PrintJson(*r);
    } else {
      std::printf("%s\n", AnswerText(*r).c_str());
      if (::isatty(STDERR_FILENO)) {  // the stop reason helps people, and would clutter a pipe
        std::string reason = Field(*r, "stop_reason");
        if (r->contains("results") && !(*r)["results"].empty()) reason = Field((*r)["results"][0], "completionReason");
        std::fprintf(stderr, "(%s)\n", reason.c_str());
      }
    }
    ctx->exit_code = kExitOk;
  });
}

void AddChatCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<Args>();
  a->max_tokens = 512;
  CLI::App* cmd = app->add_subcommand("chat", "Talk with a model on lathe serve, turn by turn (Converse)");
  cmd->footer("Reads one message a line from stdin and prints each answer; the whole conversation goes\n"
              "with every turn. /reset forgets it; /exit or Ctrl-D quits. A failed turn is reported and\n"
              "dropped from the conversation (the exit code is then 1). --json prints each answer body.\n\n"
              "Example:\n  lathe chat support-pt --system \"You are a bank's support agent.\"");
  cmd->add_option("model", a->model, "Model id or ARN")->required();
  cmd->add_option("--system", a->system, "System prompt");
  AddGenerationOptions(cmd, a.get());
  AddClientOptions(cmd, &a->client);
  cmd->callback([a, ctx] {
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    BedrockClient client(a->client);
    json base = {{"inferenceConfig", {{"maxTokens", a->max_tokens}}}};
    if (a->temperature) base["inferenceConfig"]["temperature"] = *a->temperature;
    if (!a->system.empty()) base["system"] = json::array({{{"text", a->system}}});
    if (interactive)
      std::fprintf(stderr, "Chatting with %s at %s. /reset forgets the conversation; /exit or Ctrl-D quits.\n",
                   a->model.c_str(), client.endpoint().c_str());
    json messages = json::array();
    int exit_code = kExitOk;
    std::string line;
    while (true) {
      if (interactive) {
        std::fprintf(stderr, "\nyou> ");
        std::fflush(stderr);
      }
      if (!std::getline(std::cin, line) || line == "/exit" || line == "/quit") break;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (line == "/reset") {
        messages = json::array();
        if (interactive) std::fprintf(stderr, "(conversation forgotten)\n");
        continue;
      }
      messages.push_back({{"role", "user"}, {"content", json::array({{{"text", line}}})}});
      json body = base;
      body["messages"] = messages;
      auto r = client.Post(ModelPath(a->model, "converse"), body);
      if (!r.ok()) {
        exit_code = ReportError(r.status());
        messages.erase(messages.size() - 1);  // the next turn must not follow an unanswered one
        continue;
      }
      const std::string text = AnswerText(*r);
      // Converse rejects an empty turn, so an empty answer leaves its question out of the history.
      if (text.empty()) messages.erase(messages.size() - 1);
      else messages.push_back({{"role", "assistant"}, {"content", json::array({{{"text", text}}})}});
      if (a->client.json) std::printf("%s\n", r->dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      else std::printf("%s%s\n", interactive ? "model> " : "", text.c_str());
      std::fflush(stdout);
    }
    if (interactive) std::fprintf(stderr, "\n");
    ctx->exit_code = exit_code;
  });
}

}  // namespace lathe::cli
