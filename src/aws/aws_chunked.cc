#include "aws/aws_chunked.h"

#include <algorithm>

#include "aws/sigv4_internal.h"
#include "core/sha256.h"

namespace lathe::api {

using namespace sigv4;  // NOLINT: helpers shared with the verifier

namespace {

bool Signed(PayloadMode mode) {
  return mode == PayloadMode::kStreamingSigned || mode == PayloadMode::kStreamingSignedTrailer;
}

bool Streaming(PayloadMode mode) {
  return Signed(mode) || mode == PayloadMode::kStreamingUnsignedTrailer;
}

// Framing and bounds; a signature that does not check out; a body that ends early.
Status Framing(std::string message) {
  return Status::Aws("InvalidRequest", 400, "aws-chunked body: " + message);
}
Status Mismatch(std::string message) {
  return Status::Aws("SignatureDoesNotMatch", 403, "aws-chunked body: " + message);
}
Status Incomplete(std::string message) {
  return Status::Aws("IncompleteBody", 400, "aws-chunked body: " + message);
}

std::optional<uint64_t> ParseHexSize(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;  // 15 hex digits cannot overflow
  uint64_t n = 0;
  for (char c : s) {
    int v = HexValue(c);
    if (v < 0) return std::nullopt;
    n = n * 16 + static_cast<uint64_t>(v);
  }
  return n;
}

}  // namespace

std::string AwsChunkSignature(const ChunkSigning& signing, std::string_view previous,
                              std::string_view chunk_sha256_hex) {
  std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing.timestamp + "\n" + signing.scope +
                        "\n" + std::string(previous) + "\n" + std::string(kEmptySha256) + "\n" +
                        std::string(chunk_sha256_hex);
  return HexOf(Hmac(signing.signing_key, to_sign));
}

std::string AwsTrailerSignature(const ChunkSigning& signing, std::string_view previous,
                                const std::vector<std::pair<std::string, std::string>>& trailers) {
  auto sorted = trailers;
  std::sort(sorted.begin(), sorted.end());
  std::string canonical;
  for (const auto& [name, value] : sorted) canonical += name + ":" + value + "\n";
  std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n" + signing.timestamp + "\n" + signing.scope +
                        "\n" + std::string(previous) + "\n" + Sha256Hex(canonical);
  return HexOf(Hmac(signing.signing_key, to_sign));
}

AwsChunkedDecoder::AwsChunkedDecoder(PayloadMode mode, ChunkSigning signing, int64_t decoded_length,
                                     std::vector<std::string> trailer_names,
                                     AwsChunkedLimits limits)
    : mode_(mode),
      signing_(std::move(signing)),
      decoded_length_(decoded_length),
      trailer_names_(std::move(trailer_names)),
      limits_(limits),
      previous_signature_(signing_.seed_signature) {
  if (!Streaming(mode_))
    Fail(
        Status::InvalidArgument("aws-chunked body: the request's x-amz-content-sha256 is not a "
                                "STREAMING-* value"));
}

AwsChunkedDecoder::AwsChunkedDecoder(const VerifiedRequest& request, AwsChunkedLimits limits)
    : AwsChunkedDecoder(request.payload, request.chunk_signing, request.decoded_content_length,
                        request.trailer_names, limits) {}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

Status AwsChunkedDecoder::Fail(Status error) {
  state_ = State::kFailed;
  error_ = std::move(error);
  return error_;
}

Status AwsChunkedDecoder::Feed(std::string_view in, std::string* payload) {
  size_t i = 0;
  while (i < in.size() || state_ == State::kFailed) {
    switch (state_) {
      case State::kFailed:
        return error_;
      case State::kDone:
        return Fail(Framing("bytes after the end of the body"));
      case State::kSizeLine:
      case State::kTrailer: {
        const size_t newline = in.find('\n', i);
        const size_t end = newline == std::string_view::npos ? in.size() : newline + 1;
        const size_t bound = state_ == State::kSizeLine
                                 ? limits_.max_line_bytes
                                 : limits_.max_trailer_bytes - trailer_bytes_;
        if (line_.size() + (end - i) > bound)
          return Fail(state_ == State::kSizeLine
                          ? Framing("a chunk size line is longer than " +
                                    std::to_string(limits_.max_line_bytes) + " bytes")
                          : Framing("the trailer is longer than " +
                                    std::to_string(limits_.max_trailer_bytes) + " bytes"));
        line_.append(in.substr(i, end - i));
        i = end;
        if (newline == std::string_view::npos) break;
        if (state_ == State::kTrailer) trailer_bytes_ += line_.size();
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
          return Fail(Framing("a line does not end with CRLF"));
        std::string line = std::move(line_);
        line_.clear();
        line.resize(line.size() - 2);
        Status s = state_ == State::kSizeLine ? OnSizeLine(line) : OnTrailerLine(line);
        if (!s.ok()) return Fail(std::move(s));
        break;
      }
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        chunk_hash_->Update(in.substr(i, n));
        payload->append(in.data() + i, n);
        payload_bytes_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) {
          state_ = State::kDataEnd;
          crlf_seen_ = 0;
        }
        break;
      }
      case State::kDataEnd: {
        if (in[i] != (crlf_seen_ == 0 ? '\r' : '\n'))
          return Fail(
              Framing("chunk data is not followed by CRLF (a chunk longer than its size?)"));
        ++i;
        if (++crlf_seen_ == 2) {
          Status s = EndChunk();
          if (!s.ok()) return Fail(std::move(s));
          state_ = State::kSizeLine;
        }
        break;
      }
    }
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::OnSizeLine(std::string_view line) {
  const size_t semicolon = std::min(line.find(';'), line.size());
  std::optional<uint64_t> size = ParseHexSize(line.substr(0, semicolon));
  if (!size) return Framing("chunk size '" + Printable(line.substr(0, semicolon)) + "' is not hex");
  std::string_view extension = line.substr(std::min(semicolon + 1, line.size()));
  constexpr std::string_view kSignature = "chunk-signature=";
  if (Signed(mode_)) {
    if (semicolon == line.size() || extension.substr(0, kSignature.size()) != kSignature ||
        !IsHex64(extension.substr(kSignature.size())))
      return Mismatch("a chunk carries no chunk-signature=<64 hex digits>");
    chunk_signature_ = Lower(extension.substr(kSignature.size()));
  } else if (semicolon != line.size()) {
    return Framing("an unsigned chunk carries an extension ('" + Printable(extension) + "')");
  }
  if (*size > limits_.max_chunk_bytes)
    return Framing("a chunk of " + std::to_string(*size) + " bytes is over the bound of " +
                   std::to_string(limits_.max_chunk_bytes) + " bytes");
  if (decoded_length_ >= 0 && payload_bytes_ + *size > static_cast<uint64_t>(decoded_length_))
    return Incomplete("more payload than x-amz-decoded-content-length (" +
                      std::to_string(decoded_length_) + " bytes)");
  chunk_hash_ = std::make_unique<Sha256>();
  remaining_ = *size;
  if (*size > 0) {
    state_ = State::kData;
    return Status::Ok();
  }
  // The final, empty chunk: its signature now, then the trailer (or just the closing CRLF).
  LATHE_RETURN_IF_ERROR(EndChunk());
  state_ = State::kTrailer;
  return Status::Ok();
}

Status AwsChunkedDecoder::EndChunk() {
  if (!Signed(mode_)) return Status::Ok();
  std::string expected = AwsChunkSignature(signing_, previous_signature_, chunk_hash_->HexDigest());
  if (!SecureEquals(chunk_signature_, expected))
    return Mismatch(
        "the chunk signature we calculated does not match the signature you "
        "provided (after " +
        std::to_string(payload_bytes_) + " payload bytes)");
  previous_signature_ = std::move(expected);
  return Status::Ok();
}

Status AwsChunkedDecoder::OnTrailerLine(std::string_view line) {
  if (line.empty()) return EndTrailer();
  if (mode_ == PayloadMode::kStreamingSigned)
    return Framing("a trailer was sent, but x-amz-content-sha256 is " +
                   std::string(kStreamingSigned));
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return Framing("trailer line '" + Printable(line) + "' is not name:value");
  std::string name = Lower(TrimAll(line.substr(0, colon)));
  std::string value = TrimAll(line.substr(colon + 1));
  if (name == "x-amz-trailer-signature") {
    if (mode_ != PayloadMode::kStreamingSignedTrailer)
      return Framing("x-amz-trailer-signature was sent, but the trailer is unsigned");
    if (!trailer_signature_.empty()) return Framing("x-amz-trailer-signature was sent twice");
    trailer_signature_ = value.empty() ? "-" : Lower(value);
    return Status::Ok();
  }
  if (!trailer_signature_.empty())
    return Framing("trailer '" + Printable(name) + "' follows x-amz-trailer-signature");
  if (std::find(trailer_names_.begin(), trailer_names_.end(), name) == trailer_names_.end())
    return Framing("trailer '" + Printable(name) + "' was not announced in x-amz-trailer");
  for (const auto& [seen, v] : trailers_)
    if (seen == name) return Framing("trailer '" + Printable(name) + "' was sent twice");
  trailers_.emplace_back(std::move(name), std::move(value));
  return Status::Ok();
}

Status AwsChunkedDecoder::EndTrailer() {
  for (const std::string& name : trailer_names_) {
    bool found = false;
    for (const auto& [seen, v] : trailers_) found = found || seen == name;
    if (!found) return Incomplete("the trailer lacks '" + name + "', announced in x-amz-trailer");
  }
  if (mode_ == PayloadMode::kStreamingSignedTrailer) {
    if (trailer_signature_.empty())
      return Mismatch("the trailer carries no x-amz-trailer-signature");
    if (!SecureEquals(trailer_signature_,
                      AwsTrailerSignature(signing_, previous_signature_, trailers_)))
      return Mismatch(
          "the trailer signature we calculated does not match the signature you "
          "provided");
  }
  state_ = State::kDone;
  return Status::Ok();
}

Status AwsChunkedDecoder::Finish() {
  if (state_ == State::kFailed) return error_;
  if (state_ != State::kDone)
    return Fail(Incomplete(state_ == State::kTrailer ? "the body ended inside its trailer"
                                                     : "the body ended before its final chunk"));
  if (decoded_length_ >= 0 && payload_bytes_ != static_cast<uint64_t>(decoded_length_))
    return Fail(Incomplete("the payload holds " + std::to_string(payload_bytes_) +
                           " bytes, but x-amz-decoded-content-length says " +
                           std::to_string(decoded_length_)));
  return Status::Ok();
}

}  // namespace lathe::api
