#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

#include "http/h2_session_callbacks.h"

namespace lathe::http {

namespace {

bool HasNoBody(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

// Connection-specific fields are forbidden in HTTP/2 (RFC 9113 8.2.2); the handler's names are
// lowercased as HTTP/2 requires, and CR, LF or NUL in a value (echoed request data) become spaces.
bool ForbiddenInHttp2(const std::string& name) {
  for (const char* forbidden : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    if (HeaderNameEquals(name, forbidden)) return true;
  }
  return name.empty() || name[0] == ':';
}

std::string Lowercase(const std::string& name) {
  std::string out = name;
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string Sanitized(const std::string& value) {
  std::string out = value;
  for (char& c : out) c = (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
  return out;
}

nghttp2_nv Field(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace


H2Session::H2Session(H2Host host, int fd, std::string remote_address)
    : host_(std::move(host)), fd_(fd), remote_address_(std::move(remote_address)) {}

H2Session::~H2Session() {
  for (auto& [id, s] : streams_) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->closed = true;
    }
    s->cv.notify_all();
    s->session = nullptr;
  }
  if (session_) nghttp2_session_del(session_);
}

Status H2Session::Receive(const char* data, size_t n) {
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
  if (rv < 0) return Status::InvalidArgument(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv)));
  return Status::Ok();
}

Status H2Session::Pull(std::string* out, size_t max_bytes) {
  while (out->size() < max_bytes) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return Status::Internal(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
    if (n == 0) break;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return Status::Ok();
}

bool H2Session::Finished() const {
  return !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
}

void H2Session::GoAway(uint32_t error_code) { nghttp2_session_terminate_session(session_, error_code); }

H2Stream* H2Session::Find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void H2Session::Forget(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  it->second->session = nullptr;
  streams_.erase(it);
}

void H2Session::EndBody(H2Stream* s) {
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->body_end = true;
  }
  s->cv.notify_all();
}

void H2Session::Dispatch(H2Stream* s) {
  if (s->dispatched) return;
  s->dispatched = true;
  if (s->refusal) return Answer(s, *s->refusal);
  if (s->request.method.empty() || s->request.target.empty() || s->request.target[0] != '/') {
    return Answer(s, TransportError::kBadRequest);  // CONNECT, or a form lathe does not serve
  }
  if (!s->authority.empty()) {
    // The JavaScript SDK signs ':authority' (SigV4 canonical header), others sign a Host they
    // derive from it: both are handed on.
    s->request.headers.push_back(Header{":authority", s->authority});
    if (!s->request.header("host")) s->request.headers.push_back(Header{"host", s->authority});
  }
  std::shared_ptr<H2Stream> stream = streams_[s->id];
  const Handler* handler = host_.handler;
  const ServerLimits* limits = host_.limits;
  if (!host_.submit([stream, handler, limits] { ServeH2Stream(stream, *handler, *limits); })) {
    Answer(s, TransportError::kBusy);
  }
}

void H2Session::Answer(H2Stream* s, TransportError error) {
  StringBodyReader no_body("");
  s->request.body = &no_body;
  Response response;
  try {
    (*host_.error_writer)(error, s->request, response);
  } catch (...) {
    response = Response{};
    WritePlainTransportError(error, s->request, response);
  }
  s->request.body = nullptr;
  std::fprintf(stderr, "http2: %s stream %d answered %d by the transport\n", remote_address_.c_str(), s->id,
               response.status);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->status = response.status;
    s->headers = std::move(response.headers);
    s->headers.push_back(Header{"content-length", std::to_string(response.body.size())});
    if (s->request.method != "HEAD") s->out = std::move(response.body);
    s->out_end = true;
    s->head_ready = true;
    s->worker_done = true;
  }
  s->discard_body = true;
  SubmitResponse(s);
}

void H2Session::SubmitResponse(H2Stream* s) {
  std::vector<std::string> text;  // storage the nghttp2_nv entries point into
  bool no_body;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    text.reserve(2 + 2 * s->headers.size());
    text.push_back(":status");
    text.push_back(std::to_string(s->status));
    for (const Header& h : s->headers) {
      if (ForbiddenInHttp2(h.name)) continue;
      text.push_back(Lowercase(h.name));
      text.push_back(Sanitized(h.value));
    }
    no_body = s->request.method == "HEAD" || HasNoBody(s->status);
  }
  std::vector<nghttp2_nv> fields;
  for (size_t i = 0; i + 1 < text.size(); i += 2) fields.push_back(Field(text[i], text[i + 1]));
  nghttp2_data_provider provider;
  provider.source.ptr = s;
  provider.read_callback = Callbacks::ReadBody;
  int rv = nghttp2_submit_response(session_, s->id, fields.data(), fields.size(), no_body ? nullptr : &provider);
  s->response_submitted = true;
  if (rv != 0) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
}

void H2Session::Acknowledge(H2Stream* s, uint64_t read) {
  if (s->protocol_closed || s->discard_body || read <= s->body_acknowledged) return;
  nghttp2_session_consume(session_, s->id, read - s->body_acknowledged);
  s->body_acknowledged = read;
}

void H2Session::OnPosted(H2Stream* s) {
  if (s->session != this) return;
  bool head_ready, failed, worker_done, deferred;
  uint64_t read;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    head_ready = s->head_ready;
    failed = s->failed;
    worker_done = s->worker_done;
    deferred = s->deferred;
    read = s->body_read;
  }
  if (s->protocol_closed) {
    if (worker_done) Forget(s->id);
    return;
  }
  Acknowledge(s, read);
  if (failed) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
  } else if (head_ready && !s->response_submitted) {
    SubmitResponse(s);
  } else if (s->response_submitted && deferred) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->deferred = false;
    }
    nghttp2_session_resume_data(session_, s->id);
  }
  if (worker_done && !s->discard_body) {
    // The handler will read no more: drop what is buffered and let the client's window reopen.
    s->discard_body = true;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      std::string().swap(s->body_in);
    }
    if (s->body_received > s->body_acknowledged) {
      nghttp2_session_consume(session_, s->id, s->body_received - s->body_acknowledged);
      s->body_acknowledged = s->body_received;
    }
  }
}

Clock::time_point H2Session::Deadline(bool output_pending, Clock::time_point idle_since) const {
  const ServerLimits& limits = *host_.limits;
  const auto write_deadline = idle_since + std::chrono::milliseconds(limits.response_write_timeout_ms);
  if (output_pending) return write_deadline;
  if (streams_.empty()) return idle_since + std::chrono::milliseconds(limits.keep_alive_idle_ms);
  Clock::time_point deadline = Clock::time_point::max();
  for (const auto& [id, s] : streams_) {
    if (!s->dispatched) {
      deadline = std::min(deadline, s->opened + std::chrono::milliseconds(limits.header_timeout_ms));
    } else if (s->response_submitted && !s->protocol_closed) {
      std::lock_guard<std::mutex> lock(s->mu);
      // Response bytes ready but not sendable: the client's flow-control window stays shut.
      if (!s->deferred && s->out.size() > s->out_pos) deadline = std::min(deadline, write_deadline);
    }
  }
  return deadline;
}

}  // namespace lathe::http
