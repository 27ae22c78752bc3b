// The server side of one HTTP/2 connection (libnghttp2: HPACK, framing, flow control). Only the
// reactor thread calls it: it feeds received bytes in (Receive), pulls frames to send out (Pull),
// and hands it the streams workers posted (OnPosted). Each request stream whose HEADERS complete
// becomes an http::Request for the same Handler as HTTP/1.1, run on the worker pool
// (ServeH2Stream); an error the transport answers itself goes through the TransportErrorWriter.
//
// Bounds (docs/serve.md, Limits): kMaxStreams streams at once per connection, counting a stream
// until its worker is done even when the client reset it (so RST_STREAM floods cannot pile up
// work); header list bytes and count as ServerLimits; each stream's request body buffer by its
// flow-control window, reopened only as the handler reads; reset floods by nghttp2's rate limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "http/connection.h"
#include "http/h2_stream.h"
#include "http/message.h"
#include "http/server.h"

struct nghttp2_session;

namespace lathe::http {

// What a session needs from its server.
struct H2Host {
  const ServerLimits* limits;
  const Handler* handler;
  const TransportErrorWriter* error_writer;
  std::function<bool(std::function<void()>)> submit;  // to the worker pool; false when it is full
  H2Mailbox* mailbox;
};

class H2Session {
 public:
  static constexpr uint32_t kMaxStreams = 100;
  static constexpr int32_t kStreamWindow = 256 * 1024;
  static constexpr int32_t kConnectionWindow = 1024 * 1024;

  H2Session(H2Host host, int fd, std::string remote_address);
  ~H2Session();  // every stream's worker sees it closed and gives up
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Queues the server's SETTINGS.
  Status Start();
  // Feeds bytes from the client (the first are the connection preface). An error: close.
  Status Receive(const char* data, size_t n);
  // Appends frames to send to `out`, until it holds about `max_bytes` or nothing is left.
  Status Pull(std::string* out, size_t max_bytes);
  // A worker changed `stream`: submit its response, resume its body, reopen its window.
  void OnPosted(H2Stream* stream);
  // Neither side wants more: the connection can be closed.
  bool Finished() const;
  // When the connection must have progressed by, else it is closed; `idle_since`: the last byte
  // read or written.
  Clock::time_point Deadline(bool output_pending, Clock::time_point idle_since) const;
  // Queues a GOAWAY (server stopping, or a timeout) so that the client knows what happened.
  void GoAway(uint32_t error_code);
  size_t stream_count() const { return streams_.size(); }
  int fd() const { return fd_; }  // its connection's socket

 private:
  struct Callbacks;  // h2_session_callbacks.h

  H2Stream* Find(int32_t stream_id) const;
  void Dispatch(H2Stream* stream);
  void Answer(H2Stream* stream, TransportError error);
  void SubmitResponse(H2Stream* stream);
  void EndBody(H2Stream* stream);
  void Acknowledge(H2Stream* stream, uint64_t read);
  void Forget(int32_t stream_id);

  H2Host host_;
  const int fd_;
  const std::string remote_address_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::shared_ptr<H2Stream>> streams_;
};

}  // namespace lathe::http
