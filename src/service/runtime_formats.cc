#include "service/runtime_formats.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "service/request_fields.h"

// Sources followed (Bedrock user guide and botocore's bedrock-runtime 2023-09-30 service model):
//  - Titan Text (model-parameters-titan-text): inputText required; textGenerationConfig optional:
//    temperature 0..1 (default 0.7), topP 0..1 (default 0.9), maxTokenCount default 512, 0..8192
//    (Titan Text Express's maximum), stopSequences. completionReason: the guide lists FINISHED, but
//    the service answers "FINISH" (what clients see and compare with), so lathe writes that.
//  - Anthropic Claude Messages (model-parameters-anthropic-claude-messages-request-response):
//    anthropic_version "bedrock-2023-05-31", max_tokens and messages required; system (string or
//    text blocks), temperature 0..1 (default 1), top_p 0..1 (default 0.999), top_k 0..500 (default
//    off), stop_sequences (at most 8191). content: a string or a list of {"type": "text"} blocks.
//  - Converse (service-2.json): InferenceConfiguration maxTokens >= 1, temperature and topP 0..1,
//    stopSequences at most 2500 non-empty strings; metrics.latencyMs is a Long. The model's own
//    defaults apply when unset: lathe's models take Titan's (512 tokens, 0.7, 0.9).
// The server further limits max tokens to the model's context (the engine does).

namespace lathe::service {
namespace {

using json = nlohmann::json;

constexpr int kTitanMaxTokens = 8192;
constexpr int kAnyInt = std::numeric_limits<int>::max();

// Bedrock words errors in two dialects: InvokeModel bodies with JSON-schema paths ("#/a/b"),
// Converse with the service model's member paths ("a.b").
class Checker {
 public:
  explicit Checker(bool invoke) : invoke_(invoke) {}
  std::string Root() const { return invoke_ ? "#" : ""; }
  std::string Child(const std::string& parent, const std::string& key) const {
    if (invoke_) return parent + "/" + key;
    return parent.empty() ? key : parent + "." + key;
  }
  Status Missing(const std::string& parent, const std::string& key) const {
    if (!invoke_) return Bad(Child(parent, key), "must not be null");
    return Fail("Malformed input request: " + parent + ": required key [" + key +
                "] not found, please reformat your input and try again.");
  }
  // `phrase` completes "<path>: ..." / "Member ...", e.g. "must be a number (found string)".
  Status Bad(const std::string& path, const std::string& phrase) const {
    if (!invoke_)
      return Fail("1 validation error detected: Value at '" + path +
                  "' failed to satisfy constraint: Member " + phrase);
    return Fail("Malformed input request: " + path + ": " + phrase + ", please reformat your input and try again.");
  }
  // "must be <what> (found array)", "(found number 2.5)", "(found an empty string)".
  Status Expected(const std::string& path, const std::string& what, const json& found) const {
    std::string type = found.is_number() ? "number " + found.dump()
                       : found.is_string() && found.get_ref<const std::string&>().empty() ? "an empty string"
                                                                                          : found.type_name();
    return Bad(path, "must be " + what + " (found " + type + ")");
  }
  static Status Fail(std::string message) { return Status::InvalidArgument(std::move(message)); }

  // Keys other than `allowed` are refused, naming the ones that are accepted.
  Status OnlyKeys(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) const {
    for (const auto& item : obj.items()) {
      if (std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return item.key() == k; })) continue;
      std::string list;
      for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
      if (invoke_)
        return Bad(path, "extraneous key [" + item.key() + "] is not permitted (lathe accepts " + list + ")");
      return Fail("Unknown parameter in " + (path.empty() ? std::string("input") : path) + ": \"" + item.key() +
                  "\", must be one of: " + list);
    }
    return Status::Ok();
  }
  // Optional members: absent or null leaves *out as it is.
  Status Number(const json& obj, const std::string& parent, const char* key, double lo, double hi, float* out) const {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    const json& v = obj[key];
    if (!v.is_number()) return Expected(Child(parent, key), "a number", v);
    const double d = v.get<double>();
    if (d < lo || d > hi)
      return Bad(Child(parent, key), "must be between " + json(lo).dump() + " and " + json(hi).dump() + " (got " +
                                         v.dump() + ")");
    *out = static_cast<float>(d);
    return Status::Ok();
  }
  Status Integer(const json& obj, const std::string& parent, const char* key, int64_t lo, int64_t hi,
                 int* out) const {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    const json& v = obj[key];
    if (!v.is_number_integer()) return Expected(Child(parent, key), "an integer", v);
    // nlohmann reads every non-negative integer as unsigned; compare without wrapping.
    const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(hi) &&
                                                       static_cast<int64_t>(v.get<uint64_t>()) >= lo
                                                 : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!in_range)
      return Bad(Child(parent, key),
                 "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " + v.dump() + ")");
    *out = static_cast<int>(v.get<int64_t>());
    return Status::Ok();
  }
  Status Stops(const json& obj, const std::string& parent, const char* key, size_t max,
               std::vector<std::string>* out) const {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    const json& v = obj[key];
    const std::string path = Child(parent, key);
    if (!v.is_array()) return Expected(path, "an array of strings", v);
    if (v.size() > max)
      return Bad(path, "must have at most " + std::to_string(max) + " items (got " + std::to_string(v.size()) + ")");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty())
        return Expected(Child(path, std::to_string(i)), "a non-empty string", v[i]);
      out->push_back(v[i].get<std::string>());
    }
    return Status::Ok();
  }

 private:
  bool invoke_;
};

Result<json> ParseObject(std::string_view body, const Checker& c) {
  auto j = ParseRequestJson(body);  // the one request parser: nesting is bounded before parsing
  if (!j.ok()) return Checker::Fail("Malformed input request: " + j.status().message());
  if (!j->is_object()) return c.Expected(c.Root().empty() ? "body" : c.Root(), "a JSON object", *j);
  return j;
}

// Text of an Anthropic content/system value (a string or text blocks) or a Converse one
// ([{"text": ...}]); blocks are joined by "\n". Other blocks are refused: lathe's models read text.
Status ReadText(const json& v, const std::string& path, bool anthropic, const Checker& c, std::string* out) {
  if (anthropic && v.is_string()) {
    *out = v.get<std::string>();
    return Status::Ok();
  }
  if (!v.is_array())
    return c.Expected(path, anthropic ? "a string or an array of text blocks" : "an array of content blocks", v);
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    const json& b = v[i];
    const std::string bpath = c.Child(path, std::to_string(i));
    if (!b.is_object()) return c.Expected(bpath, "an object", b);
    if (anthropic && b.value("type", json()) != "text")
      return c.Bad(bpath, "must be a {\"type\": \"text\"} block: lathe's models read text only (got type " +
                              b.value("type", json()).dump() + ")");
    if (!anthropic && !b.contains("text"))
      return c.Bad(bpath, "must be a {\"text\": ...} block: lathe's models read text only (got " +
                              (b.empty() ? "an empty block" : "\"" + b.items().begin().key() + "\"") + ")");
    if (!b.contains("text")) return c.Missing(bpath, "text");
    if (!b["text"].is_string()) return c.Expected(c.Child(bpath, "text"), "a string", b["text"]);
    *out += (i ? "\n" : "") + b["text"].get<std::string>();
  }
  return Status::Ok();
}

// Role errors are worded as Anthropic's API and Bedrock's Converse word them.
Status RoleOrderError(bool anthropic, size_t i, const std::string& role) {
  if (i == 0)
    return Checker::Fail(anthropic ? "messages: first message must use the \"user\" role"
                                   : "A conversation must start with a user message. Try again with a conversation "
                                     "that starts with a user message.");
  if (anthropic)
    return Checker::Fail("messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"" +
                         role + "\" roles in a row (message " + std::to_string(i) + ")");
  return Checker::Fail("A conversation must alternate between user and assistant roles. Make sure the conversation "
                       "alternates between user and assistant roles and try again. (messages." +
                       std::to_string(i) + " is a second " + role + " turn)");
}

Status ReadMessages(const json& body, bool anthropic, const Checker& c, RuntimeRequest* r) {
  if (!body.contains("messages")) return c.Missing(c.Root(), "messages");
  const json& msgs = body["messages"];
  const std::string path = c.Child(c.Root(), "messages");
  if (!msgs.is_array() || msgs.empty()) return c.Bad(path, "must be a non-empty array of messages");
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string mpath = c.Child(path, std::to_string(i));
    if (!m.is_object()) return c.Expected(mpath, "an object", m);
    if (!m.contains("role")) return c.Missing(mpath, "role");
    if (!m.contains("content")) return c.Missing(mpath, "content");
    const json& role = m["role"];
    if (anthropic && role == "system")
      return Checker::Fail("Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, "
                           "not \"system\" as an input message role.");
    if (role != "user" && role != "assistant")
      return c.Bad(c.Child(mpath, "role"), "must be \"user\" or \"assistant\" (got " + role.dump() + ")");
    text::ChatMessage msg{role.get<std::string>(), ""};
    LATHE_RETURN_IF_ERROR(ReadText(m["content"], c.Child(mpath, "content"), anthropic, c, &msg.content));
    const bool final_assistant = i + 1 == msgs.size() && msg.role == "assistant";
    if (msg.content.empty() && !final_assistant)
      return Checker::Fail("messages: all messages must have non-empty content except for the optional final "
                           "assistant message (message " + std::to_string(i) + ")");
    if ((msg.role == "user") != (i % 2 == 0)) return RoleOrderError(anthropic, i, msg.role);
    // A prefill's trailing space would end up as a token of its own, unlike anything trained on.
    if (final_assistant && !msg.content.empty() && std::isspace(static_cast<unsigned char>(msg.content.back())))
      return Checker::Fail("messages: final assistant content cannot end with trailing whitespace");
    // An empty final assistant turn prefills nothing: the model answers the user as usual.
    if (!msg.content.empty()) r->messages.push_back(std::move(msg));
  }
  if (body.contains("system") && !body["system"].is_null())
    LATHE_RETURN_IF_ERROR(ReadText(body["system"], c.Child(c.Root(), "system"), anthropic, c, &r->system));
  return Status::Ok();
}

// Titan's documented defaults; Converse on lathe's models uses them too.
RuntimeRequest WithTitanDefaults(BodyKind kind) {
  RuntimeRequest r;
  r.kind = kind;
  r.options.max_tokens = 512;
  r.options.temperature = 0.7f;
  r.options.top_p = 0.9f;
  return r;
}

Result<RuntimeRequest> ParseTitan(const json& body, const Checker& c) {
  RuntimeRequest r = WithTitanDefaults(BodyKind::kTitanText);
  LATHE_RETURN_IF_ERROR(c.OnlyKeys(body, "#", {"inputText", "textGenerationConfig"}));
  const json& input = body["inputText"];
  if (!input.is_string() || input.get_ref<const std::string&>().empty())
    return c.Expected("#/inputText", "a non-empty string", input);
  r.input_text = input.get<std::string>();
  if (!body.contains("textGenerationConfig") || body["textGenerationConfig"].is_null()) return r;
  const json& g = body["textGenerationConfig"];
  const std::string path = "#/textGenerationConfig";
  if (!g.is_object()) return c.Expected(path, "an object", g);
  LATHE_RETURN_IF_ERROR(c.OnlyKeys(g, path, {"maxTokenCount", "temperature", "topP", "stopSequences"}));
  LATHE_RETURN_IF_ERROR(c.Integer(g, path, "maxTokenCount", 0, kTitanMaxTokens, &r.options.max_tokens));
  LATHE_RETURN_IF_ERROR(c.Number(g, path, "temperature", 0, 1, &r.options.temperature));
  LATHE_RETURN_IF_ERROR(c.Number(g, path, "topP", 0, 1, &r.options.top_p));
  LATHE_RETURN_IF_ERROR(c.Stops(g, path, "stopSequences", 2500, &r.options.stop_sequences));
  return r;
}

Result<RuntimeRequest> ParseAnthropic(const json& body, const Checker& c) {
  RuntimeRequest r;
  r.kind = BodyKind::kAnthropicMessages;
  r.options.temperature = 1.0f;
  r.options.top_p = 0.999f;
  LATHE_RETURN_IF_ERROR(c.OnlyKeys(body, "#", {"anthropic_version", "max_tokens", "messages", "system", "temperature",
                                               "top_p", "top_k", "stop_sequences", "metadata"}));
  if (!body.contains("anthropic_version")) return c.Missing("#", "anthropic_version");
  if (body["anthropic_version"] != "bedrock-2023-05-31")
    return c.Bad("#/anthropic_version",
                 "must be \"bedrock-2023-05-31\" (got " + body["anthropic_version"].dump() + ")");
  if (!body.contains("max_tokens") || body["max_tokens"].is_null()) return c.Missing("#", "max_tokens");
  LATHE_RETURN_IF_ERROR(c.Integer(body, "#", "max_tokens", 1, kAnyInt, &r.options.max_tokens));
  LATHE_RETURN_IF_ERROR(c.Number(body, "#", "temperature", 0, 1, &r.options.temperature));
  LATHE_RETURN_IF_ERROR(c.Number(body, "#", "top_p", 0, 1, &r.options.top_p));
  LATHE_RETURN_IF_ERROR(c.Integer(body, "#", "top_k", 0, 500, &r.options.top_k));
  LATHE_RETURN_IF_ERROR(c.Stops(body, "#", "stop_sequences", 8191, &r.options.stop_sequences));
  LATHE_RETURN_IF_ERROR(ReadMessages(body, true, c, &r));
  return r;
}

// Chat formats put a space or newline between the assistant header and the answer, and around
// the end-of-turn marker; a message's content has neither. A prefill's continuation keeps its
// leading space ("The answer is" + " 42").
std::string AnswerText(const RuntimeRequest& req, const engine::GenerationResult& res) {
  constexpr const char* kSpace = " \t\r\n";
  std::string s = res.text;
  const bool prefill = !req.messages.empty() && req.messages.back().role == "assistant";
  if (!prefill) s.erase(0, std::min(s.size(), s.find_first_not_of(kSpace)));
  if (std::string(ChatStopReason(req, res)) == "end_turn") s.erase(s.find_last_not_of(kSpace) + 1);
  return s;
}

// Converse members lathe accepts and does not use, held to the service model's shapes so that
// what AWS refuses, lathe refuses too.
Status CheckConverseExtras(const json& j) {
  auto paths = StringList(j, "additionalModelResponseFieldPaths", rules::kAdditionalModelResponseFieldPath, 10);
  if (!paths.ok()) return paths.status();
  auto metadata = OptionalObject(j, "requestMetadata");
  if (!metadata.ok()) return metadata.status();
  if (*metadata) {
    const json& m = **metadata;
    if (m.empty() || m.size() > 16) return ValidationError("requestMetadata", "must have between 1 and 16 entries");
    for (const auto& [key, value] : m.items()) {
      LATHE_RETURN_IF_ERROR(CheckString(key, "requestMetadata", rules::kRequestMetadataKeyString));
      auto v = RequireString(m, key, rules::kRequestMetadataValueString, "requestMetadata");
      if (!v.ok()) return v.status();
    }
  }
  auto performance = OptionalObject(j, "performanceConfig");
  if (!performance.ok()) return performance.status();
  if (*performance) {
    auto latency = OptionalEnum(**performance, "latency", {"standard", "optimized"}, "standard", "performanceConfig");
    if (!latency.ok()) return latency.status();
  }
  auto tier = OptionalObject(j, "serviceTier");
  if (!tier.ok()) return tier.status();
  if (*tier) {
    auto type = OptionalEnum(**tier, "type", {"priority", "default", "flex", "reserved"}, "", "serviceTier");
    if (!type.ok()) return type.status();
  }
  return Status::Ok();
}

}  // namespace

// Whether the generation ended at one of the caller's stop sequences (not a chat format's marker).
bool CallerStop(const RuntimeRequest& req, const engine::GenerationResult& res) {
  const auto& stops = req.options.stop_sequences;
  return res.reason == engine::StopReason::kStopSequence &&
         std::find(stops.begin(), stops.end(), res.stop_sequence) != stops.end();
}

// "end_turn", "max_tokens" or "stop_sequence" (Anthropic's and Converse's shared names).
const char* ChatStopReason(const RuntimeRequest& req, const engine::GenerationResult& res) {
  if (res.reason == engine::StopReason::kLength || res.reason == engine::StopReason::kCancelled) return "max_tokens";
  return CallerStop(req, res) ? "stop_sequence" : "end_turn";
}

Result<RuntimeRequest> ParseInvokeBody(std::string_view body) {
  Checker c(true);
  auto j = ParseObject(body, c);
  if (!j.ok()) return j.status();
  if (j->contains("inputText")) return ParseTitan(*j, c);
  if (j->contains("anthropic_version") || j->contains("messages")) return ParseAnthropic(*j, c);
  if (j->contains("prompt"))
    return c.Bad("#", "required key [inputText] not found: \"prompt\" bodies (Anthropic Text Completions, Llama, "
                      "Mistral) are not supported; send {\"inputText\": ...} (Titan) or {\"anthropic_version\", "
                      "\"max_tokens\", \"messages\"} (Anthropic Messages)");
  return c.Missing("#", "inputText");
}

Result<RuntimeRequest> ParseConverseBody(std::string_view body) {
  Checker c(false);
  auto parsed = ParseObject(body, c);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  for (const char* unsupported : {"toolConfig", "guardrailConfig", "promptVariables", "outputConfig"})
    if (j.contains(unsupported)) return c.Bad(unsupported, "is not supported by lathe's models");
  LATHE_RETURN_IF_ERROR(c.OnlyKeys(j, "", {"modelId", "messages", "system", "inferenceConfig",
                                           "additionalModelRequestFields", "additionalModelResponseFieldPaths",
                                           "requestMetadata", "performanceConfig", "serviceTier"}));
  RuntimeRequest r = WithTitanDefaults(BodyKind::kConverse);
  // requestMetadata is checked below (CheckConverseExtras); a deployment's sticky routing reads userId.
  if (j.contains("requestMetadata") && j["requestMetadata"].is_object() && j["requestMetadata"].contains("userId") &&
      j["requestMetadata"]["userId"].is_string())
    r.user_id = j["requestMetadata"]["userId"].get<std::string>();
  if (j.contains("inferenceConfig") && !j["inferenceConfig"].is_null()) {
    const json& ic = j["inferenceConfig"];
    const std::string path = "inferenceConfig";
    if (!ic.is_object()) return c.Expected(path, "an object", ic);
    LATHE_RETURN_IF_ERROR(c.OnlyKeys(ic, path, {"maxTokens", "temperature", "topP", "stopSequences"}));
    LATHE_RETURN_IF_ERROR(c.Integer(ic, path, "maxTokens", 1, kAnyInt, &r.options.max_tokens));
    LATHE_RETURN_IF_ERROR(c.Number(ic, path, "temperature", 0, 1, &r.options.temperature));
    LATHE_RETURN_IF_ERROR(c.Number(ic, path, "topP", 0, 1, &r.options.top_p));
    LATHE_RETURN_IF_ERROR(c.Stops(ic, path, "stopSequences", 2500, &r.options.stop_sequences));
  }
  // Claude's extra sampling field through Converse: {"additionalModelRequestFields": {"top_k": 50}}.
  if (j.contains("additionalModelRequestFields") && !j["additionalModelRequestFields"].is_null()) {
    const json& extra = j["additionalModelRequestFields"];
    const std::string path = "additionalModelRequestFields";
    if (!extra.is_object()) return c.Expected(path, "an object", extra);
    LATHE_RETURN_IF_ERROR(c.OnlyKeys(extra, path, {"top_k"}));
    LATHE_RETURN_IF_ERROR(c.Integer(extra, path, "top_k", 0, 500, &r.options.top_k));
  }
  LATHE_RETURN_IF_ERROR(CheckConverseExtras(j));
  LATHE_RETURN_IF_ERROR(ReadMessages(j, false, c, &r));
  return r;
}

Result<RenderedPrompt> RenderPrompt(const RuntimeRequest& request, text::ChatTemplate chat_template) {
  RenderedPrompt out{"", request.options};
  if (request.kind == BodyKind::kTitanText) {
    out.text = request.input_text;
    return out;
  }
  std::vector<text::ChatMessage> msgs;
  if (!request.system.empty()) msgs.push_back({"system", request.system});
  msgs.insert(msgs.end(), request.messages.begin(), request.messages.end());
  if (msgs.empty() || msgs.back().role != "assistant") {
    auto text = text::RenderChat(chat_template, msgs, /*add_generation_prompt=*/true);
    if (!text.ok()) return text.status();
    out.text = std::move(*text);
  } else {
    // A prefill: the answer continues the final assistant turn. Render the turn with a marker as
    // its content and cut the text there, so the format's end-of-turn marker is left out.
    static const std::string kMarker = "\x01lathe-prefill\x01";
    const std::string prefill = msgs.back().content;
    msgs.back().content = kMarker;
    auto text = text::RenderChat(chat_template, msgs, /*add_generation_prompt=*/false);
    if (!text.ok()) return text.status();
    const size_t at = text->rfind(kMarker);
    if (at == std::string::npos) return Status::Internal("the chat format dropped the assistant prefill");
    out.text = text->substr(0, at) + prefill;
  }
  auto& stops = out.options.stop_sequences;
  for (std::string& stop : text::ChatStopSequences(chat_template))
    if (std::find(stops.begin(), stops.end(), stop) == stops.end()) stops.push_back(std::move(stop));
  return out;
}

json TitanResponse(const engine::GenerationResult& result) {
  const char* reason = result.reason == engine::StopReason::kEndToken       ? "FINISH"
                       : result.reason == engine::StopReason::kStopSequence ? "STOP_CRITERIA_MET"
                                                                            : "LENGTH";
  json one = {{"tokenCount", result.tokens.size()}, {"outputText", result.text}, {"completionReason", reason}};
  return {{"inputTextTokenCount", result.prompt_tokens}, {"results", json::array({one})}};
}

json AnthropicResponse(const RuntimeRequest& request, const engine::GenerationResult& result,
                       std::string_view model_id, std::string_view message_id) {
  return {{"id", message_id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model_id},
          {"content", json::array({{{"type", "text"}, {"text", AnswerText(request, result)}}})},
          {"stop_reason", ChatStopReason(request, result)},
          {"stop_sequence", CallerStop(request, result) ? json(result.stop_sequence) : json(nullptr)},
          {"usage", {{"input_tokens", result.prompt_tokens}, {"output_tokens", result.tokens.size()}}}};
}

json ConverseResponse(const RuntimeRequest& request, const engine::GenerationResult& result, int64_t latency_ms) {
  const int64_t out_tokens = static_cast<int64_t>(result.tokens.size());
  json message = {{"role", "assistant"}, {"content", json::array({{{"text", AnswerText(request, result)}}})}};
  return {{"output", {{"message", message}}},
          {"stopReason", ChatStopReason(request, result)},
          {"usage", {{"inputTokens", result.prompt_tokens},
                     {"outputTokens", out_tokens},
                     {"totalTokens", result.prompt_tokens + out_tokens}}},
          {"metrics", {{"latencyMs", latency_ms}}}};
}

json InvokeResponse(const RuntimeRequest& request, const engine::GenerationResult& result,
                    std::string_view model_id, std::string_view message_id) {
  if (request.kind == BodyKind::kTitanText) return TitanResponse(result);
  return AnthropicResponse(request, result, model_id, message_id);
}

}  // namespace lathe::service
