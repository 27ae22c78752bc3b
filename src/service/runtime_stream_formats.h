// The events of a streamed runtime answer, in Bedrock's formats, as pure functions of what the
// stream produced (runtime_stream.h). No framing here: services/bedrock wraps each event in AWS's
// event-stream encoding. The request's kind decides the format:
//   Titan Text (InvokeModelWithResponseStream): "chunk" events of
//     {"outputText", "index": 0, "totalOutputTextTokenCount", "completionReason", "inputTextTokenCount"}
//     the first carries inputTextTokenCount; the last (outputText "") completionReason, the token
//     total and "amazon-bedrock-invocationMetrics" (intermediate chunks: null for both: the
//     stream's pieces do not map onto tokens)
//   Anthropic Messages (InvokeModelWithResponseStream): "chunk" events of Anthropic's streaming
//     events: message_start, content_block_start, content_block_delta (text_delta) per piece,
//     content_block_stop, message_delta (stop_reason, usage.output_tokens), message_stop (with
//     "amazon-bedrock-invocationMetrics")
//   Converse (ConverseStream): messageStart {"role"}, contentBlockDelta {"delta": {"text"},
//     "contentBlockIndex": 0} per piece, contentBlockStop, messageStop {"stopReason"}, metadata
//     {"usage", "metrics": {"latencyMs"}}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/runtime_formats.h"
#include "service/runtime_stream.h"

namespace lathe::service {

struct StreamEvent {
  std::string type;        // the event's member of the stream union: "chunk", "messageStart", ...
  nlohmann::json payload;  // "chunk": the model's own JSON (the wire base64s it into "bytes")
};

class StreamEventFormatter {
 public:
  // model_id and message_id: Anthropic's message_start names them.
  StreamEventFormatter(const RuntimeRequest& request, int prompt_tokens, std::string model_id,
                       std::string message_id);
  std::vector<StreamEvent> Start();
  std::vector<StreamEvent> Text(std::string_view text);
  std::vector<StreamEvent> End(const StreamEnd& end);

 private:
  const RuntimeRequest& request_;
  int prompt_tokens_;
  std::string model_id_, message_id_;
  bool first_chunk_ = true;  // Titan: the first chunk carries inputTextTokenCount
};

}  // namespace lathe::service
