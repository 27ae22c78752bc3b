#include "http/h2_stream.h"

#include "http/exchange.h"
#include "http/response_writer.h"

#include <algorithm>
#include <cstring>
#include <exception>

namespace lathe::http {

namespace {
// The handler's reads are reported for a WINDOW_UPDATE in pieces of this much (or when the
// buffer runs dry), so that a byte-at-a-time reader does not wake the reactor per byte.
constexpr uint64_t kReportBytes = 16384;

bool HasNoBody(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }
}  // namespace

void H2Mailbox::Post(std::shared_ptr<H2Stream> stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(stream));
  }
  wake_();
}

std::vector<std::shared_ptr<H2Stream>> H2Mailbox::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<H2Stream>> out;
  out.swap(posted_);
  return out;
}

Result<size_t> H2BodyReader::Read(char* buf, size_t n) {
  if (n == 0) return size_t{0};
  H2Stream& s = *stream_;
  std::unique_lock<std::mutex> lock(s.mu);
  const auto deadline = Clock::now() + std::chrono::milliseconds(idle_timeout_ms_);
  while (s.body_in.empty() && !s.body_end && !s.closed) {
    if (s.cv.wait_until(lock, deadline) == std::cv_status::timeout && s.body_in.empty() && !s.body_end &&
        !s.closed) {
      return Status::IOError("no byte of the request body arrived for " + std::to_string(idle_timeout_ms_) +
                             " ms");
    }
  }
  if (s.body_in.empty()) {
    if (s.body_end) return size_t{0};
    return Status::IOError("the client reset the stream after " + std::to_string(s.body_read) +
                           " bytes of the request body");
  }
  size_t k = std::min(n, s.body_in.size());
  std::memcpy(buf, s.body_in.data(), k);
  s.body_in.erase(0, k);
  s.body_read += k;
  unreported_ += k;
  const bool report = unreported_ >= kReportBytes || s.body_in.empty();
  lock.unlock();
  if (report) {
    unreported_ = 0;
    s.Post();  // the reactor reopens the window by what was read
  }
  return k;
}

namespace {

// Appends one chunk of a body_stream to the stream's output, waiting while the reactor has more
// than kMaxBufferedResponse unsent. False when the stream is gone or the client reads nothing.
Status Enqueue(H2Stream& s, std::string* chunk, bool last, int write_timeout_ms) {
  std::unique_lock<std::mutex> lock(s.mu);
  const auto deadline = Clock::now() + std::chrono::milliseconds(write_timeout_ms);
  while (!s.closed && s.out.size() - s.out_pos >= H2Stream::kMaxBufferedResponse) {
    if (s.cv.wait_until(lock, deadline) == std::cv_status::timeout && !s.closed &&
        s.out.size() - s.out_pos >= H2Stream::kMaxBufferedResponse) {
      return Status::IOError("the client read nothing of the response for " + std::to_string(write_timeout_ms) +
                             " ms");
    }
  }
  if (s.closed) return Status::IOError("the client reset the stream during the response");
  if (s.out_pos > 0) {
    s.out.erase(0, s.out_pos);
    s.out_pos = 0;
  }
  s.out += *chunk;
  s.out_end = last;
  return Status::Ok();
}

Status StreamBody(H2Stream& s, Response& response, int write_timeout_ms) {
  uint64_t sent = 0;
  std::string chunk;
  while (true) {
    chunk.clear();
    Result<bool> more = NextChunk(response, &chunk, &sent);
    if (!more.ok()) return more.status();
    LATHE_RETURN_IF_ERROR(Enqueue(s, &chunk, !*more, write_timeout_ms));
    s.Post();  // each chunk goes out as soon as it is produced (event streams need it promptly)
    if (!*more) return Status::Ok();
  }
}

}  // namespace

void ServeH2Stream(const std::shared_ptr<H2Stream>& stream, const Handler& handler, const ServerLimits& limits) {
  H2Stream& s = *stream;
  Request& request = s.request;
  int64_t declared = -1;
  if (const std::string* length = request.header("content-length")) {
    char* end = nullptr;
    long long v = std::strtoll(length->c_str(), &end, 10);
    if (end && *end == '\0' && !length->empty() && v >= 0) declared = v;
  }
  H2BodyReader body(stream, limits.body_idle_timeout_ms, declared);
  request.body = &body;
  Response response = CallHandler(handler, request);
  const bool no_body = request.method == "HEAD" || HasNoBody(response.status);
  const bool streamed = response.body_stream && !no_body;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.status = response.status;
    s.headers = std::move(response.headers);
    // The length is the server's to state, from what it sends.
    s.headers.erase(std::remove_if(s.headers.begin(), s.headers.end(),
                                   [](const Header& h) { return HeaderNameEquals(h.name, "content-length"); }),
                    s.headers.end());
    if (!HasNoBody(response.status)) {
      int64_t length = response.body_stream ? response.stream_length : static_cast<int64_t>(response.body.size());
      if (length >= 0) s.headers.push_back(Header{"content-length", std::to_string(length)});
    }
    if (!streamed) {
      if (!no_body) s.out = std::move(response.body);
      s.out_end = true;
    }
    s.head_ready = true;
  }
  s.Post();
  if (streamed) {
    Status status = StreamBody(s, response, limits.response_write_timeout_ms);
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(s.mu);
      s.failed = true;
    }
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.worker_done = true;
  }
  s.Post();
}

}  // namespace lathe::http
