#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace lathe::http {

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(e, text, sizeof(text));
  return text;
}

// ALPN: the server's preference wins, h2 before http/1.1; a client offering neither proceeds
// without ALPN (HTTP/1.1).
int SelectProtocol(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void*) {
  static const unsigned char kServerProtocols[] = "\x02h2\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kServerProtocols, sizeof(kServerProtocols) - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" list); 1.3's are
// all fine and OpenSSL's default.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's socket BIO writes with write(): a client that resets the connection would kill the
// server with SIGPIPE. This one is the socket BIO with send(MSG_NOSIGNAL) for its writes.
int WriteNoSignal(BIO* bio, const char* data, int n) {
  int fd = -1;
  BIO_get_fd(bio, &fd);
  BIO_clear_retry_flags(bio);
  ssize_t r;
  do {
    r = ::send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && BIO_sock_should_retry(static_cast<int>(r))) BIO_set_retry_write(bio);
  return static_cast<int>(r);
}

BIO_METHOD* NoSignalSocketMethod() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* socket = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "socket without SIGPIPE");
    BIO_meth_set_write(m, WriteNoSignal);
    BIO_meth_set_read(m, BIO_meth_get_read(socket));
    BIO_meth_set_puts(m, BIO_meth_get_puts(socket));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(socket));
    BIO_meth_set_create(m, BIO_meth_get_create(socket));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(socket));
    return m;
  }();
  return method;
}

}  // namespace

SSL* NewServerSsl(TlsContext* context, int fd) {
  SSL* ssl = SSL_new(context->get());
  BIO* bio = ssl ? BIO_new(NoSignalSocketMethod()) : nullptr;
  if (!bio) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);  // the Connection closes its fd
  SSL_set_bio(ssl, bio, bio);
  SSL_set_accept_state(ssl);
  return ssl;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file, const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::Internal("TLS: " + OpenSslError());
  std::shared_ptr<TlsContext> context(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);  // no resumption, so no TLS 1.3 tickets to send
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return Status::Internal("TLS ciphers: " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("TLS certificate " + cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument("TLS key " + key_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::InvalidArgument("TLS key " + key_file + " does not match the certificate " + cert_file);
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectProtocol, nullptr);
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Status TlsConfig::Load(const std::string& cert_file, const std::string& key_file) {
  Result<std::shared_ptr<TlsContext>> context = TlsContext::Load(cert_file, key_file);
  if (!context.ok()) return context.status();
  std::lock_guard<std::mutex> lock(mu_);
  cert_file_ = cert_file;
  key_file_ = key_file;
  context_ = *context;
  return Status::Ok();
}

Status TlsConfig::Reload() {
  std::string cert, key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!context_) return Status::InvalidArgument("TLS is not enabled");
    cert = cert_file_;
    key = key_file_;
  }
  return Load(cert, key);
}

std::shared_ptr<TlsContext> TlsConfig::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return context_;
}

ssize_t Transport::Recv(char* buf, size_t n) const {
  if (!ssl) {
    ssize_t r;
    do {
      r = ::recv(fd, buf, n, 0);
    } while (r < 0 && errno == EINTR);
    return r;
  }
  ERR_clear_error();
  int r = SSL_read(ssl, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (r > 0) return r;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
      if (errno == 0) return 0;  // EOF without close_notify: treated as EOF, as HTTP/1.1 delimits itself
      return -1;
    default: errno = ECONNRESET; return -1;
  }
}

ssize_t Transport::Send(const char* buf, size_t n) const {
  if (!ssl) {
    ssize_t r;
    do {
      r = ::send(fd, buf, n, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    return r;
  }
  ERR_clear_error();
  int r = SSL_write(ssl, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (r > 0) return r;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
    default: errno = EPIPE; return -1;
  }
}

bool Transport::HasPendingInput() const { return ssl && SSL_pending(ssl) > 0; }

bool NegotiatedHttp2(SSL* ssl) {
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &protocol, &length);
  return length == 2 && std::memcmp(protocol, "h2", 2) == 0;
}

int ContinueHandshake(SSL* ssl, bool* wants_write, std::string* error) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl);
  if (r == 1) return 1;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ: *wants_write = false; return 0;
    case SSL_ERROR_WANT_WRITE: *wants_write = true; return 0;
    case SSL_ERROR_SYSCALL: *error = errno ? std::strerror(errno) : "the client closed the connection"; return -1;
    default: *error = OpenSslError(); return -1;
  }
}

}  // namespace lathe::http
