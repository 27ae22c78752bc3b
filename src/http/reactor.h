// The server's event loop: one thread, epoll, non-blocking sockets. It accepts, enforces the
// connection caps, reads every request head (bounded in bytes and time), answers transport
// errors itself, and hands complete heads to the WorkerPool.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/connection.h"
#include "http/h2_stream.h"
#include "http/message.h"
#include "http/server.h"
#include "http/tls.h"
#include "http/worker_pool.h"

namespace lathe::http {

class Reactor {
 public:
  Reactor(ServerLimits limits, Handler handler, TransportErrorWriter error_writer);
  ~Reactor();

  Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  void Run();
  void Stop();
  TlsConfig& tls() { return tls_; }

 private:
  void AcceptAll();
  void OnEvent(int fd, uint32_t events);
  void ReadHead(Connection* c);
  void ParseBuffered(Connection* c);
  void Dispatch(Connection* c);
  void Answer(Connection* c, TransportError error);
  void ContinueWriting(Connection* c);
  void StartLingering(Connection* c);
  void Linger(Connection* c);
  void Close(Connection* c);
  void TakeReturned();
  void ExpireDeadlines();
  void Shutdown();
  void Watch(Connection* c, uint32_t events);
  void Unwatch(Connection* c);
  void SetDeadline(Connection* c, Clock::time_point deadline);
  void Wake();
  // HTTP/2 (reactor_h2.cc): a connection that opens with the preface is served by an H2Session.
  bool DetectHttp2(Connection* c);  // true: handled (switched, or waiting for the rest of the preface)
  void StartHttp2(Connection* c);
  void OnHttp2Event(Connection* c, uint32_t events);
  void FlushHttp2(Connection* c);
  // Sends GOAWAY (best effort, without waiting) and closes: a timeout, or the server stopping.
  void CloseHttp2(Connection* c, bool timed_out);
  void TakePostedStreams();
  // TLS (reactor_tls.cc): a non-blocking handshake, then HTTP/2 (ALPN "h2") or HTTP/1.1.
  void StartHandshake(Connection* c, TlsContext* tls);
  void Handshake(Connection* c);

  const ServerLimits limits_;
  const ParserLimits parser_limits_;
  const Handler handler_;
  const TransportErrorWriter error_writer_;
  TlsConfig tls_;  // no context: plain TCP
  std::string address_;  // "host:port", for messages
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_client_;
  size_t counted_ = 0;    // connections under the caps
  size_t uncounted_ = 0;  // over-cap connections being answered 503
  Clock::time_point next_deadline_ = Clock::time_point::max();
  bool accept_paused_ = false;  // out of file descriptors: retry accept later
  Clock::time_point accept_resume_;
  std::unique_ptr<H2Mailbox> h2_mailbox_;
  std::unique_ptr<WorkerPool> workers_;
  std::vector<char> read_buffer_;
};

}  // namespace lathe::http
