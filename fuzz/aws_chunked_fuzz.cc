// Feeds arbitrary bytes to the aws-chunked decoder (S3 streaming uploads) in every payload mode and
// arbitrary splits: it must never crash, read out of bounds, hang or buffer without bound, and
// what it hands over must add up to what it counted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/aws_chunked.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Byte 0 picks the mode and whether a decoded length is enforced; byte 1 the split.
  static const lathe::api::PayloadMode kModes[] = {
      lathe::api::PayloadMode::kStreamingSigned, lathe::api::PayloadMode::kStreamingSignedTrailer,
      lathe::api::PayloadMode::kStreamingUnsignedTrailer, lathe::api::PayloadMode::kUnsigned};
  const uint8_t pick = static_cast<uint8_t>(bytes[0]);
  const size_t step = 1 + static_cast<uint8_t>(bytes[1]) % 64;
  bytes.remove_prefix(2);

  lathe::api::ChunkSigning signing{std::string(32, 'k'), "20130524T000000Z",
                                   "20130524/us-east-1/s3/aws4_request", std::string(64, '0')};
  lathe::api::AwsChunkedLimits limits;
  limits.max_chunk_bytes = 4096;  // small, so the bounds are reached too
  limits.max_line_bytes = 256;
  limits.max_trailer_bytes = 512;
  const int64_t decoded_length = (pick & 4) ? 1000 : -1;
  lathe::api::AwsChunkedDecoder decoder(kModes[pick % 4], signing, decoded_length,
                                        {"x-amz-checksum-crc32", "x-amz-checksum-sha256"}, limits);
  std::string payload;
  bool failed = false;
  for (size_t at = 0; at < bytes.size() && !failed; at += step)
    failed = !decoder.Feed(bytes.substr(at, step), &payload).ok();
  if (!failed) failed = !decoder.Finish().ok();
  if (payload.size() != decoder.payload_bytes()) std::abort();
  if (decoded_length >= 0 && payload.size() > static_cast<size_t>(decoded_length)) std::abort();
  // A failed decoder stays failed.
  if (failed && decoder.Feed("0\r\n\r\n", &payload).ok()) std::abort();
  return 0;
}
