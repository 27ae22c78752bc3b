// Puts a Response on the wire: the status line, the handler's headers, then the framing headers
// the server owns (Content-Length or chunked, Connection), then the body or body_stream.
#pragma once

#include <string>

#include "core/status.h"
#include "http/message.h"
#include "http/tls.h"

namespace lathe::http {

struct ResponseFraming {
  bool head_request = false;  // HEAD: headers as for GET, Content-Length kept, no body
  bool close = false;         // "Connection: close": the server closes after this response
  int http_minor = 1;         // HTTP/1.0 clients get no chunked body and need keep-alive spelled out
};

// True when the response can only end by closing the connection (a stream of unknown length to
// an HTTP/1.0 client, which cannot read chunked).
bool NeedsCloseDelimitedBody(const Response& response, const ResponseFraming& framing);

// The next chunk of response.body_stream (false: it was the last), adding its size to *sent: a
// throw, or more (or, at the end, fewer) bytes than a declared stream_length, is an error.
Result<bool> NextChunk(Response& response, std::string* chunk, uint64_t* sent);

// The status line and headers, ending with the blank line.
std::string SerializeHead(const Response& response, const ResponseFraming& framing);

// Writes the whole response to the connection; `idle_timeout_ms` bounds each wait for the client to read.
// An error (client gone, stream failed) means the connection must be closed.
Status WriteResponse(const Transport& fd, Response& response, const ResponseFraming& framing, int idle_timeout_ms);

}  // namespace lathe::http
