#include "services/openai/event_stream.h"

namespace lathe::openai {

using json = nlohmann::json;

ChunkWriter::ChunkWriter(const SamplingRequest& request, bool chat, std::string id, int64_t created, Next next,
                         End end)
    : chat_(chat),
      include_usage_(request.include_usage),
      model_(request.model),
      id_(std::move(id)),
      echo_(!chat && request.echo && !request.prompts.empty() ? request.prompts[0].input_text : ""),
      created_(created),
      next_(std::move(next)),
      end_(std::move(end)) {}

void ChunkWriter::Event(const json& data, std::string* out) {
  *out += "data: ";
  *out += data.dump(-1, ' ', false, json::error_handler_t::replace);
  *out += "\n\n";
}

json ChunkWriter::Chunk(const json& choice) const {
  json c = {{"id", id_}, {"object", chat_ ? "chat.completion.chunk" : "text_completion"}, {"created", created_},
            {"model", model_}, {"system_fingerprint", nullptr},
            {"choices", choice.is_null() ? json::array() : json::array({choice})}};
  if (include_usage_) c["usage"] = nullptr;
  return c;
}

json ChunkWriter::Choice(const std::string& text, const json& finish, bool first) const {
  if (!chat_) return {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}};
  json delta = json::object();
  if (first) delta = {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}};
  else if (finish.is_null()) delta = {{"content", text}};
  return {{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}};
}

bool ChunkWriter::Write(std::string* out) {
  switch (stage_) {
    case Stage::kStart:
      stage_ = Stage::kText;
      // Chat opens with the role; a completion with echo opens with the prompt.
      if (chat_) Event(Chunk(Choice("", nullptr, true)), out);
      else if (!echo_.empty()) Event(Chunk(Choice(echo_, nullptr, false)), out);
      if (!out->empty()) return true;
      [[fallthrough]];
    case Stage::kText: {
      if (std::optional<std::string> text = next_()) {
        if (!text->empty()) Event(Chunk(Choice(*text, nullptr, false)), out);
        return true;
      }
      stage_ = Stage::kDone;
      Result<service::StreamEnd> end = end_();
      if (!end.ok()) {
        const ApiError e = FromStatus(end.status(), ErrorKind::kServer);
        Event(ErrorBody(e), out);
      } else {
        Event(Chunk(Choice("", FinishReason(end->result.reason), false)), out);
        if (include_usage_) {
          json last = Chunk(json());
          const int64_t prompt = end->result.prompt_tokens;
          const int64_t completion = static_cast<int64_t>(end->result.tokens.size());
          last["usage"] = {{"prompt_tokens", prompt}, {"completion_tokens", completion},
                           {"total_tokens", prompt + completion}};
          Event(last, out);
        }
      }
      return true;
    }
    case Stage::kDone:
      stage_ = Stage::kFinished;
      *out += "data: [DONE]\n\n";
      return true;
    case Stage::kFinished:
      return false;
  }
  return false;
}

}  // namespace lathe::openai
