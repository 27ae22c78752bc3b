// The body of an S3 upload (PutObject, UploadPart), read in bounded pieces and checked as S3
// checks it: the signed payload hash (x-amz-content-sha256), aws-chunked framing with chunk and
// trailer signatures (aws_chunked.h), Content-MD5, one flexible checksum (x-amz-checksum-<alg>
// header or trailer), x-amz-decoded-content-length, and the size bound. The gateway reads none
// of it (the service's BodyLimit is 0), so memory stays at one piece whatever the object size.
//
// Every byte handed out is unverified until Finish() returns the digests: the caller writes the
// pieces to a temporary file and commits (rename, metadata row) only then; on any error it
// deletes the file and answers the error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/aws_chunked.h"
#include "aws/service.h"
#include "core/checksum.h"
#include "core/sha256.h"
#include "core/status.h"
#include "http/message.h"

namespace lathe::aws {

// S3's largest single PUT (PutObject; larger objects go by multipart upload).
inline constexpr uint64_t kMaxSinglePutBytes = 5ull << 30;

struct S3UploadLimits {
  uint64_t max_payload_bytes = kMaxSinglePutBytes;  // past it: EntityTooLarge
  size_t piece_bytes = 1u << 20;                    // payload bytes Next() hands out at most
};

// What a verified upload holds.
struct S3UploadDigests {
  uint64_t size = 0;
  std::string md5;  // raw 16 bytes: the ETag, and what a multipart ETag is the MD5 of
  // The flexible checksum the request named (value header, trailer or x-amz-sdk-checksum-algorithm)
  // and its raw digest, which matched what the client sent.
  std::optional<ChecksumAlgorithm> checksum_algorithm;
  std::string checksum;

  std::string ETag() const;  // the MD5's hex in quotes, as S3 sends it
  // {"x-amz-checksum-crc32", "i9aeUg=="}: the header PutObject answers with; {"", ""} without one.
  std::pair<std::string, std::string> ChecksumHeader() const;
};

class S3UploadBody {
 public:
  // Checks what the headers say before a byte is read: Content-MD5 and x-amz-checksum-* syntax,
  // the algorithm names, x-amz-trailer, and the announced size against the limit. `context`
  // (its signature: absent for unsigned requests) must outlive the body.
  static Result<std::unique_ptr<S3UploadBody>> Open(const http::Request& request, const RequestContext& context,
                                                    S3UploadLimits limits = {});
  ~S3UploadBody();

  // Replaces *piece with the next payload bytes (at most limits.piece_bytes); empty at the end of
  // the body. After an error every call returns it again.
  Status Next(std::string* piece);
  // Once Next() gave an empty piece: the whole-body checks. OK means the bytes are the client's.
  Result<S3UploadDigests> Finish();
  // Next() until the end, each piece to `sink` (whose error is returned as is), then Finish().
  Result<S3UploadDigests> ReadAll(const std::function<Status(std::string_view)>& sink);

  uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  S3UploadBody() = default;
  Status Fail(Status error);
  Status ReadPiece(std::string* piece);
  Status CheckFlexibleChecksum(const std::string& digest);

  http::BodyReader* reader_ = nullptr;
  S3UploadLimits limits_;
  std::unique_ptr<api::AwsChunkedDecoder> decoder_;  // aws-chunked bodies only
  std::string raw_;                                  // one read of aws-chunked bytes
  std::string signed_sha256_;                        // hex the body must hash to; "" when none
  std::unique_ptr<Sha256> body_sha256_;
  std::unique_ptr<Checksum> md5_;
  std::optional<std::string> content_md5_;  // raw
  std::unique_ptr<Checksum> checksum_;
  std::optional<std::string> checksum_header_value_;  // raw, from x-amz-checksum-<alg>
  std::string checksum_trailer_;                      // "x-amz-checksum-crc32" when it comes last
  int64_t declared_payload_ = -1;
  uint64_t payload_bytes_ = 0;
  bool ended_ = false;
  Status error_;
};

}  // namespace lathe::aws
