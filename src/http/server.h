// lathe's HTTP/1.1 server. One reactor thread (epoll, non-blocking sockets) accepts connections
// and reads every request line and header block itself, so a slow client holds a few KiB and a
// timer, never a thread. Only a request whose head is complete goes to the worker pool, where
// the handler runs and reads the body on demand (BodyReader); kept-alive connections come back
// to the reactor. Every size, count and time is bounded by ServerLimits (docs/serve.md, Limits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/message.h"

namespace lathe::http {

struct ServerLimits {
  size_t max_connections = 512;             // total open; over it: accept, answer 503, close
  size_t max_connections_per_client = 128;  // per remote address; over it: 503 likewise
  size_t max_request_line_bytes = 16384;    // the request target; 414 past it
  size_t max_header_bytes = 65536;          // all header lines together; 431 past it
  size_t max_header_count = 200;            // 431 past it
  uint64_t max_chunk_bytes = 64ull << 20;   // one chunk of a chunked body; the body read fails past it
  int header_timeout_ms = 10000;            // request line + headers must arrive within this; else 408
  int body_idle_timeout_ms = 10000;         // no body byte for this long: the body read fails, close
  int min_body_bytes_per_second = 1024;     // after the first 10 s of a body, a slower average fails
  int keep_alive_idle_ms = 60000;           // an idle kept-alive connection is closed after this
  int response_write_timeout_ms = 30000;    // the client reads nothing of a response for this long: close
  size_t worker_threads = 32;               // handlers run here
  size_t max_queued_requests = 1024;        // complete heads waiting for a worker; beyond: 503
};

// The default TransportErrorWriter: a plain-text body naming the problem (the AWS layer supplies
// one that answers in the protocol of the service the client meant).
void WritePlainTransportError(TransportError error, const Request& partial, Response& response);

class Server {
 public:
  Server(ServerLimits limits, Handler handler, TransportErrorWriter error_writer = WritePlainTransportError);
  ~Server();  // Stops; a Run on another thread must have returned before the Server is destroyed
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0: any free port) and listens. A port already taken is an error naming
  // host:port: SO_REUSEADDR only, never SO_REUSEPORT, so two servers cannot silently share it.
  Status Listen(const std::string& host, int port);
  int port() const;
  // Serve TLS (1.2+, ALPN h2 / http/1.1) with this certificate chain and key (PEM). Before Run.
  Status EnableTls(const std::string& cert_file, const std::string& key_file);
  // Re-reads the files (SIGHUP): new connections use the new certificate, open ones keep theirs;
  // broken files leave the old one in place and say why. Callable from any thread.
  Status ReloadTls();
  bool tls() const;
  // Serves on the calling thread until Stop().
  void Run();
  // Callable from any thread, also before Run. Run returns once in-flight handlers finish; after
  // a grace period their sockets are shut down so that handlers blocked on the client return.
  void Stop();

 private:
  class Reactor;
  std::unique_ptr<Reactor> reactor_;
};

}  // namespace lathe::http
