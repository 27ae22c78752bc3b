#include "http/response_writer.h"

#include <http_parser.h>

#include <cstdio>
#include <exception>

#include "http/socket_io.h"

namespace lathe::http {

namespace {

bool HasNoBody(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

bool IsServerOwned(const std::string& name) {
  return HeaderNameEquals(name, "Content-Length") || HeaderNameEquals(name, "Transfer-Encoding") ||
         HeaderNameEquals(name, "Connection");
}

// A handler may echo request data into a header; CR or LF there would split the response.
void AppendSanitized(std::string* out, const std::string& text) {
  for (char c : text) out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

bool Chunked(const Response& response, const ResponseFraming& framing) {
  return response.body_stream && response.stream_length < 0 && framing.http_minor >= 1;
}

}  // namespace

bool NeedsCloseDelimitedBody(const Response& response, const ResponseFraming& framing) {
  return response.body_stream && response.stream_length < 0 && framing.http_minor == 0 &&
         !framing.head_request && !HasNoBody(response.status);
}

Result<bool> NextChunk(Response& response, std::string* chunk, uint64_t* sent) {
  Result<bool> more = false;
  try {
    more = response.body_stream(chunk);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("the response stream failed: ") + e.what());
  }
  if (!more.ok()) return more;
  *sent += chunk->size();
  const int64_t declared = response.stream_length;
  if (declared >= 0 && *sent > static_cast<uint64_t>(declared)) {
    return Status::Internal("the response stream produced more than its declared " + std::to_string(declared) +
                            " bytes");
  }
  if (declared >= 0 && !*more && *sent != static_cast<uint64_t>(declared)) {
    return Status::Internal("the response stream ended after " + std::to_string(*sent) + " of its " +
                            std::to_string(declared) + " bytes");
  }
  return more;
}

std::string SerializeHead(const Response& response, const ResponseFraming& framing) {
  const char* reason = http_status_str(static_cast<http_status>(response.status));
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     (reason[0] == '<' ? std::string("Unknown") : std::string(reason)) + "\r\n";
  for (const Header& h : response.headers) {
    if (IsServerOwned(h.name)) continue;
    AppendSanitized(&head, h.name);
    head += ": ";
    AppendSanitized(&head, h.value);
    head += "\r\n";
  }
  if (!HasNoBody(response.status)) {
    if (!response.body_stream) {
      head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    } else if (response.stream_length >= 0) {
      head += "Content-Length: " + std::to_string(response.stream_length) + "\r\n";
    } else if (Chunked(response, framing)) {
      head += "Transfer-Encoding: chunked\r\n";
    }
  }
  if (framing.close || NeedsCloseDelimitedBody(response, framing)) {
    head += "Connection: close\r\n";
  } else if (framing.http_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  return head;
}

Status WriteResponse(const Transport& fd, Response& response, const ResponseFraming& framing, int idle_timeout_ms) {
  std::string head = SerializeHead(response, framing);
  const bool send_body = !framing.head_request && !HasNoBody(response.status);
  if (!response.body_stream) {
    if (send_body && response.body.size() <= 65536) {  // one write for small responses
      head += response.body;
      return WriteAll(fd, head, idle_timeout_ms);
    }
    LATHE_RETURN_IF_ERROR(WriteAll(fd, head, idle_timeout_ms));
    return send_body ? WriteAll(fd, response.body, idle_timeout_ms) : Status::Ok();
  }
  LATHE_RETURN_IF_ERROR(WriteAll(fd, head, idle_timeout_ms));
  if (!send_body) return Status::Ok();
  const bool chunked = Chunked(response, framing);
  uint64_t sent = 0;
  std::string chunk;
  while (true) {
    chunk.clear();
    Result<bool> more = NextChunk(response, &chunk, &sent);
    if (!more.ok()) return more.status();
    if (!chunk.empty()) {
      if (chunked) {
        char size_line[32];
        std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
        chunk.insert(0, size_line);
        chunk += "\r\n";
      }
      LATHE_RETURN_IF_ERROR(WriteAll(fd, chunk, idle_timeout_ms));
    }
    if (!*more) break;
  }
  return chunked ? WriteAll(fd, "0\r\n\r\n", idle_timeout_ms) : Status::Ok();
}

}  // namespace lathe::http
