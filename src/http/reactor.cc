#include "http/reactor.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <openssl/ssl.h>

#include <cstdio>

#include "http/exchange.h"
#include "http/response_writer.h"
#include "http/socket_io.h"

namespace lathe::http {

namespace {
constexpr size_t kReadBytes = 65536;
// After our last answer on a connection the write side is shut and what the client still sends
// is read and dropped for a moment, so that its unread bytes do not turn our close into a reset
// that destroys the answer before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;
// Over-cap connections are answered 503 (over TLS after the handshake; one that negotiated HTTP/2
// is closed instead); beyond this many at once they are just closed.
constexpr size_t kMaxOverCapAnswers = 64;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
// Stop(): in-flight handlers get this long before their sockets are shut down under them.
constexpr auto kStopGrace = std::chrono::seconds(5);

ParserLimits ToParserLimits(const ServerLimits& l) {
  ParserLimits p;
  p.max_request_line_bytes = l.max_request_line_bytes;
  p.max_header_bytes = l.max_header_bytes;
  p.max_header_count = l.max_header_count;
  p.max_chunk_bytes = l.max_chunk_bytes;
  return p;
}

std::chrono::milliseconds Ms(int ms) { return std::chrono::milliseconds(ms); }
}  // namespace

Reactor::Reactor(ServerLimits limits, Handler handler, TransportErrorWriter error_writer)
    : limits_(limits),
      parser_limits_(ToParserLimits(limits)),
      handler_(std::move(handler)),
      error_writer_(error_writer ? std::move(error_writer) : TransportErrorWriter(WritePlainTransportError)),
      read_buffer_(kReadBytes) {}

Reactor::~Reactor() {
  workers_.reset();
  for (auto& [fd, c] : connections_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Reactor::Listen(const std::string& host, int port) {
  address_ = host + ":" + std::to_string(port);
  if (listen_fd_ >= 0) return Status::InvalidArgument("the server already listens on " + address_);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) return Status::InvalidArgument("cannot listen on " + address_ + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("cannot listen on " + address_ + ": " + std::strerror(errno));
  // SO_REUSEADDR lets a restarted server bind over connections in TIME_WAIT; it does not let two
  // servers listen on one port (SO_REUSEPORT would, silently: never set it).
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    ::close(fd);
    std::string why = std::strerror(err);
    if (err == EADDRINUSE) why += " (is another `lathe serve` running?)";
    return Status::IOError("cannot listen on " + address_ + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;

  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return Status::IOError(std::string("epoll: ") + std::strerror(errno));
  for (int watched : {listen_fd_, wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = watched;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, watched, &ev);
  }
  return Status::Ok();
}

void Reactor::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof(one));
}

void Reactor::Stop() {
  stopping_ = true;
  Wake();
}

void Reactor::Run() {
  if (listen_fd_ < 0 || stopping_) return;
  h2_mailbox_ = std::make_unique<H2Mailbox>([this] { Wake(); });
  workers_ = std::make_unique<WorkerPool>(
      limits_.worker_threads, limits_.max_queued_requests,
      [this](Connection* c) { return ServeExchange(c, limits_, handler_, stopping_); },
      [this] { Wake(); });
  std::vector<epoll_event> events(256);
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    Clock::time_point wake_at = next_deadline_;
    if (accept_paused_) wake_at = std::min(wake_at, accept_resume_);
    int timeout_ms = 1000;
    if (wake_at != Clock::time_point::max()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1;
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
    }
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n && !stopping_; ++i) OnEvent(events[i].data.fd, events[i].events);
    if (stopping_) break;
    now = Clock::now();
    if (now >= next_deadline_) ExpireDeadlines();
    if (accept_paused_ && now >= accept_resume_) {
      accept_paused_ = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listen_fd_;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    }
  }
  Shutdown();
}

void Reactor::OnEvent(int fd, uint32_t events) {
  if (fd == listen_fd_) return AcceptAll();
  if (fd == wake_fd_) {
    uint64_t count;
    (void)!::read(wake_fd_, &count, sizeof(count));
    TakePostedStreams();
    return TakeReturned();
  }
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection* c = it->second.get();
  switch (c->state) {
    case Connection::State::kReadingHead: return ReadHead(c);
    case Connection::State::kWriting: return ContinueWriting(c);
    case Connection::State::kLingering: return Linger(c);
    case Connection::State::kInWorker: return;
    case Connection::State::kHttp2: return OnHttp2Event(c, events);
    case Connection::State::kHandshake: return Handshake(c);
  }
}

void Reactor::AcceptAll() {
  while (true) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered epoll would report the pending connection forever: look away briefly.
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_ = true;
        accept_resume_ = Clock::now() + kAcceptRetry;
      }
      return;  // EAGAIN: all accepted
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::string remote = AddressText(address);
    auto per_client = per_client_.find(remote);
    bool over_cap = counted_ >= limits_.max_connections ||
                    (per_client != per_client_.end() && per_client->second >= limits_.max_connections_per_client);
    if (over_cap && uncounted_ >= kMaxOverCapAnswers) {
      ::close(fd);
      continue;
    }
    auto owned = std::make_unique<Connection>(fd, remote, parser_limits_);
    Connection* c = owned.get();
    connections_[fd] = std::move(owned);
    if (over_cap) {
      c->counted = false;
      ++uncounted_;
      // Over TLS the 503 needs the handshake first (never plaintext on a TLS port): Handshake
      // answers it then, within the same header timeout; at most kMaxOverCapAnswers at once.
      if (std::shared_ptr<TlsContext> tls = tls_.current()) {
        SetDeadline(c, Clock::now() + Ms(limits_.header_timeout_ms));
        StartHandshake(c, tls.get());
        continue;
      }
      Answer(c, TransportError::kBusy);
      continue;
    }
    ++counted_;
    ++per_client_[remote];
    SetDeadline(c, Clock::now() + Ms(limits_.header_timeout_ms));
    if (std::shared_ptr<TlsContext> tls = tls_.current()) {
      StartHandshake(c, tls.get());
      continue;
    }
    Watch(c, EPOLLIN);
  }
}

void Reactor::ReadHead(Connection* c) {
  ssize_t n = c->transport().Recv(read_buffer_.data(), read_buffer_.size());
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) return Close(c);  // the client left (mid-head or between requests): no one to answer
  c->in.append(read_buffer_.data(), static_cast<size_t>(n));
  // TLS may hold the rest of a record, which epoll cannot report.
  while (c->transport().HasPendingInput() && c->in.size() - c->in_pos <= limits_.max_header_bytes * 2) {
    n = c->transport().Recv(read_buffer_.data(), read_buffer_.size());
    if (n <= 0) break;
    c->in.append(read_buffer_.data(), static_cast<size_t>(n));
  }
  ParseBuffered(c);
}

void Reactor::ParseBuffered(Connection* c) {
  std::string_view data = c->buffered();
  if (data.empty()) return;
  if (c->fresh && DetectHttp2(c)) return;
  if (c->between_requests) {  // the next request begins: its head has header_timeout_ms
    c->between_requests = false;
    SetDeadline(c, Clock::now() + Ms(limits_.header_timeout_ms));
  }
  size_t used = c->parser.ConsumeHead(data.data(), data.size());
  c->Consume(used);
  switch (c->parser.phase()) {
    case RequestParser::Phase::kHead: return;  // more to come
    case RequestParser::Phase::kFailed: return Answer(c, c->parser.error());
    case RequestParser::Phase::kBody:
    case RequestParser::Phase::kComplete: return Dispatch(c);
  }
}

void Reactor::Dispatch(Connection* c) {
  Unwatch(c);
  c->state = Connection::State::kInWorker;
  if (!workers_->Submit(c)) {
    c->state = Connection::State::kReadingHead;
    Answer(c, TransportError::kBusy);
  }
}

void Reactor::Answer(Connection* c, TransportError error) {
  Request partial;
  partial.method = c->parser.method();
  partial.target = c->parser.target();
  partial.headers = c->parser.headers();
  partial.remote_address = c->remote_address;
  StringBodyReader no_body("");
  partial.body = &no_body;
  Response response;
  try {
    error_writer_(error, partial, response);
  } catch (...) {
    response = Response{};
    WritePlainTransportError(error, partial, response);
  }
  response.body_stream = nullptr;  // an answer of the reactor must fit in memory
  ResponseFraming framing;
  framing.close = true;
  framing.head_request = partial.method == "HEAD";
  framing.http_minor = 1;
  c->out = SerializeHead(response, framing);
  if (!framing.head_request) c->out += response.body;
  c->out_pos = 0;
  c->state = Connection::State::kWriting;
  SetDeadline(c, Clock::now() + Ms(limits_.response_write_timeout_ms));
  Watch(c, EPOLLOUT);
  ContinueWriting(c);
}

void Reactor::ContinueWriting(Connection* c) {
  while (c->out_pos < c->out.size()) {
    ssize_t n = c->transport().Send(c->out.data() + c->out_pos, c->out.size() - c->out_pos);
    if (n > 0) {
      c->out_pos += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;  // EPOLLOUT brings us back
    } else {
      return Close(c);
    }
  }
  std::string().swap(c->out);
  StartLingering(c);
}

void Reactor::StartLingering(Connection* c) {
  if (c->ssl) SSL_shutdown(c->ssl);  // close_notify, once, without waiting for the client's
  ::shutdown(c->fd, SHUT_WR);
  c->state = Connection::State::kLingering;
  c->lingered_bytes = 0;
  SetDeadline(c, Clock::now() + kLingerTime);
  Watch(c, EPOLLIN);
}

void Reactor::Linger(Connection* c) {
  while (true) {
    ssize_t n = ::recv(c->fd, read_buffer_.data(), read_buffer_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) return Close(c);
    c->lingered_bytes += static_cast<size_t>(n);
    if (c->lingered_bytes > kLingerBytes) return Close(c);
  }
}

void Reactor::Close(Connection* c) {
  Unwatch(c);
  ::close(c->fd);
  if (c->counted) {
    --counted_;
    auto it = per_client_.find(c->remote_address);
    if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
  } else {
    --uncounted_;
  }
  connections_.erase(c->fd);  // destroys c
}

void Reactor::TakeReturned() {
  for (Connection* c : workers_->TakeReturned()) {
    if (c->close_after_worker || stopping_) {
      StartLingering(c);
      continue;
    }
    c->parser.Reset();
    c->state = Connection::State::kReadingHead;
    c->between_requests = true;
    SetDeadline(c, Clock::now() + Ms(limits_.keep_alive_idle_ms));
    Watch(c, EPOLLIN);
    ParseBuffered(c);  // a pipelined request may be here already
  }
}

void Reactor::ExpireDeadlines() {
  Clock::time_point now = Clock::now();
  next_deadline_ = Clock::time_point::max();
  std::vector<Connection*> expired;
  for (auto& [fd, c] : connections_) {
    if (c->state == Connection::State::kInWorker) continue;
    if (c->deadline <= now) {
      expired.push_back(c.get());
    } else {
      next_deadline_ = std::min(next_deadline_, c->deadline);
    }
  }
  for (Connection* c : expired) {
    if (c->state == Connection::State::kHandshake) {
      std::fprintf(stderr, "tls: %s: the handshake did not complete within %d ms; closed\n",
                   c->remote_address.c_str(), limits_.header_timeout_ms);
    }
    if (c->state == Connection::State::kReadingHead && !c->between_requests) {
      Answer(c, TransportError::kTimeout);
    } else if (c->state == Connection::State::kHttp2) {
      CloseHttp2(c, /*timed_out=*/true);
    } else {
      Close(c);  // idle keep-alive, an answer the client would not read, or lingering done
    }
  }
}

void Reactor::Shutdown() {
  if (epoll_fd_ >= 0 && listen_fd_ >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  std::vector<Connection*> idle;
  for (auto& [fd, c] : connections_) {
    if (c->state != Connection::State::kInWorker) idle.push_back(c.get());
  }
  for (Connection* c : idle) {
    if (c->state == Connection::State::kHttp2) {
      CloseHttp2(c, /*timed_out=*/false);
    } else {
      Close(c);
    }
  }
  if (workers_) {
    for (Connection* c : workers_->TakeQueued()) Close(c);
    if (!workers_->WaitIdle(kStopGrace)) {
      // Handlers still blocked on their clients: shutting the sockets makes those reads and
      // writes fail at once.
      for (auto& [fd, c] : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    workers_->Join();
    for (Connection* c : workers_->TakeReturned()) Close(c);
  }
  while (!connections_.empty()) Close(connections_.begin()->second.get());
}

void Reactor::Watch(Connection* c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c->fd;
  ::epoll_ctl(epoll_fd_, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
  c->watched = true;
}

void Reactor::Unwatch(Connection* c) {
  if (c->watched) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  c->watched = false;
}

void Reactor::SetDeadline(Connection* c, Clock::time_point deadline) {
  c->deadline = deadline;
  next_deadline_ = std::min(next_deadline_, deadline);
}

}  // namespace lathe::http
