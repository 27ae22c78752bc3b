#include "http/connection.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include "http/h2_session.h"

namespace lathe::http {

Connection::Connection(int fd, std::string remote_address, const ParserLimits& limits)
    : fd(fd), remote_address(std::move(remote_address)), parser(limits) {}

Connection::~Connection() {
  if (ssl) SSL_free(ssl);
}

void Connection::Consume(size_t n) {
  in_pos += n;
  if (in_pos >= in.size()) {
    in.clear();
    in_pos = 0;
  } else if (in_pos >= 32768) {  // keep the buffer from creeping forward forever
    in.erase(0, in_pos);
    in_pos = 0;
  }
}

long Connection::ReceiveMore(size_t max_bytes) {
  size_t old = in.size();
  in.resize(old + max_bytes);
  ssize_t n = transport().Recv(in.data() + old, max_bytes);
  int saved_errno = errno;
  in.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
  errno = saved_errno;
  return static_cast<long>(n);
}

}  // namespace lathe::http
