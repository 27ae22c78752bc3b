// Streaming generation for the runtime's wires, transport-neutral: Bedrock's event streams
// (InvokeModelWithResponseStream, ConverseStream) and OpenAI's server-sent events use it alike.
//
// Two steps, so that a wire can answer every error of the request as an ordinary HTTP error and
// start streaming only once generation is certain to begin:
//   1. RuntimeService::InvokeStream / ConverseStream / StartStream (runtime_service.h) parse and
//      check the body, route it (deployment, provisioned throughput, custom or foundation model),
//      wait for a slot (ThrottlingException when the queue is full), render and tokenize the
//      prompt (a prompt longer than the context is refused here). Any error comes back from this
//      call, exactly as Invoke / Converse give it; nothing has been generated.
//   2. RuntimeStream::Run(sink) generates (on the calling thread, or in the pool's shared batch
//      when it batches: ModelPool::Lease::Generate), handing the sink each final piece of the
//      answer's text on the calling thread. The sink returning false (the client went away)
//      stops generation at the next token (batched: the scheduler's next step); the slot is
//      freed when Run returns. Usage (tokens, latency) is recorded as for the non-streaming
//      calls: a deployment's stats, on-demand metering.
// StreamPump runs step 2 on a thread of its own for transports that pull their body
// (http::Response::body_stream): destroying it early is how a closed connection cancels.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/language_model.h"
#include "service/model_pool.h"
#include "service/runtime_formats.h"

namespace lathe::service {

// Receives the answer's text in order, each piece final: the pieces joined are exactly the text
// of the non-streaming answer (Titan's outputText, the chat kinds' content text) for the same
// request and seed. Text that could still become a stop sequence, an unfinished UTF-8 character,
// and the whitespace a chat format puts around an answer are held back until they are settled,
// so no part of a stop sequence is ever sent. Return false to stop generating (client gone).
using TextSink = std::function<bool(std::string_view piece)>;

// How a streamed generation ended.
struct StreamEnd {
  // As the non-streaming call sees it (reason kCancelled when the sink refused a piece); what the
  // response formats (runtime_formats.h) take: ChatStopReason, token counts.
  engine::GenerationResult result;
  std::string text;             // what the sink received, joined
  int64_t latency_ms = 0;       // from the request's arrival to the end
  int64_t first_text_ms = -1;   // from the request's arrival to the first piece; -1: no text
};

class RuntimeStream {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // Counts the outcome where the request was routed (deployment stats, on-demand usage).
  using Recorder = std::function<void(const Result<engine::GenerationResult>& result, int64_t compute_ms,
                                      int64_t latency_ms)>;
  // Made by RuntimeService: `lease` is a slot of `pool`, `prompt` the tokenized prompt.
  RuntimeStream(RuntimeRequest request, std::shared_ptr<ModelPool> pool, ModelPool::Lease lease,
                std::vector<int> prompt, engine::GenerationOptions options, Headers headers, Recorder record,
                std::chrono::steady_clock::time_point start);
  RuntimeStream(const RuntimeStream&) = delete;
  RuntimeStream& operator=(const RuntimeStream&) = delete;

  const RuntimeRequest& request() const { return request_; }
  int prompt_tokens() const { return static_cast<int>(prompt_.size()); }
  // Headers the answer carries: a deployment's x-lathe-response-id, -variant, -served-model.
  const Headers& headers() const { return headers_; }
  // Milliseconds since the request arrived.
  int64_t elapsed_ms() const;

  // Generates, calling `sink` with each piece (see TextSink). Call once; the slot is given back
  // before it returns. An engine error after some pieces were sent comes back as the Status.
  Result<StreamEnd> Run(const TextSink& sink);

 private:
  RuntimeRequest request_;
  std::shared_ptr<ModelPool> pool_;       // outlives the lease on it
  std::optional<ModelPool::Lease> lease_;
  std::vector<int> prompt_;
  engine::GenerationOptions options_;     // with the chat format's stop sequences
  Headers headers_;
  Recorder record_;
  std::chrono::steady_clock::time_point start_;
};

// Runs a RuntimeStream on its own thread and hands out its pieces one by one, for a transport
// that pulls (each piece becomes one event, however fast they come). Destroying the pump before the end cancels
// the generation (the sink refuses the next piece) and waits for it to stop: at most one decode
// step. Pieces are bounded by the request's max tokens, so what waits for a slow reader is too.
class StreamPump {
 public:
  explicit StreamPump(std::unique_ptr<RuntimeStream> stream);
  ~StreamPump();
  StreamPump(const StreamPump&) = delete;
  StreamPump& operator=(const StreamPump&) = delete;

  const RuntimeStream& stream() const { return *stream_; }
  // Blocks until there is a piece or the generation ended: the next piece, or nullopt once every
  // piece was handed out and the generation is over (end() says how).
  std::optional<std::string> Next();
  // How it ended; only after Next returned nullopt.
  const Result<StreamEnd>& end() const { return *end_; }

 private:
  std::unique_ptr<RuntimeStream> stream_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> pending_;
  bool cancelled_ = false;
  std::optional<Result<StreamEnd>> end_;
  std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace lathe::service
