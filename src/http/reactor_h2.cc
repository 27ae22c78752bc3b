// The reactor's HTTP/2 side: a connection whose first bytes are the HTTP/2 connection preface
// (h2c with prior knowledge) stays on the reactor for its whole life; the H2Session decodes its
// frames, and each request stream runs on a worker. All nghttp2 calls happen on this thread.
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>

#include "http/h2_session.h"
#include "http/reactor.h"

namespace lathe::http {

namespace {
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kPullBytes = 64 * 1024;
// Reads per readiness event, so that one busy connection cannot starve the others.
constexpr int kReadsPerEvent = 8;
}  // namespace

bool Reactor::DetectHttp2(Connection* c) {
  std::string_view data = c->buffered();
  const size_t n = std::min(data.size(), kPreface.size());
  if (data.substr(0, n) != kPreface.substr(0, n)) {
    c->fresh = false;  // HTTP/1.1
    return false;
  }
  if (n < kPreface.size()) return true;  // the header timeout still runs
  StartHttp2(c);
  return true;
}

void Reactor::StartHttp2(Connection* c) {
  c->fresh = false;
  c->state = Connection::State::kHttp2;
  H2Host host{&limits_, &handler_, &error_writer_,
              [this](std::function<void()> task) { return workers_->SubmitTask(std::move(task)); },
              h2_mailbox_.get()};
  c->h2 = std::make_unique<H2Session>(std::move(host), c->fd, c->remote_address);
  c->last_progress = Clock::now();
  Status started = c->h2->Start();
  std::string_view data = c->buffered();
  if (started.ok()) started = c->h2->Receive(data.data(), data.size());
  c->Consume(data.size());
  if (!started.ok()) {
    std::fprintf(stderr, "http2: %s: %s\n", c->remote_address.c_str(), started.message().c_str());
    return Close(c);
  }
  FlushHttp2(c);
}

void Reactor::OnHttp2Event(Connection* c, uint32_t events) {
  if (events & EPOLLIN) {
    for (int i = 0; i < kReadsPerEvent; ++i) {
      ssize_t n = c->transport().Recv(read_buffer_.data(), read_buffer_.size());
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return Close(c);
      c->last_progress = Clock::now();
      Status received = c->h2->Receive(read_buffer_.data(), static_cast<size_t>(n));
      if (!received.ok()) {
        // A broken or hostile peer (bad preface, flood): nghttp2 queued a GOAWAY if it could.
        std::fprintf(stderr, "http2: %s: %s; closing\n", c->remote_address.c_str(), received.message().c_str());
        std::string goaway;
        (void)c->h2->Pull(&goaway, kPullBytes);
        (void)c->transport().Send(goaway.data(), goaway.size());
        return Close(c);
      }
      if (static_cast<size_t>(n) < read_buffer_.size() && !c->transport().HasPendingInput()) break;
    }
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    return Close(c);
  }
  FlushHttp2(c);
}

void Reactor::FlushHttp2(Connection* c) {
  while (true) {
    while (c->out_pos < c->out.size()) {
      ssize_t n = c->transport().Send(c->out.data() + c->out_pos, c->out.size() - c->out_pos);
      if (n > 0) {
        c->out_pos += static_cast<size_t>(n);
        c->last_progress = Clock::now();
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // The client reads slowly: stop pulling frames (and so producing data) until it catches up.
        Watch(c, EPOLLIN | EPOLLOUT);
        SetDeadline(c, c->h2->Deadline(true, c->last_progress));
        return;
      } else {
        return Close(c);
      }
    }
    c->out.clear();
    c->out_pos = 0;
    Status pulled = c->h2->Pull(&c->out, kPullBytes);
    if (!pulled.ok()) return Close(c);
    if (c->out.empty()) break;
  }
  if (c->h2->Finished() || stopping_) return Close(c);
  Watch(c, EPOLLIN);
  SetDeadline(c, c->h2->Deadline(false, c->last_progress));
}

void Reactor::CloseHttp2(Connection* c, bool timed_out) {
  c->h2->GoAway(NGHTTP2_NO_ERROR);
  std::string goaway;
  if (c->out_pos >= c->out.size() && c->h2->Pull(&goaway, kPullBytes).ok()) {
    (void)c->transport().Send(goaway.data(), goaway.size());  // a full socket drops it: fine
  }
  if (timed_out && c->h2->stream_count() > 0) {  // an idle connection's end is routine: not logged
    std::fprintf(stderr, "http2: %s: %zu streams stalled (headers, or a client reading nothing); closed\n",
                 c->remote_address.c_str(), c->h2->stream_count());
  }
  Close(c);
}

void Reactor::TakePostedStreams() {
  if (!h2_mailbox_) return;
  std::vector<int> touched;  // fds, not pointers: a flush may close a connection
  for (const std::shared_ptr<H2Stream>& stream : h2_mailbox_->Take()) {
    H2Session* session = stream->session;
    if (!session) continue;  // its connection is gone
    session->OnPosted(stream.get());
    touched.push_back(session->fd());
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (int fd : touched) {
    auto it = connections_.find(fd);
    if (it != connections_.end() && it->second->state == Connection::State::kHttp2) FlushHttp2(it->second.get());
  }
}

}  // namespace lathe::http
