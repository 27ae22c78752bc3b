// Blocking-style I/O on non-blocking sockets, bounded by poll() deadlines: what a worker thread
// uses to read a request body and write a response without ever waiting forever.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/tls.h"

namespace lathe::http {

// Writes all of `data`; fails when no byte could be written for `idle_timeout_ms`, or the peer
// is gone. MSG_NOSIGNAL: a vanished client is an error, never a SIGPIPE. Plain or TLS.
Status WriteAll(const Transport& transport, std::string_view data, int idle_timeout_ms);

// Waits until `fd` is readable (POLLIN) or writable (POLLOUT): 1 ready, 0 timed out, -1 error.
int WaitFor(int fd, short events, int timeout_ms);

// "127.0.0.1", "::1": the address without the port.
std::string AddressText(const sockaddr_storage& address);

}  // namespace lathe::http
