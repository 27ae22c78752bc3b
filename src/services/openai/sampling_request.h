// /v1/chat/completions and /v1/completions bodies as pure functions: JSON in, a neutral
// service::RuntimeRequest out (Converse's form for chat, Titan's verbatim prompt for
// completions), and the generations out as OpenAI's response bodies. No HTTP, no model.
//
// What lathe honours: model, messages (system/developer, user, assistant; text content as a
// string or text parts), prompt (a string or up to kMaxPrompts strings), temperature 0..2, top_p
// 0..1, max_tokens / max_completion_tokens, stop (a string or up to 4), seed, n (up to
// kMaxChoices), stream, stream_options.include_usage, user (a deployment's sticky-routing key),
// echo (completions). What it refuses with 400 unsupported_parameter (the engine cannot honour
// it): logprobs / top_logprobs, tools and functions, non-zero penalties, logit_bias, images,
// response_format other than text, suffix, best_of > n (docs/compatibility.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/language_model.h"
#include "service/runtime_formats.h"
#include "services/openai/errors.h"

namespace lathe::openai {

struct SamplingRequest {
  std::string model;
  // One per prompt (chat: one); choice i of prompt p is generated with seed `seed + i`.
  std::vector<service::RuntimeRequest> prompts;
  int n = 1;
  uint64_t seed = 0;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;           // completions: the prompt before each choice's text
  std::string user;
};

using ParsedSampling = std::variant<SamplingRequest, ApiError>;
// `random_seed`: the seed when the body names none (OpenAI samples afresh each call).
ParsedSampling ParseChatRequest(std::string_view body, uint64_t random_seed);
ParsedSampling ParseCompletionRequest(std::string_view body, uint64_t random_seed);

// The request choice `index` runs: its prompt's RuntimeRequest with the choice's seed.
service::RuntimeRequest ChoiceRequest(const SamplingRequest& request, size_t index);
size_t ChoiceCount(const SamplingRequest& request);

// "stop" (end of turn, a stop sequence) or "length" (max tokens, a cancelled generation).
const char* FinishReason(engine::StopReason reason);
// A chat choice's text as Converse answers it: without the whitespace the chat format puts
// around an answer.
std::string ChatText(const service::RuntimeRequest& request, const engine::GenerationResult& result);

// Response bodies; `results` holds ChoiceCount results in choice order.
nlohmann::json ChatCompletionBody(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results,
                                  const std::string& id, int64_t created);
nlohmann::json CompletionBody(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results,
                              const std::string& id, int64_t created);
// {"prompt_tokens", "completion_tokens", "total_tokens"}: each prompt counted once.
nlohmann::json Usage(const SamplingRequest& request, const std::vector<engine::GenerationResult>& results);

}  // namespace lathe::openai
