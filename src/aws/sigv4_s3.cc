// S3's SigV4 rules (botocore's S3SigV4Auth and what S3 itself accepts): the path signed as sent,
// x-amz-content-sha256 required and possibly UNSIGNED-PAYLOAD or a STREAMING-* mode (the body
// then is aws-chunked: aws_chunked.h), unsigned x-amz-* headers refused, S3's own messages.
#include <algorithm>

#include "aws/sigv4_internal.h"
#include "core/sha256.h"

namespace lathe::api::sigv4 {
namespace {

// Trailer names a streaming upload may announce in x-amz-trailer. Clients send one checksum.
constexpr size_t kMaxTrailerNames = 8;
constexpr size_t kMaxTrailerNameBytes = 64;

// x-amz-decoded-content-length: decimal digits only, within int64.
std::optional<int64_t> ParseLength(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;  // 18 digits cannot overflow int64
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

using Refusal = std::optional<std::pair<AuthError, std::string>>;

Refusal Refuse(std::string message) {
  return std::make_pair(AuthError::kBadContentSha256, std::move(message));
}

}  // namespace

std::string S3CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string> segments = Split(path, '/');
  for (std::string& seg : segments) seg = UriEncode(PercentDecode(seg), /*keep_slash=*/false);
  return Join(segments, "/");
}

Refusal ApplyS3PayloadRules(const SignedRequest& r, const VerifyOptions& options,
                            VerifiedRequest* out) {
  std::vector<std::string> values = HeaderValues(r, "x-amz-content-sha256");
  if (values.empty())
    return Refuse("Missing required header for this request: x-amz-content-sha256");
  if (values.size() > 1) return Refuse("x-amz-content-sha256 must be sent once.");
  const std::string value = TrimAll(values.front());
  out->signed_payload_hash = value;
  if (IsHex64(value)) {
    out->payload = PayloadMode::kHashed;
    out->payload_hash_checked = !options.body_unread;
    if (!options.body_unread && Lower(value) != Sha256Hex(r.body))
      return std::make_pair(
          AuthError::kContentSha256Mismatch,
          std::string(
              "The provided 'x-amz-content-sha256' header does not match what was computed."));
    return std::nullopt;
  }
  if (value == kUnsignedPayload) {
    out->payload = PayloadMode::kUnsigned;
    return std::nullopt;
  }
  if (value == kStreamingSigned)
    out->payload = PayloadMode::kStreamingSigned;
  else if (value == kStreamingSignedTrailer)
    out->payload = PayloadMode::kStreamingSignedTrailer;
  else if (value == kStreamingUnsignedTrailer)
    out->payload = PayloadMode::kStreamingUnsignedTrailer;
  else
    return Refuse("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, " +
                  std::string(kStreamingSigned) + ", " + std::string(kStreamingSignedTrailer) +
                  ", " + std::string(kStreamingUnsignedTrailer) +
                  " or a valid sha256 value, not '" + Printable(value) + "'.");

  std::vector<std::string> lengths = HeaderValues(r, "x-amz-decoded-content-length");
  std::optional<int64_t> length =
      lengths.size() == 1 ? ParseLength(TrimAll(lengths.front())) : std::nullopt;
  if (!length)
    return Refuse("x-amz-content-sha256: " + value +
                  " requires one x-amz-decoded-content-length header holding the payload's size "
                  "in bytes.");
  out->decoded_content_length = *length;

  if (out->payload == PayloadMode::kStreamingSigned) return std::nullopt;
  std::vector<std::string> trailers = HeaderValues(r, "x-amz-trailer");
  std::vector<std::string> names;
  for (const std::string& header : trailers)
    for (const std::string& name : Split(header, ',')) names.push_back(Lower(TrimAll(name)));
  bool valid = !names.empty() && names.size() <= kMaxTrailerNames;
  for (const std::string& name : names)
    valid = valid && !name.empty() && name.size() <= kMaxTrailerNameBytes &&
            name != "x-amz-trailer-signature" && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!valid)
    return Refuse("x-amz-content-sha256: " + value + " requires x-amz-trailer naming 1 to " +
                  std::to_string(kMaxTrailerNames) +
                  " trailing headers (e.g. x-amz-checksum-crc32).");
  out->trailer_names = std::move(names);
  return std::nullopt;
}

std::optional<std::string> S3UnsignedAmzHeader(const SignedRequest& r,
                                               const std::vector<std::string>& signed_names) {
  for (const auto& [name, value] : r.headers) {
    std::string lower = Lower(name);
    if (lower.rfind("x-amz-", 0) == 0 &&
        !std::binary_search(signed_names.begin(), signed_names.end(), lower))
      return lower;
  }
  return std::nullopt;
}

std::string S3WrongServiceMessage(std::string_view given, std::string_view expected) {
  return "The authorization header is malformed; incorrect service \"" + Printable(given) +
         "\". This endpoint belongs to \"" + std::string(expected) + "\".";
}

std::string S3WrongRegionMessage(std::string_view given, std::string_view expected,
                                 bool presigned) {
  std::string where = presigned ? "Error parsing the X-Amz-Credential parameter"
                                : "The authorization header is malformed";
  if (expected.empty()) return where + "; the region '" + Printable(given) + "' is not valid.";
  return where + "; the region '" + Printable(given) + "' is wrong; expecting '" +
         std::string(expected) + "'";
}

}  // namespace lathe::api::sigv4
