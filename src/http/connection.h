// One client connection: its socket, the bytes received but not consumed yet (a body's start,
// pipelined requests) and the parser of its current request. The reactor owns it; while a
// worker serves a request, only that worker touches it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "http/request_parser.h"
#include "http/tls.h"

namespace lathe::http {

class H2Session;
using Clock = std::chrono::steady_clock;

struct Connection {
  enum class State {
    kReadingHead,  // reactor: waiting for (the rest of) a request head
    kInWorker,     // a worker serves a request; the reactor does not look at it
    kWriting,      // reactor: writing an answer of its own (408, 431, 503...), then lingering
    kLingering,    // reactor: our side is shut; discarding what the client still sends, briefly
    kHttp2,        // reactor: an HTTP/2 connection; its streams run on workers (h2_session.h)
    kHandshake,    // reactor: the TLS handshake, bounded by header_timeout_ms
  };

  Connection(int fd, std::string remote_address, const ParserLimits& limits);
  ~Connection();

  std::string_view buffered() const { return std::string_view(in).substr(in_pos); }
  void Consume(size_t n);
  // Appends what one recv() returns (at most `max_bytes`): >0 bytes, 0 at EOF, -1 with errno.
  long ReceiveMore(size_t max_bytes);
  Transport transport() const { return Transport{fd, ssl}; }

  const int fd;
  SSL* ssl = nullptr;  // TLS over fd, or none; freed with the connection
  const std::string remote_address;
  RequestParser parser;
  std::string in;
  size_t in_pos = 0;

  State state = State::kReadingHead;
  Clock::time_point deadline;
  bool watched = false;           // registered with the reactor's epoll
  bool between_requests = false;  // kept alive, no byte of the next request yet
  bool counted = true;            // counts toward the connection caps (over-cap answers do not)
  bool close_after_worker = false;
  std::string out;                // kWriting: the answer
  size_t out_pos = 0;
  size_t lingered_bytes = 0;
  bool fresh = true;                // nothing parsed yet: the HTTP/2 preface may still come
  std::unique_ptr<H2Session> h2;    // kHttp2: the session; out/out_pos hold its unsent frames
  Clock::time_point last_progress;  // kHttp2: the last byte read or written
};

}  // namespace lathe::http
