// stream: true as OpenAI sends it: server-sent events, one `data: <chunk JSON>\n\n` per piece of
// text (chat.completion.chunk or text_completion), a final chunk with finish_reason, a usage
// chunk (choices: []) when stream_options.include_usage, then `data: [DONE]\n\n`. An engine
// error after the first byte is one `data: {"error": ...}` event before [DONE] (the status line
// has gone). Pure: the text comes from a pull function, so it is tested without a model.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.h"
#include "service/runtime_stream.h"
#include "services/openai/sampling_request.h"

namespace lathe::openai {

class ChunkWriter {
 public:
  // next(): the text since the last call, nullopt once the generation is over; end(): how it
  // ended, asked once after next() said nullopt.
  using Next = std::function<std::optional<std::string>()>;
  using End = std::function<Result<service::StreamEnd>()>;
  ChunkWriter(const SamplingRequest& request, bool chat, std::string id, int64_t created, Next next, End end);

  // The next events to send into *out; false once [DONE] was written (nothing appended then).
  bool Write(std::string* out);

 private:
  nlohmann::json Chunk(const nlohmann::json& choice) const;
  nlohmann::json Choice(const std::string& text, const nlohmann::json& finish, bool first) const;
  static void Event(const nlohmann::json& data, std::string* out);

  const bool chat_;
  const bool include_usage_;
  const std::string model_, id_, echo_;
  const int64_t created_;
  Next next_;
  End end_;
  enum class Stage { kStart, kText, kDone, kFinished } stage_ = Stage::kStart;
};

}  // namespace lathe::openai
