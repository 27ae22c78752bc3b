// An incremental HTTP/1.1 request parser over nodejs http-parser 2.9 (Debian's libhttp-parser):
// bytes go in as they arrive, in any split; the request line and headers come out once complete,
// then the body (Content-Length or chunked) is decoded on demand. It never buffers the raw
// request: everything it keeps (method, target, headers) is bounded by ParserLimits, checked in
// the parser's callbacks before anything is stored. No sockets here, so it is fuzzable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"

struct http_parser;

namespace lathe::http {

struct ParserLimits {
  size_t max_request_line_bytes = 16384;  // the request target; 414 past it
  size_t max_header_bytes = 65536;        // names + values of all headers; 431 past it
  size_t max_header_count = 200;          // 431 past it
  uint64_t max_chunk_bytes = 64ull << 20;  // one chunk of a chunked body; 400 past it
};

class RequestParser {
 public:
  enum class Phase {
    kHead,      // reading the request line and headers
    kBody,      // head complete; body bytes to come
    kComplete,  // the whole request (head and body) is in
    kFailed,    // error() says why; the connection cannot be reused
  };

  explicit RequestParser(ParserLimits limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Forgets the request: ready for the next one on the same connection.
  void Reset();

  // Feeds request-line and header bytes. Consumes up to and including the blank line that ends
  // the head, never past it, so body bytes and pipelined requests stay with the caller.
  // Returns how many bytes it consumed; phase() says what happened.
  size_t ConsumeHead(const char* data, size_t n);

  // Feeds body bytes (with their chunked framing) in phase kBody; the decoded body bytes are
  // written to `out` (at most `out_capacity`, because at most that many input bytes are taken),
  // their count to `*produced`. Stops right after the end of the body. Returns bytes consumed.
  size_t ConsumeBody(const char* data, size_t n, char* out, size_t out_capacity, size_t* produced);

  Phase phase() const { return phase_; }
  // True once any byte of this request was consumed (the header timeout applies, not the idle one).
  bool started() const { return started_; }
  TransportError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }

  // The head parsed so far: complete in kBody/kComplete, partial after a failure.
  const std::string& method() const { return method_; }
  const std::string& target() const { return target_; }
  const std::vector<Header>& headers() const { return headers_; }
  // Valid once the head is complete.
  int http_minor() const { return http_minor_; }
  bool keep_alive() const { return keep_alive_; }
  bool expects_continue() const { return expects_continue_; }
  int64_t content_length() const { return content_length_; }  // -1: chunked
  uint64_t body_bytes() const { return body_bytes_; }          // decoded so far

  // Moves method, target and headers into `request`.
  void MoveHeadTo(Request* request);

 private:
  struct Callbacks;  // the C callbacks of http_parser, friends of this class
  friend struct Callbacks;

  int Fail(TransportError error, std::string message);
  int OnHeaderField(const char* at, size_t len);
  int OnHeaderValue(const char* at, size_t len);
  int OnHeadersComplete();
  void FailFromParserErrno();
  // RFC 7230 3.2.4: obsolete line folding is refused; a head line may not begin with SP or HT.
  bool HasFoldedLine(const char* data, size_t n);

  ParserLimits limits_;
  std::unique_ptr<http_parser> parser_;
  Phase phase_ = Phase::kHead;
  bool started_ = false;
  TransportError error_ = TransportError::kBadRequest;
  std::string error_message_;

  std::string method_;
  std::string target_;
  std::vector<Header> headers_;
  bool last_was_value_ = true;  // the next field callback starts a new header
  size_t header_bytes_ = 0;     // headers, then trailers, against max_header_bytes
  size_t header_count_ = 0;
  bool in_trailers_ = false;
  char previous_byte_ = '\n';   // the last head byte consumed, for HasFoldedLine

  int http_minor_ = 1;
  bool keep_alive_ = false;
  bool expects_continue_ = false;
  int64_t content_length_ = 0;
  uint64_t body_bytes_ = 0;

  // Where ConsumeBody's body callback writes.
  char* out_ = nullptr;
  size_t out_capacity_ = 0;
  size_t out_size_ = 0;
};

}  // namespace lathe::http
