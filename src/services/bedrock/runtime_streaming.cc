#include "services/bedrock/runtime_streaming.h"

#include <utility>

#include "aws/event_stream.h"
#include "core/arn.h"
#include "core/checksum.h"
#include "service/runtime_stream_formats.h"

namespace lathe::bedrock {
using nlohmann::json;
namespace {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Frames events; a "chunk" (InvokeModelWithResponseStream's PayloadPart) carries the model's
// JSON base64-encoded in "bytes", as Bedrock sends it.
void AppendEvents(const std::vector<service::StreamEvent>& events, std::string* out) {
  for (const service::StreamEvent& e : events) {
    const std::string payload = Dump(e.payload);
    *out += aws::EncodeEvent(e.type, e.type == "chunk" ? Dump({{"bytes", Base64Encode(payload)}}) : payload);
  }
}

// What the server pulls: the opening events, then each piece's events as generated, then the
// closing events (or an exception). Destroying it (the response is dropped, e.g. on a closed
// connection) destroys the pump, which cancels the generation.
class EventStreamBody {
 public:
  EventStreamBody(std::unique_ptr<service::RuntimeStream> stream, const std::string& model_id)
      : pump_(std::move(stream)),
        formatter_(pump_.stream().request(), pump_.stream().prompt_tokens(), model_id,
                   "msg_bdrk_" + NewResourceId(24)) {}

  Result<bool> Pull(std::string* chunk) {
    if (!started_) {
      started_ = true;
      AppendEvents(formatter_.Start(), chunk);
      if (!chunk->empty()) return true;
    }
    if (auto text = pump_.Next()) {
      AppendEvents(formatter_.Text(*text), chunk);
      return true;
    }
    const Result<service::StreamEnd>& end = pump_.end();
    if (end.ok()) {
      AppendEvents(formatter_.End(*end), chunk);
    } else {
      *chunk += aws::EncodeException(StreamExceptionType(end.status()), Dump({{"message", end.status().message()}}));
    }
    return false;
  }

 private:
  service::StreamPump pump_;
  service::StreamEventFormatter formatter_;  // reads the request the pump's stream holds
  bool started_ = false;
};

}  // namespace

std::string StreamExceptionType(const Status& error) {
  switch (error.code()) {
    case Status::Code::kThrottled: return "throttlingException";
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported: return "validationException";
    default: return "modelStreamErrorException";
  }
}

Result<aws::RestOutput> EventStreamAnswer(Result<std::unique_ptr<service::RuntimeStream>> started,
                                          const std::string& model_id) {
  if (!started.ok()) return started.status();
  aws::RestOutput out;
  out.headers.push_back({"Content-Type", "application/vnd.amazon.eventstream"});
  // InvokeModelWithResponseStream's required contentType member: the chunks' own format.
  if ((*started)->request().kind != service::BodyKind::kConverse)
    out.headers.push_back({"X-Amzn-Bedrock-Content-Type", "application/json"});
  for (const auto& [name, value] : (*started)->headers()) out.headers.push_back({name, value});
  auto body = std::make_shared<EventStreamBody>(std::move(*started), model_id);
  out.body_stream = [body](std::string* chunk) { return body->Pull(chunk); };
  return out;
}

}  // namespace lathe::bedrock
