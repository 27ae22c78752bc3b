// Bedrock Runtime request and response bodies as pure functions: JSON in, a neutral request out;
// a generation result in, the JSON body a Bedrock client expects out. No HTTP, no torch.
//
// Bodies understood:
//   InvokeModel, Amazon Titan Text:   {"inputText", "textGenerationConfig": {...}}
//   InvokeModel, Anthropic Messages:  {"anthropic_version": "bedrock-2023-05-31", "max_tokens",
//                                      "messages", "system", ...}
//   Converse:                         {"messages", "system", "inferenceConfig", ...}
// Names, defaults and ranges follow the Bedrock user guide (model-parameters-titan-text,
// model-parameters-anthropic-claude-messages-request-response) and botocore's
// bedrock-runtime/2023-09-30 service model (Converse); see runtime_formats.cc for the details.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/language_model.h"
#include "text/chat_format.h"

namespace lathe::service {

enum class BodyKind { kTitanText, kAnthropicMessages, kConverse };

struct RuntimeRequest {
  BodyKind kind = BodyKind::kTitanText;
  std::string input_text;                   // Titan: the prompt, used verbatim
  std::string system;                       // chat kinds: the system prompt(s), joined by "\n"
  std::vector<text::ChatMessage> messages;  // chat kinds: user/assistant turns, user first,
                                            // alternating; a final assistant turn is a prefill
  engine::GenerationOptions options;        // the body's settings, or the format's defaults;
                                            // stop_sequences holds only the caller's own
  std::string user_id;                      // Converse: requestMetadata.userId (sticky routing)
};

// An InvokeModel body: Titan when it has "inputText", Anthropic Messages when it has
// "anthropic_version" or "messages". Errors are InvalidArgument, worded like Bedrock's:
// "Malformed input request: #/textGenerationConfig/topP: must be between 0.0 and 1.0 (got 1.5),
// please reformat your input and try again."
Result<RuntimeRequest> ParseInvokeBody(std::string_view body);

// A Converse body (the modelId travels in the URI). Errors are InvalidArgument, worded like
// Bedrock's validation errors: "1 validation error detected: Value at 'inferenceConfig.topP'
// failed to satisfy constraint: Member must be between 0.0 and 1.0 (got 1.5)".
Result<RuntimeRequest> ParseConverseBody(std::string_view body);

// What to hand the engine: the prompt text (Titan: inputText as is; chat kinds: the conversation
// rendered in the model's chat format, ending where the assistant's answer starts, or after the
// prefill) and the options, whose stop sequences gain the format's end-of-turn markers.
struct RenderedPrompt {
  std::string text;
  engine::GenerationOptions options;
};
Result<RenderedPrompt> RenderPrompt(const RuntimeRequest& request, text::ChatTemplate chat_template);

// Whether the generation ended at one of the caller's stop sequences (not a chat format's marker).
bool CallerStop(const RuntimeRequest& request, const engine::GenerationResult& result);
// The chat kinds' stop reason: "end_turn", "max_tokens" (also for a cancelled generation) or
// "stop_sequence" (Anthropic's and Converse's shared names).
const char* ChatStopReason(const RuntimeRequest& request, const engine::GenerationResult& result);

// Response bodies. The request tells a stop at one of the caller's stop sequences ("stop_sequence")
// from a stop at the chat format's end-of-turn marker ("end_turn"). For chat kinds the text loses
// the whitespace the chat format puts around an answer (none is trimmed at the front of a prefill's
// continuation). A cancelled generation reports like a truncated one.
//   Titan:     {"inputTextTokenCount", "results": [{"tokenCount", "outputText", "completionReason"}]}
//              completionReason: FINISH | LENGTH | STOP_CRITERIA_MET
//   Anthropic: {"id", "type": "message", "role": "assistant", "model", "content": [{"type": "text",
//              "text"}], "stop_reason": end_turn | max_tokens | stop_sequence, "stop_sequence",
//              "usage": {"input_tokens", "output_tokens"}}
//   Converse:  {"output": {"message": {"role": "assistant", "content": [{"text"}]}}, "stopReason",
//              "usage": {"inputTokens", "outputTokens", "totalTokens"}, "metrics": {"latencyMs"}}
nlohmann::json TitanResponse(const engine::GenerationResult& result);
nlohmann::json AnthropicResponse(const RuntimeRequest& request, const engine::GenerationResult& result,
                                 std::string_view model_id, std::string_view message_id);
nlohmann::json ConverseResponse(const RuntimeRequest& request, const engine::GenerationResult& result,
                                int64_t latency_ms);
// The InvokeModel response for the request's kind (Titan or Anthropic; model_id and message_id
// are used by Anthropic only).
nlohmann::json InvokeResponse(const RuntimeRequest& request, const engine::GenerationResult& result,
                              std::string_view model_id, std::string_view message_id);

}  // namespace lathe::service
