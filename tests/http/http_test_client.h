// A small blocking HTTP/1.1 client over a loopback socket, and a Server running on a thread:
// what the server tests drive real connections with.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/message.h"
#include "http/server.h"

namespace lathe::http::testing {

struct ParsedResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  const std::string* header(std::string_view name) const {
    for (const Header& h : headers) {
      if (HeaderNameEquals(h.name, name)) return &h.value;
    }
    return nullptr;
  }
};

class TestClient {
 public:
  explicit TestClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{10, 0};  // no test waits forever on a broken server
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~TestClient() { Close(); }
  TestClient(const TestClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `text` has arrived; returns everything read up to and including it.
  std::optional<std::string> ReadUntil(std::string_view text) {
    while (true) {
      size_t at = buffer_.find(text);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at + text.size());
        buffer_.erase(0, at + text.size());
        return out;
      }
      if (!Fill()) return std::nullopt;
    }
  }

  // One response; `head_request`: the response to a HEAD carries no body.
  std::optional<ParsedResponse> ReadResponse(bool head_request = false) {
    auto head = ReadUntil("\r\n\r\n");
    if (!head) return std::nullopt;
    ParsedResponse r;
    size_t line_end = head->find("\r\n");
    std::string status_line = head->substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < head->size() - 2) {
      size_t end = head->find("\r\n", pos);
      std::string line = head->substr(pos, end - pos);
      size_t colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.push_back({line.substr(0, colon), value});
      pos = end + 2;
    }
    if (head_request || r.status == 100 || r.status == 204 || r.status == 304) return r;
    if (const std::string* te = r.header("Transfer-Encoding")) {
      if (*te != "chunked") return std::nullopt;
      while (true) {
        auto size_line = ReadUntil("\r\n");
        if (!size_line) return std::nullopt;
        size_t size = std::stoul(*size_line, nullptr, 16);
        if (!ReadExactly(size + 2, &r.body)) return std::nullopt;
        r.body.resize(r.body.size() - 2);  // the chunk's CRLF
        if (size == 0) return r;
      }
    }
    if (const std::string* length = r.header("Content-Length")) {
      if (!ReadExactly(std::stoul(*length), &r.body)) return std::nullopt;
      return r;
    }
    while (Fill()) {}  // delimited by close
    r.body += buffer_;
    buffer_.clear();
    return r;
  }

  // True when the server closed the connection (EOF or reset) within the receive timeout, after
  // any bytes still in flight.
  bool ServerClosed() {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool Fill() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  bool ReadExactly(size_t n, std::string* out) {
    while (buffer_.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buffer_, 0, n);
    buffer_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// A Server listening on an ephemeral loopback port, running on its own thread.
class RunningServer {
 public:
  RunningServer(ServerLimits limits, Handler handler,
                TransportErrorWriter error_writer = WritePlainTransportError)
      : server_(std::make_unique<Server>(limits, std::move(handler), std::move(error_writer))) {
    Status listening = server_->Listen("127.0.0.1", 0);
    EXPECT_TRUE(listening.ok()) << listening.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~RunningServer() { StopAndJoin(); }
  int port() const { return server_->port(); }
  Server& server() { return *server_; }
  void StopAndJoin() {
    server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace lathe::http::testing
