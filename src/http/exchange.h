// One request/response exchange on a worker thread, once the reactor has the request's head.
#pragma once

#include "http/connection.h"
#include "http/message.h"
#include "http/server.h"

namespace lathe::http {

// Calls the handler; an exception it throws becomes a 500 naming it (HTTP/1.1 and HTTP/2 alike).
Response CallHandler(const Handler& handler, Request& request);

// Runs the handler on the request whose head `connection` holds, finishes (or abandons) the
// body, and writes the response. True when the connection can carry another request.
bool ServeExchange(Connection* connection, const ServerLimits& limits, const Handler& handler,
                   bool stopping);

}  // namespace lathe::http
