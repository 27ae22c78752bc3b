// Streaming digests behind one interface: the MD5 of S3's ETag and Content-MD5, and the flexible
// checksums S3 clients send (x-amz-checksum-crc32 / crc32c / crc64nvme / sha1 / sha256), plus the
// base64 S3 writes them in. S3's value of a checksum is base64 of the digest's bytes, CRCs
// big-endian: CRC32("") is "AAAAAA==".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace lathe {

enum class ChecksumAlgorithm { kMd5, kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// S3's name of the algorithm: "MD5", "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256".
std::string_view ChecksumName(ChecksumAlgorithm algorithm);
// The algorithm S3 names `name` (any case, as x-amz-sdk-checksum-algorithm may send it); MD5 is
// not a flexible checksum and is not accepted here.
std::optional<ChecksumAlgorithm> ParseFlexibleChecksum(std::string_view name);
// Digest size in bytes: 16, 4, 4, 8, 20, 32.
size_t ChecksumSize(ChecksumAlgorithm algorithm);

class Checksum {
 public:
  static std::unique_ptr<Checksum> New(ChecksumAlgorithm algorithm);
  virtual ~Checksum() = default;
  virtual ChecksumAlgorithm algorithm() const = 0;
  virtual void Update(std::string_view data) = 0;
  // The digest's raw bytes (CRCs big-endian). Call once; the object is spent afterwards.
  virtual std::string Digest() = 0;
};

// The digest of `data` in one call, raw bytes.
std::string ChecksumOf(ChecksumAlgorithm algorithm, std::string_view data);

// Running CRCs: start from 0 and pass the previous result to continue (zlib's convention).
uint32_t Crc32(uint32_t crc, std::string_view data);      // ISO-HDLC (zlib, PNG)
uint32_t Crc32c(uint32_t crc, std::string_view data);     // Castagnoli (iSCSI)
uint64_t Crc64Nvme(uint64_t crc, std::string_view data);  // NVMe (poly 0xad93d23594c93659)

// RFC 4648 base64, standard alphabet, with padding.
std::string Base64Encode(std::string_view bytes);
// Strict: length a multiple of 4, '=' only as final padding, no whitespace, unused bits zero
// (so each value has exactly one encoding). nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view text);

// Lower-case hex of raw bytes (the MD5 in an ETag).
std::string HexEncode(std::string_view bytes);

}  // namespace lathe
