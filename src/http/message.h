// lathe's own HTTP request and response: what every handler sees, whatever transport carried the
// bytes (HTTP/1.1 today; HTTP/2 and TLS later). No HTTP library appears in this header, so
// handlers are testable without sockets (llama.cpp's server-http.h does the same).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace lathe::http {

struct Header {
  std::string name;   // as received (any case)
  std::string value;  // leading and trailing whitespace removed
};

// The request body, read on demand, so that each operation chooses its own bound (a Bedrock call
// buffers a few KiB, an S3 upload streams gigabytes to disk). Reading enforces the server's time
// limits; the first read sends "100 Continue" when the client asked for it.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Up to `n` bytes into `buf`; 0 at the end of the body. An error when the client is too slow,
  // disconnects or sends a malformed chunked body; the connection is then closed.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Content-Length, or -1 for a chunked body (length unknown until its end).
  virtual int64_t declared_length() const = 0;
};

// Reads the whole body when it holds at most `max_bytes`; a Status of code kQuotaExceeded
// (message naming the limit) when it is longer, without reading more than max_bytes + 1.
Result<std::string> ReadBody(BodyReader* reader, size_t max_bytes);

// A BodyReader over a string: for tests and for handlers that have the body in memory already.
class StringBodyReader : public BodyReader {
 public:
  explicit StringBodyReader(std::string body) : body_(std::move(body)) {}
  Result<size_t> Read(char* buf, size_t n) override;
  int64_t declared_length() const override { return static_cast<int64_t>(body_.size()); }

 private:
  std::string body_;
  size_t pos_ = 0;
};

struct Request {
  std::string method;  // "GET", "PUT", ...
  // The raw request target, never decoded: "/model/arn%3Aaws%3A...%2Fx/invoke?a=1". SigV4 signs
  // the encoded form, and S3 keys may hold any byte.
  std::string target;
  std::vector<Header> headers;  // in order received; a name may repeat
  std::string remote_address;   // "127.0.0.1" (no port)
  BodyReader* body = nullptr;   // never null while a handler runs

  // target before '?' (still percent-encoded) and after it ("" when there is none).
  std::string_view path() const;
  std::string_view query() const;
  // The first header of that name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // Content-Length and Connection are the server's
  std::string body;
  // A body too large to hold (S3 GetObject): when set, `body` is ignored and the server calls
  // this until it returns false, sending each chunk it appends. An error aborts the connection.
  std::function<Result<bool>(std::string* chunk)> body_stream;
  int64_t stream_length = -1;  // Content-Length of body_stream; -1: sent chunked

  void set_header(std::string name, std::string value);  // replaces one of the same name
  const std::string* header(std::string_view name) const;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);

// A handler owns the whole exchange: the server calls it once the request line and headers are
// in, with the body still unread.
using Handler = std::function<void(Request& request, Response& response)>;

// Why the server answers a request itself, before (or instead of) the handler.
enum class TransportError {
  kBadRequest,       // 400: malformed request line, headers or chunked framing
  kUriTooLong,       // 414
  kHeadersTooLarge,  // 431: header bytes or count over the limit
  kTimeout,          // 408: the request did not arrive within the time limits
  kBusy,             // 503: too many connections, or the buffered-bytes budget is spent
};
// Writes the error for a request the server refuses itself. `partial` holds what was parsed
// before the problem (method, target, headers may be empty), so the AWS layer can answer in the
// protocol of the service the client meant.
using TransportErrorWriter =
    std::function<void(TransportError error, const Request& partial, Response& response)>;

}  // namespace lathe::http
