#include "http/request_parser.h"

#include <http_parser.h>

#include <algorithm>
#include <cstring>

namespace lathe::http {

namespace {

constexpr size_t kHeaderLineOverhead = 4;  // ": " and CRLF, counted with each header

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 7230 3.2.6 tchar. http-parser 2.9 lets a space end a field name ("Transfer-Encoding :"),
// then still acts on the header while a name comparison would not see it: a smuggling shape.
bool IsToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

struct RequestParser::Callbacks {
  static RequestParser* Self(http_parser* p) { return static_cast<RequestParser*>(p->data); }

  static int OnUrl(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    // Known from here on, so that an answer to a failure later in the head can name it.
    if (self->method_.empty()) self->method_ = http_method_str(static_cast<http_method>(p->method));
    if (self->target_.size() + len > self->limits_.max_request_line_bytes) {
      // Its head is kept (bounded): the error writer can still tell which service it was meant for.
      self->target_.append(at, self->limits_.max_request_line_bytes - self->target_.size());
      return self->Fail(TransportError::kUriTooLong,
                        "the request target is longer than " +
                            std::to_string(self->limits_.max_request_line_bytes) + " bytes");
    }
    self->target_.append(at, len);
    return 0;
  }
  static int OnHeaderField(http_parser* p, const char* at, size_t len) {
    return Self(p)->OnHeaderField(at, len);
  }
  static int OnHeaderValue(http_parser* p, const char* at, size_t len) {
    return Self(p)->OnHeaderValue(at, len);
  }
  // Unlike the other callbacks, 1 here means "no body", not "stop": errors must be -1.
  static int OnHeadersComplete(http_parser* p) { return Self(p)->OnHeadersComplete() == 0 ? 0 : -1; }
  static int OnBody(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    // ConsumeBody feeds at most out_capacity_ bytes, so decoded bytes always fit.
    size_t take = std::min(len, self->out_capacity_ - self->out_size_);
    std::memcpy(self->out_ + self->out_size_, at, take);
    self->out_size_ += take;
    self->body_bytes_ += take;
    return 0;
  }
  static int OnChunkHeader(http_parser* p) {
    RequestParser* self = Self(p);
    if (p->content_length > self->limits_.max_chunk_bytes) {
      return self->Fail(TransportError::kBadRequest,
                        "a chunk of the chunked body is larger than " +
                            std::to_string(self->limits_.max_chunk_bytes) + " bytes");
    }
    if (p->content_length == 0) {  // the last chunk: trailers follow, with their own budget
      self->in_trailers_ = true;
      self->last_was_value_ = true;
      self->header_bytes_ = 0;
      self->header_count_ = 0;
    }
    return 0;
  }
  static int OnMessageComplete(http_parser* p) {
    Self(p)->phase_ = Phase::kComplete;
    http_parser_pause(p, 1);  // leave pipelined bytes unconsumed
    return 0;
  }

  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_url = OnUrl;
      s.on_header_field = OnHeaderField;
      s.on_header_value = OnHeaderValue;
      s.on_headers_complete = OnHeadersComplete;
      s.on_body = OnBody;
      s.on_chunk_header = OnChunkHeader;
      s.on_message_complete = OnMessageComplete;
      return s;
    }();
    return settings;
  }
};

RequestParser::RequestParser(ParserLimits limits)
    : limits_(limits), parser_(std::make_unique<http_parser>()) {
  Reset();
}

RequestParser::~RequestParser() = default;

void RequestParser::Reset() {
  http_parser_init(parser_.get(), HTTP_REQUEST);
  parser_->data = this;
  phase_ = Phase::kHead;
  started_ = false;
  error_ = TransportError::kBadRequest;
  error_message_.clear();
  method_.clear();
  target_.clear();
  headers_.clear();
  last_was_value_ = true;
  header_bytes_ = 0;
  header_count_ = 0;
  in_trailers_ = false;
  previous_byte_ = '\n';
  http_minor_ = 1;
  keep_alive_ = false;
  expects_continue_ = false;
  content_length_ = 0;
  body_bytes_ = 0;
}

int RequestParser::Fail(TransportError error, std::string message) {
  if (phase_ != Phase::kFailed) {  // the first problem is the one reported
    phase_ = Phase::kFailed;
    error_ = error;
    error_message_ = std::move(message);
  }
  return 1;  // tells http_parser to stop
}

void RequestParser::FailFromParserErrno() {
  auto err = static_cast<http_errno>(parser_->http_errno);
  if (err == HPE_HEADER_OVERFLOW) {
    Fail(TransportError::kHeadersTooLarge, "the request head is larger than http-parser's limit");
  } else {
    Fail(TransportError::kBadRequest,
         std::string(in_trailers_ || phase_ == Phase::kBody ? "malformed request body: "
                                                            : "malformed request: ") +
             http_errno_description(err));
  }
}

int RequestParser::OnHeaderField(const char* at, size_t len) {
  const char* what = in_trailers_ ? "trailer" : "header";
  TransportError too_large = in_trailers_ ? TransportError::kBadRequest : TransportError::kHeadersTooLarge;
  if (last_was_value_) {  // a new header line begins
    last_was_value_ = false;
    if (++header_count_ > limits_.max_header_count) {
      return Fail(too_large, std::string("more than ") + std::to_string(limits_.max_header_count) +
                                 " " + what + " fields");
    }
    header_bytes_ += kHeaderLineOverhead;
    if (!in_trailers_) headers_.push_back({});
  }
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) {
    return Fail(too_large, std::string(what) + " fields are larger than " +
                               std::to_string(limits_.max_header_bytes) + " bytes");
  }
  if (!in_trailers_) headers_.back().name.append(at, len);
  return 0;
}

int RequestParser::OnHeaderValue(const char* at, size_t len) {
  const char* what = in_trailers_ ? "trailer" : "header";
  TransportError too_large = in_trailers_ ? TransportError::kBadRequest : TransportError::kHeadersTooLarge;
  last_was_value_ = true;
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) {
    return Fail(too_large, std::string(what) + " fields are larger than " +
                               std::to_string(limits_.max_header_bytes) + " bytes");
  }
  // http-parser already refuses these; checked again because a value holding them would split
  // or truncate a header wherever it is copied (logs, signatures, a proxied request).
  for (size_t i = 0; i < len; ++i) {
    if (at[i] == '\0' || at[i] == '\r' || at[i] == '\n') {
      return Fail(TransportError::kBadRequest, std::string("a ") + what + " value holds NUL, CR or LF");
    }
  }
  if (!in_trailers_) {
    if (headers_.empty()) return Fail(TransportError::kBadRequest, "a header value without a name");
    headers_.back().value.append(at, len);
  }
  return 0;
}

int RequestParser::OnHeadersComplete() {
  http_parser* p = parser_.get();
  method_ = http_method_str(static_cast<http_method>(p->method));
  if (p->http_major != 1 || p->http_minor > 1) {
    return Fail(TransportError::kBadRequest,
                "HTTP/" + std::to_string(p->http_major) + "." + std::to_string(p->http_minor) +
                    " is not supported (HTTP/1.0 and HTTP/1.1 are)");
  }
  if (p->method == HTTP_CONNECT) return Fail(TransportError::kBadRequest, "CONNECT is not supported");
  http_minor_ = p->http_minor;

  const std::string* content_length = nullptr;
  const std::string* transfer_encoding = nullptr;
  for (Header& h : headers_) {
    if (!IsToken(h.name)) return Fail(TransportError::kBadRequest, "a header name that is not a token");
    std::string_view trimmed = Trim(h.value);
    if (trimmed.size() != h.value.size()) h.value = std::string(trimmed);
    if (HeaderNameEquals(h.name, "Content-Length")) {
      if (!AllDigits(h.value)) return Fail(TransportError::kBadRequest, "Content-Length is not a number");
      if (content_length && *content_length != h.value) {
        return Fail(TransportError::kBadRequest, "two Content-Length headers that differ");
      }
      content_length = &h.value;
    } else if (HeaderNameEquals(h.name, "Transfer-Encoding")) {
      if (transfer_encoding) return Fail(TransportError::kBadRequest, "more than one Transfer-Encoding header");
      transfer_encoding = &h.value;
    } else if (HeaderNameEquals(h.name, "Expect")) {
      expects_continue_ = http_minor_ >= 1 && HeaderNameEquals(h.value, "100-continue");
    }
  }
  if (transfer_encoding) {
    // RFC 7230 3.3.3: both headers is how requests are smuggled past a proxy.
    if (content_length) return Fail(TransportError::kBadRequest, "both Content-Length and Transfer-Encoding");
    if (!HeaderNameEquals(*transfer_encoding, "chunked")) {
      return Fail(TransportError::kBadRequest,
                  "Transfer-Encoding other than chunked is not supported");
    }
    if (http_minor_ == 0) return Fail(TransportError::kBadRequest, "Transfer-Encoding in an HTTP/1.0 request");
    content_length_ = -1;
  } else {
    content_length_ = (p->flags & F_CONTENTLENGTH) ? static_cast<int64_t>(p->content_length) : 0;
    if (content_length_ < 0) return Fail(TransportError::kBadRequest, "Content-Length is too large");
  }
  // Our reading of the framing and http-parser's must agree, or the body would be cut where a
  // proxy in front of us did not cut it.
  if (((p->flags & F_CHUNKED) != 0) != (content_length_ < 0) ||
      ((p->flags & F_CONTENTLENGTH) != 0) != (content_length != nullptr)) {
    return Fail(TransportError::kBadRequest, "ambiguous body framing");
  }
  keep_alive_ = http_should_keep_alive(p) != 0;
  phase_ = Phase::kBody;
  http_parser_pause(p, 1);  // the body is read later, on demand
  return 0;
}

bool RequestParser::HasFoldedLine(const char* data, size_t n) {
  bool folded = false;
  for (size_t i = 0; i < n && !folded; ++i) {
    folded = previous_byte_ == '\n' && (data[i] == ' ' || data[i] == '\t');
    previous_byte_ = data[i];
  }
  return folded;
}

size_t RequestParser::ConsumeHead(const char* data, size_t n) {
  if (phase_ != Phase::kHead || n == 0) return 0;  // n == 0 would mean EOF to http_parser
  started_ = true;
  http_parser* p = parser_.get();
  size_t used = http_parser_execute(p, &Callbacks::Settings(), data, n);
  if (phase_ == Phase::kBody && used < n) {
    // Paused on the head's last LF, which is not consumed yet: consume it, so that the head is
    // whole and a request without a body completes here.
    http_parser_pause(p, 0);
    used += http_parser_execute(p, &Callbacks::Settings(), data + used, 1);
  }
  auto err = static_cast<http_errno>(p->http_errno);
  if (err != HPE_OK && err != HPE_PAUSED) FailFromParserErrno();
  if (HasFoldedLine(data, used)) {
    phase_ = Phase::kHead;  // the fold decides: report it whatever the parser concluded
    Fail(TransportError::kBadRequest, "obsolete line folding (a header line beginning with a space or tab)");
  }
  return used;
}

size_t RequestParser::ConsumeBody(const char* data, size_t n, char* out, size_t out_capacity,
                                  size_t* produced) {
  *produced = 0;
  if (phase_ != Phase::kBody || n == 0 || out_capacity == 0) return 0;
  http_parser* p = parser_.get();
  http_parser_pause(p, 0);
  out_ = out;
  out_capacity_ = out_capacity;
  out_size_ = 0;
  size_t used = http_parser_execute(p, &Callbacks::Settings(), data, std::min(n, out_capacity));
  auto err = static_cast<http_errno>(p->http_errno);
  if (err != HPE_OK && err != HPE_PAUSED) FailFromParserErrno();
  *produced = out_size_;
  out_ = nullptr;
  return used;
}

void RequestParser::MoveHeadTo(Request* request) {
  request->method = std::move(method_);
  request->target = std::move(target_);
  request->headers = std::move(headers_);
}

}  // namespace lathe::http
