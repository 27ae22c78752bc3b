#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

namespace lathe::http {

namespace {

// nghttp2's own bound on RST_STREAM floods ("rapid reset", CVE-2023-44487): a burst of this many,
// then this many per second; past it the connection gets GOAWAY.
constexpr uint64_t kResetBurst = 200;
constexpr uint64_t kResetsPerSecond = 50;

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

H2Session* Self(void* user_data) { return static_cast<H2Session*>(user_data); }

}  // namespace

// The C callbacks: each finds the session (user_data) and the stream (by id) and forwards.
struct H2Session::Callbacks {
  static int BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Session* self = Self(user_data);
    if (self->streams_.size() >= kMaxStreams) {
      // Streams still held by workers count: resetting a stream does not free its slot early.
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    auto stream = std::make_shared<H2Stream>(frame->hd.stream_id, self->host_.mailbox);
    stream->session = self;
    stream->opened = Clock::now();
    stream->request.remote_address = self->remote_address_;
    self->streams_[stream->id] = stream;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user_data) {
    H2Session* self = Self(user_data);
    H2Stream* s = self->Find(frame->hd.stream_id);
    if (!s || s->dispatched || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers are dropped
    const ServerLimits& limits = *self->host_.limits;
    s->header_bytes += namelen + valuelen + 32;
    ++s->header_count;
    if (s->header_bytes > limits.max_header_bytes || s->header_count > limits.max_header_count) {
      s->refusal = TransportError::kHeadersTooLarge;  // the rest of the block is decoded, not kept
    }
    if (s->refusal) return 0;
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") {
      s->request.method = std::move(v);
    } else if (n == ":path") {
      if (v.size() > limits.max_request_line_bytes) s->refusal = TransportError::kUriTooLong;
      s->request.target = std::move(v);
    } else if (n == ":authority") {
      s->authority = std::move(v);
    } else if (n[0] != ':') {
      s->request.headers.push_back(Header{std::move(n), std::move(v)});
    }
    return 0;
  }

  static int FrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    H2Session* self = Self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    H2Stream* s = self->Find(frame->hd.stream_id);
    if (!s) return 0;
    const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (end_stream) self->EndBody(s);
      self->Dispatch(s);
    } else if (end_stream) {
      self->EndBody(s);
    }
    return 0;
  }

  static int DataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                       void* user_data) {
    H2Stream* s = Self(user_data)->Find(stream_id);
    if (!s || s->discard_body) {
      nghttp2_session_consume(session, stream_id, len);  // nobody reads it: reopen the window now
      if (s) s->body_received += len, s->body_acknowledged += len;
      return 0;
    }
    s->body_received += len;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->body_in.append(reinterpret_cast<const char*>(data), len);
    }
    s->cv.notify_all();
    return 0;
  }

  static int StreamClosed(nghttp2_session* session, int32_t stream_id, uint32_t, void* user_data) {
    H2Session* self = Self(user_data);
    H2Stream* s = self->Find(stream_id);
    if (!s) return 0;
    s->protocol_closed = true;
    // What arrived but was never read still counts against the connection's window.
    if (s->body_received > s->body_acknowledged) {
      nghttp2_session_consume_connection(session, s->body_received - s->body_acknowledged);
      s->body_acknowledged = s->body_received;
    }
    bool worker_done;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->closed = true;
      worker_done = s->worker_done;
    }
    s->cv.notify_all();
    if (!s->dispatched || worker_done) self->Forget(stream_id);
    return 0;
  }

  // A response ended while the client still sends its body, which no handler reads any more:
  // RST_STREAM NO_ERROR tells it to stop (RFC 9113 8.1), so the stream does not linger.
  static int FrameSent(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      return 0;
    }
    H2Stream* s = Self(user_data)->Find(frame->hd.stream_id);
    if (!s) return 0;
    bool body_end;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      body_end = s->body_end;
    }
    if (!body_end) nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    return 0;
  }

  // Sends what the worker has produced; defers (resumed by OnPosted) when it has not yet.
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2Stream*>(source->ptr);
    size_t k;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      const size_t available = s->out.size() - s->out_pos;
      if (available == 0 && !s->out_end) {
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      k = std::min(length, available);
      std::memcpy(buf, s->out.data() + s->out_pos, k);
      s->out_pos += k;
      if (s->out_pos == s->out.size()) {
        s->out.clear();
        s->out_pos = 0;
        if (s->out_end) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      }
    }
    s->cv.notify_all();  // room in the buffer for the worker's next chunk
    return static_cast<ssize_t>(k);
  }
};

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

Status H2Session::Start() {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::BeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::FrameReceived);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::DataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::StreamClosed);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, Callbacks::FrameSent);
  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  nghttp2_option_set_no_auto_window_update(options, 1);  // the window reopens as handlers read
  nghttp2_option_set_stream_reset_rate_limit(options, kResetBurst, kResetsPerSecond);
  int rv = nghttp2_session_server_new2(&session_, callbacks, this, options);
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return Status::Internal(std::string("HTTP/2 session: ") + nghttp2_strerror(rv));
  const uint32_t header_list = static_cast<uint32_t>(
      std::min<size_t>(host_.limits->max_header_bytes, UINT32_MAX));
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, header_list},
  };
  rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, sizeof(settings) / sizeof(settings[0]));
  if (rv == 0) rv = nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  if (rv != 0) return Status::Internal(std::string("HTTP/2 settings: ") + nghttp2_strerror(rv));
  return Status::Ok();
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
