// The reactor's TLS side: the handshake runs on the reactor, non-blocking, bounded by
// header_timeout_ms (ExpireDeadlines closes a stalled one), so a client that stalls it holds a
// timer and a few KiB, never a thread. ALPN then decides: "h2" goes to an H2Session, anything
// else is HTTP/1.1 through the same code as plain TCP (Connection::transport()).
#include <openssl/ssl.h>
#include <sys/epoll.h>

#include <cstdio>

#include "http/reactor.h"

namespace lathe::http {

void Reactor::StartHandshake(Connection* c, TlsContext* tls) {
  c->ssl = NewServerSsl(tls, c->fd);
  if (!c->ssl) return Close(c);
  c->state = Connection::State::kHandshake;
  Watch(c, EPOLLIN);
}

void Reactor::Handshake(Connection* c) {
  bool wants_write = false;
  std::string error;
  int done = ContinueHandshake(c->ssl, &wants_write, &error);
  if (done < 0) {
    std::fprintf(stderr, "tls: %s: handshake failed: %s\n", c->remote_address.c_str(), error.c_str());
    return Close(c);
  }
  if (done == 0) return Watch(c, wants_write ? EPOLLOUT : EPOLLIN);
  if (!c->counted) {  // accepted over the connection caps: told so, now that it can be said
    if (NegotiatedHttp2(c->ssl)) return Close(c);
    c->state = Connection::State::kReadingHead;
    return Answer(c, TransportError::kBusy);
  }
  if (NegotiatedHttp2(c->ssl)) {
    Watch(c, EPOLLIN);
    return StartHttp2(c);
  }
  c->state = Connection::State::kReadingHead;  // the header timeout keeps running from accept
  Watch(c, EPOLLIN);
  if (c->transport().HasPendingInput()) ReadHead(c);
}

}  // namespace lathe::http
