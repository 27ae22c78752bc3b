// A small HTTP/2 client for the server tests: an nghttp2 client session over a blocking loopback
// socket (h2c with prior knowledge), several streams at once, request bodies, and raw frames
// for the hostile cases.
#pragma once

#include <nghttp2/nghttp2.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http_test_client.h"

namespace lathe::http::testing {

struct H2Result {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  bool closed = false;
  uint32_t error_code = 0;  // RST_STREAM's, or NO_ERROR
  size_t data_frames = 0;
};

class H2TestClient {
 public:
  explicit H2TestClient(int port, bool send_preface = true) : socket_(port) {
    int one = 1;  // small frames (WINDOW_UPDATE) go out at once, as real clients send them
    ::setsockopt(socket_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, OnClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, OnFrame);
    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    nghttp2_option_set_max_send_header_block_length(opt, 1 << 22);  // the oversize tests exceed 64 KiB
    nghttp2_session_client_new2(&session_, cb, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (send_preface) nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2TestClient() { nghttp2_session_del(session_); }

  TestClient& socket() { return socket_; }
  nghttp2_session* session() { return session_; }
  bool goaway() const { return goaway_; }

  // Queues a request; the body (if any) is sent from `bodies_` as flow control allows.
  int32_t Submit(const std::string& method, const std::string& path, std::vector<Header> headers = {},
                 const std::string* body = nullptr, bool end_stream = true) {
    std::vector<std::string> text = {":method", method, ":path", path, ":scheme", "http", ":authority", "test"};
    for (const Header& h : headers) {
      text.push_back(h.name);
      text.push_back(h.value);
    }
    std::vector<nghttp2_nv> nva;
    for (size_t i = 0; i < text.size(); i += 2) {
      nva.push_back({reinterpret_cast<uint8_t*>(text[i].data()), reinterpret_cast<uint8_t*>(text[i + 1].data()),
                     text[i].size(), text[i + 1].size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider;
    provider.read_callback = ReadBody;
    int32_t id;
    if (body) {
      auto* pending = new Pending{*body, 0};
      provider.source.ptr = pending;
      id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
      if (id > 0) owned_[id].reset(pending); else delete pending;
    } else if (!end_stream) {  // HEADERS that promise a body never sent
      id = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, -1, nullptr, nva.data(), nva.size(), nullptr);
    } else {
      id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), nullptr, nullptr);
    }
    if (id > 0) results_[id];
    return id;
  }

  // Sends what is queued; false when the socket failed.
  bool Flush() {
    while (true) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      if (!socket_.Send(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)))) return false;
    }
  }

  // Exchanges frames until `done` holds, the server closes, or `timeout` passes. True when done.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (!Flush()) {
        server_closed_ = true;  // the server closed first: our write failed
        return done();
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{socket_.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200))) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(socket_.fd(), buf, sizeof(buf), 0);
      if (n <= 0) {
        server_closed_ = true;
        return done();
      }
      if (nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n)) < 0) {
        return false;
      }
    }
    return Flush();
  }

  bool AllClosed() const {
    for (const auto& [id, r] : results_) {
      if (!r.closed) return false;
    }
    return true;
  }
  bool server_closed() const { return server_closed_; }
  // How much of a stream's request body nghttp2 has taken to send (flow control allowing).
  size_t body_sent(int32_t id) const {
    auto it = owned_.find(id);
    return it == owned_.end() ? 0 : it->second->pos;
  }
  const H2Result& result(int32_t id) { return results_[id]; }

 private:
  struct Pending {
    std::string data;
    size_t pos;
  };
  static H2TestClient* Self(void* p) { return static_cast<H2TestClient*>(p); }
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* p = static_cast<Pending*>(source->ptr);
    size_t k = std::min(length, p->data.size() - p->pos);
    std::memcpy(buf, p->data.data() + p->pos, k);
    p->pos += k;
    if (p->pos == p->data.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(k);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    H2Result& r = Self(user)->results_[frame->hd.stream_id];
    std::string n(reinterpret_cast<const char*>(name), namelen), v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") r.status = std::stoi(v); else r.headers.push_back({n, v});
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    H2Result& r = Self(user)->results_[id];
    r.body.append(reinterpret_cast<const char*>(data), len);
    ++r.data_frames;
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    H2Result& r = Self(user)->results_[id];
    r.closed = true;
    r.error_code = error_code;
    return 0;
  }
  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_GOAWAY) Self(user)->goaway_ = true;
    return 0;
  }

  TestClient socket_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, H2Result> results_;
  std::map<int32_t, std::unique_ptr<Pending>> owned_;
  bool server_closed_ = false;
  bool goaway_ = false;
};

}  // namespace lathe::http::testing
