// TLS on the real server over loopback, with OpenSSL as the client: the self-signed CA verifies
// the certificate, ALPN picks h2 or http/1.1, HTTP/1.1 runs over TLS, a stalled handshake is
// closed by the reactor's timer while others are served, and a reload with broken files keeps
// the certificate that works.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include <csignal>

#include <cstring>

#include "http/tls_self_signed.h"
#include "http_test_client.h"
#include "test_util.h"

namespace lathe::http {
namespace {

using testing::RunningServer;
using testing::TestClient;

// An OpenSSL client on a connected TestClient's socket, trusting only `ca`.
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca, const char* alpn) : socket_(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, socket_.fd());
    SSL_set1_host(ssl_, "127.0.0.1");
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    if (alpn) SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn), std::strlen(alpn));
    connected_ = SSL_connect(ssl_) == 1;
    if (!connected_) ERR_print_errors_fp(stderr);
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  bool connected() const { return connected_; }
  void Send(const std::string& data) { SSL_write(ssl_, data.data(), static_cast<int>(data.size())); }
  // Closes with a reset (SO_LINGER 0): the server's next write fails with EPIPE / ECONNRESET.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(socket_.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    socket_.Close();
  }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl_, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // Sends `request`, reads until the server closes (the request asks it to).
  std::string Exchange(const std::string& request) {
    SSL_write(ssl_, request.data(), static_cast<int>(request.size()));
    std::string out;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl_, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  TestClient socket_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
};

Handler Echo() {
  return [](Request& request, Response& response) {
    Result<std::string> body = ReadBody(request.body, 1 << 20);
    response.body = request.method + " " + request.target + " " + (body.ok() ? *body : "?");
  };
}

TEST(TlsServerTest, SelfSignedCaVerifiesAndAlpnPicksTheProtocol) {
  lathe::testing::TempDir dir;
  auto files = MakeSelfSigned(dir.path() + "/tls", "127.0.0.1");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ServerLimits limits;
  RunningServer server(limits, Echo());
  // Run() started already: enabling TLS now applies to connections accepted from now on.
  ASSERT_TRUE(server.server().EnableTls(files->cert, files->key).ok());

  TlsClient h1(server.port(), files->ca_cert, "\x08http/1.1");
  ASSERT_TRUE(h1.connected());
  EXPECT_EQ(h1.alpn(), "http/1.1");
  std::string answer = h1.Exchange("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_NE(answer.find("POST /x hello"), std::string::npos) << answer;

  TlsClient both(server.port(), files->ca_cert, "\x08http/1.1\x02h2");
  ASSERT_TRUE(both.connected());
  EXPECT_EQ(both.alpn(), "h2");  // the server's preference

  TlsClient none(server.port(), files->ca_cert, nullptr);  // no ALPN: HTTP/1.1
  ASSERT_TRUE(none.connected());
  EXPECT_EQ(none.alpn(), "");

  lathe::testing::TempDir other;
  auto stranger = MakeSelfSigned(other.path(), "127.0.0.1");  // another CA
  ASSERT_TRUE(stranger.ok());
  TlsClient untrusting(server.port(), stranger->ca_cert, nullptr);
  EXPECT_FALSE(untrusting.connected());

  // The second call reuses the CA and the certificate.
  auto again = MakeSelfSigned(dir.path() + "/tls", "127.0.0.1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  auto renamed = MakeSelfSigned(dir.path() + "/tls", "lathe.internal");  // a new name: a new certificate, same CA
  ASSERT_TRUE(renamed.ok());
  EXPECT_TRUE(renamed->created);
  EXPECT_EQ(lathe::testing::ReadFile(renamed->ca_cert), lathe::testing::ReadFile(files->ca_cert));
}

// Over the connection cap a TLS client is told 503 over TLS (after the handshake), as a plain one
// is, instead of a bare close; one that negotiated HTTP/2 is closed.
TEST(TlsServerTest, OverTheConnectionCapATlsClientIsAnswered503) {
  std::signal(SIGPIPE, SIG_IGN);  // the client writes to connections the server closes
  lathe::testing::TempDir dir;
  auto files = MakeSelfSigned(dir.path(), "127.0.0.1");
  ASSERT_TRUE(files.ok());
  ServerLimits limits;
  limits.max_connections = 1;
  RunningServer server(limits, Echo());
  ASSERT_TRUE(server.server().EnableTls(files->cert, files->key).ok());
  TlsClient held(server.port(), files->ca_cert, nullptr);
  ASSERT_TRUE(held.connected());
  TlsClient over(server.port(), files->ca_cert, "\x08http/1.1");
  ASSERT_TRUE(over.connected());
  std::string answer = over.Exchange("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  TlsClient over_h2(server.port(), files->ca_cert, "\x02h2");
  if (over_h2.connected()) EXPECT_EQ(over_h2.Exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "");
  // The held connection is still served.
  std::string fine = held.Exchange("GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(fine.find("HTTP/1.1 200"), std::string::npos) << fine;
}

TEST(TlsServerTest, StalledHandshakeIsClosedWhileOthersAreServed) {
  lathe::testing::TempDir dir;
  auto files = MakeSelfSigned(dir.path(), "127.0.0.1");
  ASSERT_TRUE(files.ok());
  ServerLimits limits;
  limits.header_timeout_ms = 500;
  limits.worker_threads = 1;
  RunningServer server(limits, Echo());
  ASSERT_TRUE(server.server().EnableTls(files->cert, files->key).ok());
  std::vector<std::unique_ptr<TestClient>> stalled;
  for (int i = 0; i < 20; ++i) {
    stalled.push_back(std::make_unique<TestClient>(server.port()));
    if (i % 2) stalled.back()->Send(std::string("\x16\x03\x01\x00\xff", 5));  // half a ClientHello
  }
  TlsClient fine(server.port(), files->ca_cert, nullptr);
  ASSERT_TRUE(fine.connected());
  EXPECT_NE(fine.Exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").find("200"), std::string::npos);
  for (auto& c : stalled) EXPECT_TRUE(c->ServerClosed());  // within the client's 10 s receive timeout
}

// OpenSSL's own socket BIO writes with write(): a client gone right after the handshake (the
// server still sends its TLS 1.3 session tickets) raised SIGPIPE, which killed the whole server
// (found by the http2_tls integration test).
TEST(TlsServerTest, AClientResettingEarlyOrMidResponseDoesNotKillTheServer) {
  lathe::testing::TempDir dir;
  auto files = MakeSelfSigned(dir.path(), "127.0.0.1");
  ASSERT_TRUE(files.ok());
  RunningServer server(ServerLimits{}, [](Request&, Response& response) { response.body = std::string(8 << 20, 'x'); });
  ASSERT_TRUE(server.server().EnableTls(files->cert, files->key).ok());
  for (int i = 0; i < 10; ++i) {  // gone right after the handshake: the server still writes to it
    TlsClient gone(server.port(), files->ca_cert, nullptr);
    ASSERT_TRUE(gone.connected());
    gone.Reset();
  }
  for (int i = 0; i < 5; ++i) {
    TlsClient gone(server.port(), files->ca_cert, nullptr);
    ASSERT_TRUE(gone.connected());
    gone.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the server is writing
    gone.Reset();
  }
  TlsClient fine(server.port(), files->ca_cert, nullptr);
  ASSERT_TRUE(fine.connected());
  std::string answer = fine.Exchange("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_GT(answer.size(), 8u << 20);
}

TEST(TlsServerTest, ReloadWithBrokenFilesKeepsTheWorkingCertificate) {
  lathe::testing::TempDir dir;
  auto files = MakeSelfSigned(dir.path(), "127.0.0.1");
  ASSERT_TRUE(files.ok());
  std::string cert = dir.Write("live.pem", lathe::testing::ReadFile(files->cert));
  std::string key = dir.Write("live-key.pem", lathe::testing::ReadFile(files->key));
  RunningServer server(ServerLimits{}, Echo());
  EXPECT_FALSE(server.server().ReloadTls().ok());  // nothing to reload yet
  ASSERT_TRUE(server.server().EnableTls(cert, key).ok());
  EXPECT_TRUE(server.server().ReloadTls().ok());
  dir.Write("live-key.pem", "not a key\n");
  Status reloaded = server.server().ReloadTls();
  EXPECT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.message().find("live-key.pem"), std::string::npos) << reloaded.ToString();
  TlsClient still(server.port(), files->ca_cert, nullptr);
  EXPECT_TRUE(still.connected());
  EXPECT_FALSE(server.server().EnableTls(cert, dir.Write("other.pem", "junk")).ok());
}

}  // namespace
}  // namespace lathe::http
