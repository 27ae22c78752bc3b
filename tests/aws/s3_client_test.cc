// The S3 client against an endpoint that misbehaves, over a real loopback socket (a thread that
// speaks just enough HTTP/1.1): what S3Client does must not depend on the other side being sane.
#include "aws/s3_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "test_util.h"

namespace lathe::aws {
namespace {

// Accepts one connection, reads the request head, then answers 500 with a chunked body that never
// ends (until the client hangs up).
class EndlessErrorServer {
 public:
  EndlessErrorServer() {
    fd_ = lathe::testing::BindLoopback(&port_, /*listen=*/true);
    EXPECT_GE(fd_, 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~EndlessErrorServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  size_t bytes_sent() const { return sent_; }

 private:
  void Serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    std::string start = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
    ::send(c, start.data(), start.size(), MSG_NOSIGNAL);
    const std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
    // At most 64 MiB: without the client's bound this test fails instead of hanging.
    while (sent_ < (size_t{64} << 20)) {
      if (::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
      sent_ += chunk.size();
    }
    ::close(c);
  }
  int fd_ = -1, port_ = 0;
  std::atomic<size_t> sent_{0};
  std::thread thread_;
};

TEST(S3Client, AnErrorBodyThatNeverEndsIsCutAtItsBound) {
  EndlessErrorServer server;
  S3Endpoint endpoint;
  endpoint.url = "http://127.0.0.1:" + std::to_string(server.port());
  endpoint.region = "us-east-1";
  endpoint.credentials = api::Credentials{"AKID", "secret"};
  S3Client client(endpoint);
  lathe::testing::TempDir dir;
  Status s = client.GetObject("bucket", "key", dir.path() + "/out", 1 << 20, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.http_status(), 500) << s.ToString();
  // The client stopped reading soon after kMaxS3ErrorBody: far from the 64 MiB the server offers.
  EXPECT_LT(server.bytes_sent(), size_t{16} << 20) << s.ToString();
}

}  // namespace
}  // namespace lathe::aws
