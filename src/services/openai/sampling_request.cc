#include "services/openai/sampling_request.h"

#include "services/openai/body_fields.h"
#include "services/openai/limits.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

// What chat and completions share: sampling, stop, n, seed, stream, user, and what lathe refuses.
Problem ReadCommon(const json& j, SamplingRequest* r, engine::GenerationOptions* o, uint64_t random_seed) {
  if (auto p = String(j, "model", kMaxModelNameBytes, &r->model, /*required=*/true)) return p;
  double temperature = 1.0, top_p = 1.0;
  if (auto p = Number(j, "temperature", 0.0, 2.0, &temperature)) return p;
  if (auto p = Number(j, "top_p", 0.0, 1.0, &top_p)) return p;
  o->temperature = static_cast<float>(temperature);
  o->top_p = static_cast<float>(top_p);
  int64_t max_tokens = kDefaultMaxTokens;
  if (auto p = Integer(j, "max_tokens", 1, kMaxCompletionTokens, &max_tokens)) return p;
  if (auto p = Integer(j, "max_completion_tokens", 1, kMaxCompletionTokens, &max_tokens)) return p;
  o->max_tokens = static_cast<int>(max_tokens);
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    json stops = it->is_string() ? json::array({*it}) : *it;
    if (!stops.is_array()) return Invalid("stop", "Invalid type for 'stop': expected a string or an array of strings.");
    if (stops.size() > kMaxStopSequences)
      return Invalid("stop", "'stop' holds at most " + std::to_string(kMaxStopSequences) + " sequences.");
    for (const auto& s : stops) {
      if (!s.is_string()) return Invalid("stop", "Invalid type for 'stop': expected a string or an array of strings.");
      const auto& text = s.get_ref<const std::string&>();
      if (text.empty() || text.size() > kMaxStopBytes)
        return Invalid("stop", "Each stop sequence must be 1 to " + std::to_string(kMaxStopBytes) + " bytes.");
      o->stop_sequences.push_back(text);
    }
  }
  int64_t n = 1;
  if (auto p = Integer(j, "n", 1, kMaxChoices, &n)) return p;
  r->n = static_cast<int>(n);
  int64_t seed = 0;
  r->seed = random_seed;
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (auto p = Integer(j, "seed", INT64_MIN, INT64_MAX, &seed)) return p;
    r->seed = static_cast<uint64_t>(seed);
  }
  if (auto p = Bool(j, "stream", &r->stream)) return p;
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Invalid("stream_options", "Invalid type for 'stream_options': expected an object.");
    if (!r->stream) return Invalid("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    if (auto p = OnlyKeys(*it, {"include_usage", "include_obfuscation"}, "stream_options.")) return p;
    if (auto p = Bool(*it, "include_usage", &r->include_usage)) return p;
  }
  if (auto p = String(j, "user", kMaxUserBytes, &r->user)) return p;
  // What the engine cannot honour is refused, never silently ignored.
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    double v = 0;
    if (auto p = Number(j, key, -2.0, 2.0, &v)) return p;
    if (v != 0) return Unsupported(key, std::string("lathe's engine does not apply '") + key + "' (only 0).");
  }
  if (auto it = j.find("logit_bias"); it != j.end() && !it->is_null() && !(it->is_object() && it->empty()))
    return Unsupported("logit_bias", "lathe's engine does not apply 'logit_bias'.");
  return std::nullopt;
}

// A message's text: a string, or text parts joined.
Problem ContentText(const json& content, const std::string& param, std::string* out) {
  if (content.is_string()) {
    *out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array()) return Invalid(param, "Invalid type for '" + param + "': expected a string or an array of content parts.");
  if (content.size() > kMaxContentParts)
    return Invalid(param, "'" + param + "' holds more than " + std::to_string(kMaxContentParts) + " parts.");
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string where = param + "[" + std::to_string(i) + "]";
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      return Invalid(where, "Each content part must be an object with a 'type'.");
    if (part["type"] != "text")
      return Unsupported(where + ".type", "lathe's models read text only; content part type '" +
                                               part["type"].get<std::string>().substr(0, 64) + "' is not supported.");
    if (!part.contains("text") || !part["text"].is_string())
      return Invalid(where + ".text", "A text content part needs 'text' as a string.");
    if (!out->empty()) out->push_back('\n');
    *out += part["text"].get<std::string>();
  }
  return std::nullopt;
}

// OpenAI's messages as Converse's: system and developer messages become the system prompt,
// consecutive messages of one role are joined (Converse alternates user and assistant).
Problem ReadMessages(const json& j, service::RuntimeRequest* r) {
  auto it = j.find("messages");
  if (it == j.end() || it->is_null()) return Invalid("messages", "Missing required parameter: 'messages'.");
  if (!it->is_array()) return Invalid("messages", "Invalid type for 'messages': expected an array of objects.");
  if (it->empty()) return Invalid("messages", "'messages' must hold at least one message.");
  if (it->size() > kMaxMessages)
    return Invalid("messages", "'messages' holds more than " + std::to_string(kMaxMessages) + " messages.");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Invalid(where, "Invalid type for '" + where + "': expected an object.");
    if (!m.contains("role") || !m["role"].is_string()) return Invalid(where + ".role", "Each message needs a 'role' string.");
    const std::string role = m["role"].get<std::string>();
    if (role == "tool" || role == "function" || m.contains("tool_calls") || m.contains("function_call"))
      return Unsupported(where + ".role", "lathe does not support tool or function calls.");
    if (role != "system" && role != "developer" && role != "user" && role != "assistant")
      return Invalid(where + ".role", "Invalid value for '" + where + ".role': expected one of system, developer, "
                                          "user, assistant.");
    if (auto p = OnlyKeys(m, {"role", "content", "name", "refusal"}, where + ".")) return p;
    if (!m.contains("content") || m["content"].is_null())
      return Invalid(where + ".content", "Missing required parameter: '" + where + ".content'.");
    std::string text;
    if (auto p = ContentText(m["content"], where + ".content", &text)) return p;
    if (role == "system" || role == "developer") {
      if (!r->system.empty()) r->system.push_back('\n');
      r->system += text;
      continue;
    }
    if (r->messages.empty() && role == "assistant")
      return Invalid(where + ".role", "The first message after the system prompt must be a user message.");
    if (!r->messages.empty() && r->messages.back().role == role) {
      r->messages.back().content += "\n\n" + text;
    } else {
      r->messages.push_back({role, text});
    }
  }
  if (r->messages.empty()) return Invalid("messages", "'messages' must hold at least one user message.");
  return std::nullopt;
}

}  // namespace

ParsedSampling ParseChatRequest(std::string_view body, uint64_t random_seed) {
  json j;
  if (auto p = ParseObject(body, &j)) return *p;
  if (auto p = OnlyKeys(j, {"model", "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
                            "seed", "n", "stream", "stream_options", "user", "presence_penalty", "frequency_penalty",
                            "logit_bias", "logprobs", "top_logprobs", "tools", "tool_choice", "functions",
                            "function_call", "parallel_tool_calls", "response_format", "store", "metadata",
                            "service_tier"}))
    return *p;
  SamplingRequest r;
  service::RuntimeRequest chat;
  chat.kind = service::BodyKind::kConverse;
  if (auto p = ReadCommon(j, &r, &chat.options, random_seed)) return *p;
  bool logprobs = false;
  if (auto p = Bool(j, "logprobs", &logprobs)) return *p;
  if (logprobs || (j.contains("top_logprobs") && !j["top_logprobs"].is_null()))
    return Unsupported(logprobs ? "logprobs" : "top_logprobs", "lathe's engine does not report log probabilities.");
  for (const char* key : {"tools", "functions", "tool_choice", "function_call"})
    if (j.contains(key) && !j[key].is_null())
      return Unsupported(key, "lathe does not support tool or function calls.");
  if (auto it = j.find("response_format"); it != j.end() && !it->is_null())
    if (!it->is_object() || it->value("type", json()) != "text")
      return Unsupported("response_format", "lathe answers text only (response_format {\"type\": \"text\"}).");
  if (auto p = ReadMessages(j, &chat)) return *p;
  chat.user_id = r.user;
  r.prompts.push_back(std::move(chat));
  return r;
}

ParsedSampling ParseCompletionRequest(std::string_view body, uint64_t random_seed) {
  json j;
  if (auto p = ParseObject(body, &j)) return *p;
  if (auto p = OnlyKeys(j, {"model", "prompt", "temperature", "top_p", "max_tokens", "stop", "seed", "n", "stream",
                            "stream_options", "user", "presence_penalty", "frequency_penalty", "logit_bias",
                            "logprobs", "echo", "suffix", "best_of"}))
    return *p;
  SamplingRequest r;
  engine::GenerationOptions options;
  if (auto p = ReadCommon(j, &r, &options, random_seed)) return *p;
  if (j.contains("logprobs") && !j["logprobs"].is_null())
    return Unsupported("logprobs", "lathe's engine does not report log probabilities.");
  if (j.contains("suffix") && !j["suffix"].is_null()) return Unsupported("suffix", "lathe does not support 'suffix'.");
  int64_t best_of = r.n;
  if (auto p = Integer(j, "best_of", 1, kMaxChoices, &best_of)) return *p;
  if (best_of != r.n) return Unsupported("best_of", "lathe does not rank candidates: best_of must equal n.");
  if (auto p = Bool(j, "echo", &r.echo)) return *p;
  auto it = j.find("prompt");
  if (it == j.end() || it->is_null()) return Invalid("prompt", "Missing required parameter: 'prompt'.");
  json prompts = it->is_string() ? json::array({*it}) : *it;
  if (!prompts.is_array() || prompts.empty())
    return Invalid("prompt", "Invalid type for 'prompt': expected a string or a non-empty array of strings.");
  if (prompts.size() * static_cast<size_t>(r.n) > kMaxPrompts)
    return Invalid("prompt", "At most " + std::to_string(kMaxPrompts) + " completions per request (prompts times n).");
  for (const auto& p : prompts) {
    if (!p.is_string())
      return p.is_number_integer() || p.is_array()
                 ? Unsupported("prompt", "lathe takes prompts as text, not token ids.")
                 : Invalid("prompt", "Invalid type for 'prompt': expected a string or an array of strings.");
    service::RuntimeRequest one;
    one.kind = service::BodyKind::kTitanText;
    one.input_text = p.get<std::string>();
    one.options = options;
    one.user_id = r.user;
    r.prompts.push_back(std::move(one));
  }
  return r;
}

size_t ChoiceCount(const SamplingRequest& request) { return request.prompts.size() * static_cast<size_t>(request.n); }

service::RuntimeRequest ChoiceRequest(const SamplingRequest& request, size_t index) {
  service::RuntimeRequest r = request.prompts[index / static_cast<size_t>(request.n)];
  r.options.seed = request.seed + index;
  return r;
}

const char* FinishReason(engine::StopReason reason) {
  return reason == engine::StopReason::kEndToken || reason == engine::StopReason::kStopSequence ? "stop" : "length";
}

std::string ChatText(const service::RuntimeRequest& request, const engine::GenerationResult& result) {
  json converse = service::ConverseResponse(request, result, 0);
  return converse["output"]["message"]["content"][0].value("text", "");
}

json Usage(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results) {
  int64_t prompt = 0, completion = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    if (i % static_cast<size_t>(request.n) == 0) prompt += results[i].prompt_tokens;
    completion += static_cast<int64_t>(results[i].tokens.size());
  }
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

json ChatCompletionBody(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results,
                        const std::string& id, int64_t created) {
  json choices = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    json message = {{"role", "assistant"}, {"content", ChatText(ChoiceRequest(request, i), results[i])},
                    {"refusal", nullptr}};
    choices.push_back({{"index", i}, {"message", message}, {"logprobs", nullptr},
                       {"finish_reason", FinishReason(results[i].reason)}});
  }
  return {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", request.model},
          {"choices", choices}, {"usage", Usage(request, results)}, {"system_fingerprint", nullptr}};
}

json CompletionBody(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results,
                    const std::string& id, int64_t created) {
  json choices = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    std::string text = request.echo ? ChoiceRequest(request, i).input_text + results[i].text : results[i].text;
    choices.push_back({{"index", i}, {"text", text}, {"logprobs", nullptr},
                       {"finish_reason", FinishReason(results[i].reason)}});
  }
  return {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", request.model},
          {"choices", choices}, {"usage", Usage(request, results)}, {"system_fingerprint", nullptr}};
}

}  // namespace lathe::openai
