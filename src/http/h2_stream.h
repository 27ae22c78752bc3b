// One HTTP/2 stream as the reactor and a worker share it. The nghttp2 session is not thread-safe,
// so only the reactor touches it (h2_session.h); a worker only touches this object, under its
// mutex, and posts it to the H2Mailbox so that the reactor acts on the change (submits the
// response, resumes the body, reports consumed request bytes as WINDOW_UPDATEs).
//
// Memory is bounded both ways: the request body buffer holds at most what the stream's flow-control
// window lets the client send (the window reopens only as the handler reads), and the response
// buffer holds at most kMaxBufferedResponse of a body_stream before the worker waits for the
// reactor to send it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/connection.h"
#include "http/message.h"
#include "http/server.h"

namespace lathe::http {

class H2Session;
class H2Stream;

// Streams whose state a worker changed, for the reactor; `wake` interrupts its epoll_wait.
class H2Mailbox {
 public:
  explicit H2Mailbox(std::function<void()> wake) : wake_(std::move(wake)) {}
  void Post(std::shared_ptr<H2Stream> stream);
  std::vector<std::shared_ptr<H2Stream>> Take();

 private:
  std::function<void()> wake_;
  std::mutex mu_;
  std::vector<std::shared_ptr<H2Stream>> posted_;
};

class H2Stream : public std::enable_shared_from_this<H2Stream> {
 public:
  static constexpr size_t kMaxBufferedResponse = 256 * 1024;

  H2Stream(int32_t id, H2Mailbox* mailbox) : id(id), mailbox_(mailbox) {}

  // --- reactor thread only ---
  const int32_t id;
  H2Session* session = nullptr;  // null once the connection is gone
  Request request;               // built from the HEADERS; the worker's once dispatched
  std::string authority;         // :authority, the Host of HTTP/2
  size_t header_bytes = 0;       // name + value + 32 per field, as SETTINGS_MAX_HEADER_LIST_SIZE counts
  size_t header_count = 0;
  std::optional<TransportError> refusal;  // the transport answers instead of the handler
  bool dispatched = false;         // handed to a worker (or answered by the reactor)
  bool response_submitted = false;
  bool protocol_closed = false;    // nghttp2 closed the stream (both ends done, or reset)
  bool discard_body = false;       // the handler is done: what the client still sends is dropped
  uint64_t body_received = 0;      // DATA payload bytes received
  uint64_t body_acknowledged = 0;  // of those, reported to nghttp2 as consumed
  Clock::time_point opened;

  // --- shared, under mu ---
  std::mutex mu;
  std::condition_variable cv;
  // request body
  std::string body_in;
  bool body_end = false;
  bool closed = false;     // reset by the client or the connection went away: the worker gives up
  uint64_t body_read = 0;  // bytes the handler took out of body_in
  // response
  bool head_ready = false;
  int status = 200;
  std::vector<Header> headers;
  std::string out;
  size_t out_pos = 0;
  bool out_end = false;
  bool failed = false;       // the handler's stream failed: reset the stream
  bool worker_done = false;
  bool deferred = false;     // nghttp2 waits for more of `out` (NGHTTP2_ERR_DEFERRED)

  // Worker side: tells the reactor to look at this stream.
  void Post() { mailbox_->Post(shared_from_this()); }

 private:
  H2Mailbox* mailbox_;
};

// The request body of a stream, read by the handler on its worker.
class H2BodyReader : public BodyReader {
 public:
  H2BodyReader(std::shared_ptr<H2Stream> stream, int idle_timeout_ms, int64_t declared_length)
      : stream_(std::move(stream)), idle_timeout_ms_(idle_timeout_ms), declared_length_(declared_length) {}
  Result<size_t> Read(char* buf, size_t n) override;
  int64_t declared_length() const override { return declared_length_; }

 private:
  std::shared_ptr<H2Stream> stream_;
  const int idle_timeout_ms_;
  const int64_t declared_length_;
  uint64_t unreported_ = 0;  // read but not yet posted for a WINDOW_UPDATE
};

// Runs the handler for a dispatched stream on a worker: the head, then the body or body_stream in
// bounded pieces as the reactor sends them.
void ServeH2Stream(const std::shared_ptr<H2Stream>& stream, const Handler& handler, const ServerLimits& limits);

}  // namespace lathe::http
