#include "http/socket_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace lathe::http {

int WaitFor(int fd, short events, int timeout_ms) {
  pollfd pfd{fd, events, 0};
  while (true) {
    int r = ::poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    // POLLHUP/POLLERR with POLLIN still lets the read report EOF or the error itself.
    return (pfd.revents & (events | POLLHUP | POLLERR)) ? 1 : -1;
  }
}

Status WriteAll(const Transport& transport, std::string_view data, int idle_timeout_ms) {
  while (!data.empty()) {
    ssize_t n = transport.Send(data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = WaitFor(transport.fd, POLLOUT, idle_timeout_ms);
      if (ready == 0) {
        return Status::IOError("the client read nothing of the response for " +
                               std::to_string(idle_timeout_ms) + " ms");
      }
      if (ready < 0) return Status::IOError("the client connection failed while writing the response");
      continue;
    }
    return Status::IOError(std::string("writing the response failed: ") + std::strerror(errno));
  }
  return Status::Ok();
}

std::string AddressText(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: one client, one name.
      ::inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], text, sizeof(text));
    } else {
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    }
  }
  return text;
}

}  // namespace lathe::http
