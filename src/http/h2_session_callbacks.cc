// H2Session's side facing nghttp2: the C callbacks through which the library reports frames,
// header fields, DATA and stream ends, the data source that sends a stream's response body, and
// the session's creation with lathe's settings and bounds.
#include "http/h2_session_callbacks.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace lathe::http {

namespace {

// nghttp2's own bound on RST_STREAM floods ("rapid reset", CVE-2023-44487): a burst of this many,
// then this many per second; past it the connection gets GOAWAY.
constexpr uint64_t kResetBurst = 200;
constexpr uint64_t kResetsPerSecond = 50;

H2Session* Self(void* user_data) { return static_cast<H2Session*>(user_data); }

}  // namespace

// The C callbacks: each finds the session (user_data) and the stream (by id) and forwards.
int H2Session::Callbacks::BeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
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

int H2Session::Callbacks::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
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

int H2Session::Callbacks::FrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
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

int H2Session::Callbacks::DataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                                    size_t len, void* user_data) {
  H2Stream* s = Self(user_data)->Find(stream_id);
  if (!s || s->discard_body) {
    nghttp2_session_consume(session, stream_id, len);  // nobody reads it: reopen the window now
    if (s) {
      s->body_received += len;
      s->body_acknowledged += len;
    }
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

int H2Session::Callbacks::StreamClosed(nghttp2_session* session, int32_t stream_id, uint32_t, void* user_data) {
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
int H2Session::Callbacks::FrameSent(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    // nghttp2 ended a misbehaving connection itself (a reset or control-frame flood, a protocol error).
    std::fprintf(stderr, "http2: %s: GOAWAY %s sent; the connection ends\n", Self(user_data)->remote_address_.c_str(),
                 nghttp2_http2_strerror(frame->goaway.error_code));
    return 0;
  }
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

ssize_t H2Session::Callbacks::ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
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
  const uint32_t header_list = static_cast<uint32_t>(std::min<size_t>(host_.limits->max_header_bytes, UINT32_MAX));
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

}  // namespace lathe::http
