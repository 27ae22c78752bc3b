#include "aws/s3_upload_body.h"

#include "aws/sigv4_internal.h"
#include "aws/wire.h"

namespace lathe::aws {
namespace {

// S3's words for each refusal (Amazon S3 API Reference, "Error responses", and what S3 answers).
Status InvalidRequest(std::string m) { return Status::Aws("InvalidRequest", 400, std::move(m)); }
Status BadDigest(std::string m) { return Status::Aws("BadDigest", 400, std::move(m), Status::Code::kCorruption); }
Status IncompleteBody(std::string m) { return Status::Aws("IncompleteBody", 400, std::move(m)); }
Status EntityTooLarge(uint64_t size, uint64_t max) {
  return Status::Aws("EntityTooLarge", 400,
                     "Your proposed upload exceeds the maximum allowed object size (" + std::to_string(size) +
                         " bytes; at most " + std::to_string(max) + ")",
                     Status::Code::kQuotaExceeded);
}
Status ContentSha256Mismatch() {
  api::AwsAuthCode code = api::AuthErrorCode(api::AuthError::kContentSha256Mismatch, api::AuthFamily::kS3);
  return Status::Aws(std::string(code.code), code.http_status,
                     "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

constexpr std::string_view kChecksumPrefix = "x-amz-checksum-";

// The algorithm a header or trailer name "x-amz-checksum-<alg>" names; nullopt for others.
std::optional<ChecksumAlgorithm> ChecksumOfName(std::string_view lower_name) {
  if (lower_name.substr(0, kChecksumPrefix.size()) != kChecksumPrefix) return std::nullopt;
  return ParseFlexibleChecksum(lower_name.substr(kChecksumPrefix.size()));
}

std::string HeaderName(ChecksumAlgorithm a) {
  return std::string(kChecksumPrefix) + api::sigv4::Lower(ChecksumName(a));
}

// What x-amz-content-sha256 says, for a request without a signature (--no-auth): the same rules
// as for a signed one, minus what needs a key.
Result<api::VerifiedRequest> UnsignedPayload(const http::Request& request) {
  api::VerifiedRequest v;
  v.payload = api::PayloadMode::kUnsigned;
  if (!request.header("x-amz-content-sha256")) return v;
  api::SignedRequest sr{request.method, request.target, {}, {}};
  for (const auto& h : request.headers) sr.headers.emplace_back(h.name, h.value);
  api::VerifyOptions options;
  options.body_unread = true;
  if (auto refusal = api::sigv4::ApplyS3PayloadRules(sr, options, &v)) {
    api::AwsAuthCode code = api::AuthErrorCode(refusal->first, api::AuthFamily::kS3);
    return Status::Aws(std::string(code.code), code.http_status, refusal->second);
  }
  if (v.payload == api::PayloadMode::kStreamingSigned || v.payload == api::PayloadMode::kStreamingSignedTrailer)
    return InvalidRequest("x-amz-content-sha256: " + Printable(v.signed_payload_hash, 64) +
                          " needs a signed request (this one carries no Authorization)");
  return v;
}

}  // namespace

std::string S3UploadDigests::ETag() const {
  std::string etag = HexEncode(md5);
  etag.insert(etag.begin(), '"');
  etag.push_back('"');
  return etag;
}

std::pair<std::string, std::string> S3UploadDigests::ChecksumHeader() const {
  if (!checksum_algorithm) return {};
  return {HeaderName(*checksum_algorithm), Base64Encode(checksum)};
}

S3UploadBody::~S3UploadBody() = default;

Result<std::unique_ptr<S3UploadBody>> S3UploadBody::Open(const http::Request& request,
                                                         const RequestContext& context, S3UploadLimits limits) {
  std::unique_ptr<S3UploadBody> body(new S3UploadBody());
  body->reader_ = request.body;
  body->limits_ = limits;
  body->md5_ = Checksum::New(ChecksumAlgorithm::kMd5);

  // The payload's framing and hash, as the signature (or, unsigned, the header) declares them.
  Result<api::VerifiedRequest> unsigned_payload = api::VerifiedRequest{};
  if (!context.signature) {
    unsigned_payload = UnsignedPayload(request);
    if (!unsigned_payload.ok()) return unsigned_payload.status();
  }
  const api::VerifiedRequest& payload = context.signature ? *context.signature : *unsigned_payload;
  switch (payload.payload) {
    case api::PayloadMode::kHashed:
      if (!payload.payload_hash_checked) {
        body->signed_sha256_ = api::sigv4::Lower(payload.signed_payload_hash);
        body->body_sha256_ = std::make_unique<Sha256>();
      }
      body->declared_payload_ = request.body->declared_length();
      break;
    case api::PayloadMode::kUnsigned:
      body->declared_payload_ = request.body->declared_length();
      break;
    default:  // STREAMING-*: aws-chunked
      body->decoder_ = std::make_unique<api::AwsChunkedDecoder>(payload);
      body->declared_payload_ = payload.decoded_content_length;
  }
  if (body->declared_payload_ > 0 && static_cast<uint64_t>(body->declared_payload_) > limits.max_payload_bytes)
    return EntityTooLarge(static_cast<uint64_t>(body->declared_payload_), limits.max_payload_bytes);

  if (const std::string* md5 = request.header("Content-MD5")) {
    std::optional<std::string> raw = Base64Decode(*md5);
    if (!raw || raw->size() != 16)
      return Status::Aws("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
    body->content_md5_ = std::move(*raw);
  }

  // The flexible checksum: one x-amz-checksum-<alg> header, or one announced as a trailer.
  std::optional<ChecksumAlgorithm> algorithm;
  const char* kMultiple = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
  for (const http::Header& h : request.headers) {
    const std::string name = api::sigv4::Lower(h.name.substr(0, 64));
    if (name.rfind(kChecksumPrefix, 0) != 0 || name == "x-amz-checksum-type" || name == "x-amz-checksum-algorithm" ||
        name == "x-amz-checksum-mode")
      continue;
    std::optional<ChecksumAlgorithm> a = ChecksumOfName(name);
    if (!a) return InvalidRequest("lathe does not know the checksum header " + Printable(name, 64));
    if (algorithm) return InvalidRequest(kMultiple);
    std::optional<std::string> raw = Base64Decode(h.value);
    if (!raw || raw->size() != ChecksumSize(*a)) return InvalidRequest("Value for " + name + " header is invalid.");
    algorithm = a;
    body->checksum_header_value_ = std::move(raw);
  }
  for (const std::string& name : payload.trailer_names) {
    std::optional<ChecksumAlgorithm> a = ChecksumOfName(name);
    if (!a) return InvalidRequest("The value specified in the x-amz-trailer header is not supported");
    if (algorithm) return InvalidRequest(kMultiple);
    algorithm = a;
    body->checksum_trailer_ = name;
  }
  if (const std::string* sdk = request.header("x-amz-sdk-checksum-algorithm")) {
    std::optional<ChecksumAlgorithm> a = ParseFlexibleChecksum(*sdk);
    if (!a) return InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.");
    if (!algorithm)
      return InvalidRequest(
          "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers "
          "were found.");
    // The model (PutObjectRequest.ChecksumAlgorithm): a value for another algorithm is BadDigest.
    if (*a != *algorithm)
      return BadDigest("x-amz-sdk-checksum-algorithm names " + std::string(ChecksumName(*a)) +
                       " but the checksum sent is " + std::string(ChecksumName(*algorithm)));
  }
  if (algorithm) body->checksum_ = Checksum::New(*algorithm);
  return body;
}

Status S3UploadBody::Fail(Status error) {
  error_ = std::move(error);
  return error_;
}

Status S3UploadBody::ReadPiece(std::string* piece) {
  // Plain bodies are read straight into the piece; aws-chunked ones through raw_ (framing and
  // signatures are never handed out). A read may hold framing only: read on until payload or end.
  while (piece->empty()) {
    std::string* target = decoder_ ? &raw_ : piece;
    target->resize(limits_.piece_bytes);
    Result<size_t> n = reader_->Read(target->data(), target->size());
    if (!n.ok())
      return IncompleteBody("The request body ended early or could not be read (" +
                            std::to_string(payload_bytes_) + " payload bytes in): " + n.status().message());
    target->resize(*n);
    if (*n == 0) {
      ended_ = true;
      return Status::Ok();
    }
    if (decoder_) {
      LATHE_RETURN_IF_ERROR(decoder_->Feed(raw_, piece));
    } else if (body_sha256_) {
      body_sha256_->Update(*piece);
    }
  }
  return Status::Ok();
}

Status S3UploadBody::Next(std::string* piece) {
  piece->clear();
  if (!error_.ok()) return error_;
  if (ended_) return Status::Ok();
  Status read = ReadPiece(piece);
  if (!read.ok()) return Fail(std::move(read));
  payload_bytes_ += piece->size();
  if (payload_bytes_ > limits_.max_payload_bytes) return Fail(EntityTooLarge(payload_bytes_, limits_.max_payload_bytes));
  md5_->Update(*piece);
  if (checksum_) checksum_->Update(*piece);
  return Status::Ok();
}

Status S3UploadBody::CheckFlexibleChecksum(const std::string& digest) {
  std::optional<std::string> sent = checksum_header_value_;
  if (!checksum_trailer_.empty()) {
    for (const auto& [name, value] : decoder_->trailers())
      if (name == checksum_trailer_) sent = Base64Decode(value);
    if (!sent || sent->size() != digest.size())
      return InvalidRequest("Value for " + checksum_trailer_ + " trailing header is invalid.");
  }
  if (sent && *sent != digest)
    return BadDigest("The " + std::string(ChecksumName(checksum_->algorithm())) +
                     " you specified did not match the calculated checksum.");
  return Status::Ok();
}

Result<S3UploadDigests> S3UploadBody::Finish() {
  if (!error_.ok()) return error_;
  if (!ended_) return Fail(Status::Internal("S3UploadBody::Finish called before the end of the body"));
  if (decoder_) {
    Status framing = decoder_->Finish();
    if (!framing.ok()) return Fail(std::move(framing));
  } else if (declared_payload_ >= 0 && payload_bytes_ != static_cast<uint64_t>(declared_payload_)) {
    return Fail(IncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header"));
  }
  if (body_sha256_ && body_sha256_->HexDigest() != signed_sha256_) return Fail(ContentSha256Mismatch());
  S3UploadDigests out;
  out.size = payload_bytes_;
  out.md5 = md5_->Digest();
  if (content_md5_ && *content_md5_ != out.md5)
    return Fail(BadDigest("The Content-MD5 you specified did not match what we received."));
  if (checksum_) {
    out.checksum_algorithm = checksum_->algorithm();
    out.checksum = checksum_->Digest();
    Status checked = CheckFlexibleChecksum(out.checksum);
    if (!checked.ok()) return Fail(std::move(checked));
  }
  return out;
}

Result<S3UploadDigests> S3UploadBody::ReadAll(const std::function<Status(std::string_view)>& sink) {
  std::string piece;
  while (true) {
    LATHE_RETURN_IF_ERROR(Next(&piece));
    if (piece.empty()) break;
    LATHE_RETURN_IF_ERROR(sink(piece));
  }
  return Finish();
}

}  // namespace lathe::aws
