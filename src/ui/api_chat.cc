// The Playground: a chat with any model id, custom model or deployment, streamed token by token
// through Bedrock's ConverseStream backend (runtime_stream.h, what the event-stream and the OpenAI
// wires use), answered as server-sent events: `data: {"text": piece}` for each piece, then
// `event: end` with the stop reason and token counts (or `event: error`). The browser reads them
// from fetch()'s body (EventSource cannot POST). Every error before the first token is an
// ordinary JSON answer; a closed tab cancels the generation at its next token.
#include <memory>

#include "core/json_nesting.h"
#include "service/bedrock_service.h"
#include "service/runtime_formats.h"
#include "service/runtime_stream.h"
#include "ui/api.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxChatMessages = 64;
constexpr size_t kMaxChatMessageBytes = 32 * 1024;
constexpr int kMaxChatTokens = 4096;

// The playground's body as Converse's: {"messages": [{"role", "content": [{"text"}]}],
// "system": [{"text"}], "inferenceConfig": {"maxTokens", "temperature"}}.
Result<json> ConverseBody(const json& body, std::string* model) {
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  const json m = body.value("model", json());
  if (!m.is_string()) return Status::InvalidArgument("model: a model id, ARN or deployment name");
  *model = m.get<std::string>();
  LATHE_RETURN_IF_ERROR(CheckName("model", *model, 2048));
  const json messages = body.value("messages", json());
  if (!messages.is_array() || messages.empty() || messages.size() > kMaxChatMessages)
    return Status::InvalidArgument("messages: 1 to 64 messages");
  json out = {{"messages", json::array()}};
  for (const auto& msg : messages) {
    if (!msg.is_object()) return Status::InvalidArgument("messages: each one an object {role, text}");
    const json role = msg.value("role", json()), text = msg.value("text", json());
    if (role != "user" && role != "assistant") return Status::InvalidArgument("messages[].role: user or assistant");
    if (!text.is_string() || text.get<std::string>().empty() || text.get<std::string>().size() > kMaxChatMessageBytes)
      return Status::InvalidArgument("messages[].text: 1 byte to 32 KiB");
    out["messages"].push_back({{"role", role}, {"content", json::array({{{"text", text}}})}});
  }
  const json system = body.value("system", json(""));
  if (!system.is_string() || system.get<std::string>().size() > kMaxChatMessageBytes)
    return Status::InvalidArgument("system: at most 32 KiB of text");
  if (!system.get<std::string>().empty()) out["system"] = json::array({{{"text", system}}});
  const json max_tokens = body.value("maxTokens", json(256));
  if (!max_tokens.is_number_integer() || max_tokens.get<int64_t>() < 1 || max_tokens.get<int64_t>() > kMaxChatTokens)
    return Status::InvalidArgument("maxTokens: 1 to 4096");
  const json temperature = body.value("temperature", json(0.7));
  if (!temperature.is_number() || temperature.get<double>() < 0 || temperature.get<double>() > 1)
    return Status::InvalidArgument("temperature: 0 to 1");
  out["inferenceConfig"] = {{"maxTokens", max_tokens}, {"temperature", temperature}};
  return out;
}

std::string Event(const char* name, const json& data) {
  std::string s = name ? std::string("event: ") + name + "\n" : "";
  return s + "data: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

}  // namespace

Status Api::Chat(const ApiCall& call, http::Response* response) {
  if (!b_.bedrock) return Unavailable("models");
  if (!JsonNestingWithin(call.body, 8)) return Status::InvalidArgument("the body nests deeper than 8 levels");
  std::string model;
  Result<json> converse = ConverseBody(json::parse(call.body, nullptr, false), &model);
  if (!converse.ok()) return converse.status();
  auto stream = b_.bedrock->runtime().ConverseStream(model, converse->dump());
  if (!stream.ok()) return stream.status();
  for (const auto& [name, value] : (*stream)->headers()) response->set_header(name, value);
  auto pump = std::make_shared<service::StreamPump>(std::move(*stream));
  response->status = 200;
  response->set_header("Content-Type", "text/event-stream; charset=utf-8");
  response->set_header("Cache-Control", "no-store");
  response->body_stream = [pump, alive = call.session_alive, done = false](std::string* chunk) mutable -> Result<bool> {
    if (done) return false;
    if (!alive()) {  // logged out or expired while the answer streams: end it (the pump stops generating)
      done = true;
      *chunk = Event("error", {{"message", "the session ended; log in again"}});
      return true;
    }
    if (std::optional<std::string> piece = pump->Next()) {
      *chunk = Event(nullptr, {{"text", *piece}});
      return true;
    }
    done = true;
    const Result<service::StreamEnd>& end = pump->end();
    if (!end.ok()) {
      *chunk = Event("error", {{"message", end.status().message()}});
    } else {
      *chunk = Event("end", {{"stopReason", service::ChatStopReason(pump->stream().request(), end->result)},
                             {"inputTokens", end->result.prompt_tokens},
                             {"outputTokens", end->result.tokens.size()},
                             {"latencyMs", end->latency_ms},
                             {"firstTextMs", end->first_text_ms}});
    }
    return true;
  };
  return Status::Ok();
}

}  // namespace lathe::ui
