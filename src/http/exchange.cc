#include "http/exchange.h"

#include <exception>

#include "http/body_reader.h"
#include "http/response_writer.h"

namespace lathe::http {

namespace {
// What is left of a body the handler did not read is discarded up to this much, to keep the
// connection; a longer rest costs the client a new connection instead of us the bandwidth.
constexpr size_t kDrainBytes = 64 * 1024;

bool AsksToClose(const Response& response) {
  const std::string* connection = response.header("Connection");
  return connection && HeaderNameEquals(*connection, "close");
}
}  // namespace

Response CallHandler(const Handler& handler, Request& request) {
  Response response;
  try {
    handler(request, response);
  } catch (const std::exception& e) {
    response = Response{};
    response.status = 500;
    response.body = std::string("internal error: ") + e.what();
  } catch (...) {
    response = Response{};
    response.status = 500;
    response.body = "internal error";
  }
  return response;
}

bool ServeExchange(Connection* connection, const ServerLimits& limits, const Handler& handler,
                   bool stopping) {
  RequestParser& parser = connection->parser;
  ConnectionBodyReader body(connection, limits);
  Request request;
  parser.MoveHeadTo(&request);
  request.remote_address = connection->remote_address;
  request.body = &body;

  Response response = CallHandler(handler, request);

  bool reusable = parser.keep_alive() && !stopping && !AsksToClose(response);
  if (!body.finished()) {
    // A client waiting for "100 Continue" may or may not send its body now: only closing the
    // connection keeps its bytes from being read as the next request. A declared rest longer
    // than the drain allowance closes the connection whatever is drained, so none is awaited:
    // a client refused on its headers (413) may send nothing until it hears back.
    const int64_t declared = parser.content_length();
    const bool past_allowance = declared >= 0 && static_cast<uint64_t>(declared) - parser.body_bytes() > kDrainBytes;
    if (body.failed() || body.client_still_waiting() || past_allowance || !body.Drain(kDrainBytes)) reusable = false;
  }
  ResponseFraming framing;
  framing.head_request = request.method == "HEAD";
  framing.http_minor = parser.http_minor();
  if (NeedsCloseDelimitedBody(response, framing)) reusable = false;
  framing.close = !reusable;
  Status written = WriteResponse(connection->transport(), response, framing, limits.response_write_timeout_ms);
  return written.ok() && reusable;
}

}  // namespace lathe::http
