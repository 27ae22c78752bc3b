// The aws-chunked body of an S3 upload signed STREAMING-* (x-amz-content-sha256): decoded as it
// arrives, each chunk's signature checked against the chain that starts at the request's own
// signature, and the trailer (x-amz-checksum-*) read and, when signed, checked. Memory stays
// bounded whatever the body: one size line, one trailer, no chunk data buffered.
//
//   signed:   <hex size>;chunk-signature=<64 hex>\r\n <data>\r\n ... 0;chunk-signature=<sig>\r\n
//             [<trailer>:<value>\r\n x-amz-trailer-signature:<sig>\r\n] \r\n
//   unsigned: <hex size>\r\n <data>\r\n ... 0\r\n <trailer>:<value>\r\n \r\n
//
// Payload bytes are handed over before their chunk's signature is checked (the check needs the
// whole chunk), so a caller must treat them as unverified until Finish() returns OK, and discard
// them on any error -- as it must anyway, since a later chunk may fail.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.h"
#include "core/status.h"

namespace lathe {
class Sha256;
}

namespace lathe::api {

struct AwsChunkedLimits {
  size_t max_chunk_bytes = 16u << 20;  // one chunk's data; SDKs send 64 KiB to 1 MiB
  size_t max_line_bytes = 4096;        // a size line: hex size, ";chunk-signature=", 64 hex
  size_t max_trailer_bytes = 16u << 10;
};

class AwsChunkedDecoder {
 public:
  // `mode` must be one of the STREAMING-* modes. decoded_length: x-amz-decoded-content-length
  // (-1: not checked). trailer_names: x-amz-trailer, lowercase.
  AwsChunkedDecoder(PayloadMode mode, ChunkSigning signing, int64_t decoded_length,
                    std::vector<std::string> trailer_names, AwsChunkedLimits limits = {});
  // For a request VerifySigV4 accepted with a streaming payload.
  explicit AwsChunkedDecoder(const VerifiedRequest& request, AwsChunkedLimits limits = {});
  ~AwsChunkedDecoder();
  AwsChunkedDecoder(const AwsChunkedDecoder&) = delete;
  AwsChunkedDecoder& operator=(const AwsChunkedDecoder&) = delete;

  // Consumes the next bytes of the body (any split), appending the payload bytes they hold to
  // *payload. After an error the decoder stays failed: every later call returns the same error.
  Status Feed(std::string_view input, std::string* payload);
  // The body has ended: OK only if it ended exactly after the final chunk and trailer and
  // carried x-amz-decoded-content-length bytes.
  Status Finish();

  bool done() const { return state_ == State::kDone; }
  uint64_t payload_bytes() const { return payload_bytes_; }
  // The trailing headers (lowercase name, value), without x-amz-trailer-signature: the caller
  // checks the checksum they carry against the payload.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailer, kDone, kFailed };
  Status Fail(Status error);
  Status OnSizeLine(std::string_view line);
  Status EndChunk();
  Status OnTrailerLine(std::string_view line);
  Status EndTrailer();

  PayloadMode mode_;
  ChunkSigning signing_;
  int64_t decoded_length_;
  std::vector<std::string> trailer_names_;
  AwsChunkedLimits limits_;

  State state_ = State::kSizeLine;
  Status error_;
  std::string line_;             // the line being read (size line or trailer line)
  size_t trailer_bytes_ = 0;     // trailer bytes so far
  uint64_t remaining_ = 0;       // data bytes left in the current chunk
  size_t crlf_seen_ = 0;         // bytes of the "\r\n" after chunk data
  std::string chunk_signature_;  // the current chunk's claimed signature
  std::string previous_signature_;
  std::unique_ptr<Sha256> chunk_hash_;
  uint64_t payload_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::string trailer_signature_;
};

// The signature of one chunk whose data hashes to chunk_sha256_hex, chained from `previous`
// (the seed signature for the first chunk): what a signing client puts in chunk-signature=.
std::string AwsChunkSignature(const ChunkSigning& signing, std::string_view previous,
                              std::string_view chunk_sha256_hex);
// The x-amz-trailer-signature over trailers (sorted by name, "name:value\n" each), chained from
// the final (empty) chunk's signature.
std::string AwsTrailerSignature(const ChunkSigning& signing, std::string_view previous,
                                const std::vector<std::pair<std::string, std::string>>& trailers);

}  // namespace lathe::api
