// Feeds arbitrary bytes to the request parser the server uses, split as a socket might split
// them, through heads, bodies and pipelined requests: it must never crash, hang, read out of
// bounds or keep more than its limits allow, whatever the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the rest is split (1..16 bytes per read), so limits are met mid-piece.
  const size_t step = 1 + (data[0] & 15);
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  lathe::http::ParserLimits limits;
  limits.max_request_line_bytes = 256;  // small, so every limit is reachable
  limits.max_header_bytes = 1024;
  limits.max_header_count = 16;
  limits.max_chunk_bytes = 4096;
  lathe::http::RequestParser parser(limits);
  using Phase = lathe::http::RequestParser::Phase;

  size_t pos = 0;
  char out[13];
  while (pos < bytes.size()) {
    const size_t before = pos;
    size_t n = std::min(step, bytes.size() - pos);
    if (parser.phase() == Phase::kHead) {
      size_t used = parser.ConsumeHead(bytes.data() + pos, n);
      Check(used <= n);
      pos += used;
      Check(parser.target().size() <= limits.max_request_line_bytes);
      Check(parser.headers().size() <= limits.max_header_count);
    } else if (parser.phase() == Phase::kBody) {
      size_t produced = 0;
      size_t used = parser.ConsumeBody(bytes.data() + pos, n, out, sizeof(out), &produced);
      Check(used <= n && produced <= sizeof(out) && produced <= used);
      if (parser.content_length() >= 0) {
        Check(parser.body_bytes() <= static_cast<uint64_t>(parser.content_length()));
      }
      pos += used;
    } else if (parser.phase() == Phase::kComplete) {
      parser.Reset();  // the next pipelined request
      continue;
    } else {
      break;  // failed: the server answers and closes
    }
    if (pos == before && (parser.phase() == Phase::kHead || parser.phase() == Phase::kBody)) {
      std::abort();  // no progress on a live parser would be a hang in the server
    }
  }
  return 0;
}
