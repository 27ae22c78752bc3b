#include "http/body_reader.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/socket_io.h"

namespace lathe::http {

namespace {
constexpr size_t kReceiveBytes = 65536;
constexpr auto kRateGrace = std::chrono::seconds(10);  // a body's first seconds are never too slow
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t MillisUntil(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
}
}  // namespace

Result<size_t> ConnectionBodyReader::Fail(Status status) {
  error_ = std::move(status);
  return error_;
}

Result<size_t> ConnectionBodyReader::Read(char* buf, size_t n) {
  if (!error_.ok()) return error_;
  RequestParser& parser = connection_->parser;
  if (parser.phase() == RequestParser::Phase::kComplete || n == 0) return size_t{0};
  if (parser.phase() != RequestParser::Phase::kBody) {
    return Fail(Status::Internal("the request body is read outside its request"));
  }
  if (!started_) {
    started_ = true;
    start_ = last_byte_ = Clock::now();
  }
  if (parser.expects_continue() && !continue_sent_) {
    continue_sent_ = true;
    Status sent = WriteAll(connection_->transport(), kContinue, limits_.response_write_timeout_ms);
    if (!sent.ok()) return Fail(sent);
  }
  while (true) {
    std::string_view buffered = connection_->buffered();
    if (!buffered.empty()) {
      size_t produced = 0;
      size_t used = parser.ConsumeBody(buffered.data(), buffered.size(), buf, n, &produced);
      connection_->Consume(used);
      if (parser.phase() == RequestParser::Phase::kFailed) {
        return Fail(Status::InvalidArgument(parser.error_message()));
      }
      if (produced > 0) return produced;
      if (parser.phase() == RequestParser::Phase::kComplete) return size_t{0};
      if (used == 0) return Fail(Status::Internal("the body parser made no progress"));
      continue;  // only chunk framing was consumed
    }
    Status more = ReceiveMore();
    if (!more.ok()) return Fail(more);
  }
}

Status ConnectionBodyReader::ReceiveMore() {
  const uint64_t received = connection_->parser.body_bytes();
  const auto idle = std::chrono::milliseconds(limits_.body_idle_timeout_ms);
  while (true) {
    Clock::time_point now = Clock::now();
    Clock::time_point idle_deadline = last_byte_ + idle;
    // The average rate falls under the minimum at start + received / rate (never before the grace).
    Clock::time_point rate_deadline = Clock::time_point::max();
    if (limits_.min_body_bytes_per_second > 0) {
      auto allowed = std::chrono::milliseconds(received * 1000 / limits_.min_body_bytes_per_second);
      rate_deadline = start_ + std::max<Clock::duration>(kRateGrace, allowed);
    }
    if (now >= idle_deadline) {
      return Status::IOError("no byte of the request body arrived for " +
                             std::to_string(limits_.body_idle_timeout_ms) + " ms");
    }
    if (now >= rate_deadline) {
      return Status::IOError("the request body arrived slower than " +
                             std::to_string(limits_.min_body_bytes_per_second) + " bytes/s");
    }
    int wait_ms = static_cast<int>(std::min(MillisUntil(std::min(idle_deadline, rate_deadline), now) + 1,
                                            int64_t{60000}));
    // TLS may hold decrypted bytes already: poll() would not report them.
    int ready = connection_->transport().HasPendingInput() ? 1 : WaitFor(connection_->fd, POLLIN, wait_ms);
    if (ready < 0) return Status::IOError("the client connection failed while sending the body");
    if (ready == 0) continue;
    long n = connection_->ReceiveMore(kReceiveBytes);
    if (n > 0) {
      last_byte_ = Clock::now();
      return Status::Ok();
    }
    if (n == 0) {
      return Status::IOError("the client closed the connection after " + std::to_string(received) +
                             " bytes of the request body");
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return Status::IOError(std::string("reading the request body failed: ") + std::strerror(errno));
  }
}

bool ConnectionBodyReader::Drain(size_t max_bytes) {
  char scratch[16384];
  size_t drained = 0;
  while (!finished() && !failed() && drained < max_bytes) {
    Result<size_t> n = Read(scratch, std::min(sizeof(scratch), max_bytes - drained));
    if (!n.ok() || *n == 0) break;
    drained += *n;
  }
  return finished();
}

}  // namespace lathe::http
