// TLS for the server (OpenSSL): the context new connections are accepted with, and the transport
// seam that lets the HTTP/1.1 code read and write a connection without knowing whether TLS sits
// between it and the socket.
//
// Modern defaults: TLS 1.2 and 1.3 only, OpenSSL's default cipher lists minus what they still
// allow for compatibility (no RSA key exchange, no CBC-mode suites in 1.2), no compression, no
// renegotiation, no session tickets kept across reloads. ALPN offers "h2" then "http/1.1".
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace lathe::http {

// One certificate and key, loaded; shared by the connections accepted with it (a reload makes
// a new one: connections keep theirs).
class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> Load(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// The certificate files and the context made from them; Reload() (SIGHUP) re-reads the files and
// swaps the context for new connections, keeping the old one when the new files are broken.
class TlsConfig {
 public:
  Status Load(const std::string& cert_file, const std::string& key_file);
  Status Reload();
  std::shared_ptr<TlsContext> current() const;

 private:
  mutable std::mutex mu_;
  std::string cert_file_, key_file_;
  std::shared_ptr<TlsContext> context_;
};

// Reads and writes of one connection: the socket, or TLS over it. Returns as recv/send do: >0
// bytes, 0 at EOF (recv), -1 with errno (EAGAIN when it would block, either way).
struct Transport {
  int fd = -1;
  SSL* ssl = nullptr;
  ssize_t Recv(char* buf, size_t n) const;
  ssize_t Send(const char* buf, size_t n) const;
  // Decrypted bytes waiting inside TLS: readable although poll() may not say so.
  bool HasPendingInput() const;
};

// The server side of one connection on `fd` (not closed with it); writes never raise SIGPIPE.
SSL* NewServerSsl(TlsContext* context, int fd);

// ALPN's choice on a finished handshake: true for "h2".
bool NegotiatedHttp2(SSL* ssl);

// Drives a non-blocking handshake: 1 done, 0 wants to be called again when the socket is ready
// for `*wants_write` ? writing : reading, -1 failed (`*error` says why).
int ContinueHandshake(SSL* ssl, bool* wants_write, std::string* error);

}  // namespace lathe::http
