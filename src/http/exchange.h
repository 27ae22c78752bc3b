// One request/response exchange on a worker thread, once the reactor has the request's head.
#pragma once

#include "http/connection.h"
#include "http/message.h"
#include "http/server.h"

namespace lathe::http {

// Runs the handler on the request whose head `connection` holds, finishes (or abandons) the
// body, and writes the response. True when the connection can carry another request.
bool ServeExchange(Connection* connection, const ServerLimits& limits, const Handler& handler,
                   bool stopping);

}  // namespace lathe::http
