#include "service/runtime_stream_formats.h"

namespace lathe::service {
using nlohmann::json;
namespace {

json InvocationMetrics(const StreamEnd& end) {
  return {{"inputTokenCount", end.result.prompt_tokens},
          {"outputTokenCount", end.result.tokens.size()},
          {"invocationLatency", end.latency_ms},
          {"firstByteLatency", end.first_text_ms < 0 ? end.latency_ms : end.first_text_ms}};
}

}  // namespace

StreamEventFormatter::StreamEventFormatter(const RuntimeRequest& request, int prompt_tokens, std::string model_id,
                                           std::string message_id)
    : request_(request), prompt_tokens_(prompt_tokens), model_id_(std::move(model_id)),
      message_id_(std::move(message_id)) {}

std::vector<StreamEvent> StreamEventFormatter::Start() {
  switch (request_.kind) {
    case BodyKind::kTitanText: return {};
    case BodyKind::kAnthropicMessages: {
      json message = {{"id", message_id_},      {"type", "message"},      {"role", "assistant"},
                      {"model", model_id_},     {"content", json::array()}, {"stop_reason", nullptr},
                      {"stop_sequence", nullptr}, {"usage", {{"input_tokens", prompt_tokens_}, {"output_tokens", 0}}}};
      return {{"chunk", {{"type", "message_start"}, {"message", message}}},
              {"chunk", {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}}};
    }
    case BodyKind::kConverse: return {{"messageStart", {{"role", "assistant"}}}};
  }
  return {};
}

std::vector<StreamEvent> StreamEventFormatter::Text(std::string_view text) {
  if (text.empty()) return {};
  switch (request_.kind) {
    case BodyKind::kTitanText: {
      json chunk = {{"outputText", text},
                    {"index", 0},
                    {"totalOutputTextTokenCount", nullptr},
                    {"completionReason", nullptr},
                    {"inputTextTokenCount", first_chunk_ ? json(prompt_tokens_) : json(nullptr)}};
      first_chunk_ = false;
      return {{"chunk", chunk}};
    }
    case BodyKind::kAnthropicMessages:
      return {{"chunk", {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", text}}}}}};
    case BodyKind::kConverse: return {{"contentBlockDelta", {{"delta", {{"text", text}}}, {"contentBlockIndex", 0}}}};
  }
  return {};
}

std::vector<StreamEvent> StreamEventFormatter::End(const StreamEnd& end) {
  const engine::GenerationResult& r = end.result;
  const int64_t out_tokens = static_cast<int64_t>(r.tokens.size());
  switch (request_.kind) {
    case BodyKind::kTitanText: {
      json chunk = {{"outputText", ""},
                    {"index", 0},
                    {"totalOutputTextTokenCount", out_tokens},
                    {"completionReason", TitanResponse(r)["results"][0]["completionReason"]},
                    {"inputTextTokenCount", first_chunk_ ? json(prompt_tokens_) : json(nullptr)},
                    {"amazon-bedrock-invocationMetrics", InvocationMetrics(end)}};
      first_chunk_ = false;
      return {{"chunk", chunk}};
    }
    case BodyKind::kAnthropicMessages:
      return {{"chunk", {{"type", "content_block_stop"}, {"index", 0}}},
              {"chunk",
               {{"type", "message_delta"},
                {"delta",
                 {{"stop_reason", ChatStopReason(request_, r)},
                  {"stop_sequence", CallerStop(request_, r) ? json(r.stop_sequence) : json(nullptr)}}},
                {"usage", {{"output_tokens", out_tokens}}}}},
              {"chunk", {{"type", "message_stop"}, {"amazon-bedrock-invocationMetrics", InvocationMetrics(end)}}}};
    case BodyKind::kConverse:
      return {{"contentBlockStop", {{"contentBlockIndex", 0}}},
              {"messageStop", {{"stopReason", ChatStopReason(request_, r)}}},
              {"metadata",
               {{"usage",
                 {{"inputTokens", r.prompt_tokens}, {"outputTokens", out_tokens}, {"totalTokens", r.prompt_tokens + out_tokens}}},
                {"metrics", {{"latencyMs", end.latency_ms}}}}}};
  }
  return {};
}

}  // namespace lathe::service
