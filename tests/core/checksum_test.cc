// S3's digests against published vectors (RFC 1321, RFC 3174/FIPS 180, RFC 4648, the CRC
// catalogue's "123456789" checks) and against a bit-at-a-time reference for long, split inputs.
#include "core/checksum.h"

#include <gtest/gtest.h>

#include <random>

namespace lathe {
namespace {

std::string Hex(ChecksumAlgorithm a, std::string_view data) { return HexEncode(ChecksumOf(a, data)); }

// The textbook bitwise reflected CRC: slow, obviously right.
template <typename T>
T BitwiseCrc(T reflected_poly, std::string_view data) {
  T crc = ~T{0};
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ reflected_poly : crc >> 1;
  }
  return ~crc;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(ChecksumTest, CrcCheckValuesOfTheCatalogue) {
  EXPECT_EQ(Crc32(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc64Nvme(0, "123456789"), 0xAE8B14860A799888ull);
  EXPECT_EQ(Crc32(0, ""), 0u);
  EXPECT_EQ(Crc32c(0, ""), 0u);
  EXPECT_EQ(Crc64Nvme(0, ""), 0u);
}

TEST(ChecksumTest, CrcsMatchABitwiseReferenceWhateverTheSplit) {
  const std::string data = RandomBytes(5000, 7);
  const uint32_t crc32c = BitwiseCrc<uint32_t>(0x82F63B78u, data);
  const uint64_t crc64 = BitwiseCrc<uint64_t>(0x9A6C9329AC4BC9B5ull, data);
  const uint32_t crc32 = BitwiseCrc<uint32_t>(0xEDB88320u, data);
  for (size_t split : {0, 1, 7, 8, 13, 4096, 4999, 5000}) {
    std::string_view a(data.data(), split), b(data.data() + split, data.size() - split);
    EXPECT_EQ(Crc32c(Crc32c(0, a), b), crc32c) << split;
    EXPECT_EQ(Crc64Nvme(Crc64Nvme(0, a), b), crc64) << split;
    EXPECT_EQ(Crc32(Crc32(0, a), b), crc32) << split;
  }
}

TEST(ChecksumTest, StreamingObjectsGiveTheOneShotDigest) {
  const std::string data = RandomBytes(100000, 3);
  for (ChecksumAlgorithm a : {ChecksumAlgorithm::kMd5, ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                              ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
    std::unique_ptr<Checksum> c = Checksum::New(a);
    for (size_t i = 0; i < data.size(); i += 999) c->Update(std::string_view(data).substr(i, 999));
    const std::string digest = c->Digest();
    EXPECT_EQ(digest, ChecksumOf(a, data)) << ChecksumName(a);
    EXPECT_EQ(digest.size(), ChecksumSize(a)) << ChecksumName(a);
  }
}

TEST(ChecksumTest, CrcDigestsAreBigEndianAsS3SendsThem) {
  EXPECT_EQ(Hex(ChecksumAlgorithm::kCrc32c, "123456789"), "e3069283");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kCrc64Nvme, "123456789"), "ae8b14860a799888");
  // What botocore sends as x-amz-checksum-crc32 for b"Hello world".
  EXPECT_EQ(Base64Encode(ChecksumOf(ChecksumAlgorithm::kCrc32, "Hello world")), "i9aeUg==");
  EXPECT_EQ(Base64Encode(ChecksumOf(ChecksumAlgorithm::kCrc32, "")), "AAAAAA==");
}

TEST(ChecksumTest, Md5VectorsOfRfc1321) {
  EXPECT_EQ(Hex(ChecksumAlgorithm::kMd5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kMd5, "a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kMd5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kMd5, "message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kMd5, "12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(ChecksumTest, ShaVectorsOfFips180) {
  EXPECT_EQ(Hex(ChecksumAlgorithm::kSha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(ChecksumAlgorithm::kSha256, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Base64Encode(ChecksumOf(ChecksumAlgorithm::kSha256, "abc")), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(ChecksumTest, NamesAsS3WritesThem) {
  EXPECT_EQ(ParseFlexibleChecksum("crc32"), ChecksumAlgorithm::kCrc32);
  EXPECT_EQ(ParseFlexibleChecksum("CRC32C"), ChecksumAlgorithm::kCrc32c);
  EXPECT_EQ(ParseFlexibleChecksum("Crc64Nvme"), ChecksumAlgorithm::kCrc64Nvme);
  EXPECT_EQ(ParseFlexibleChecksum("SHA1"), ChecksumAlgorithm::kSha1);
  EXPECT_EQ(ParseFlexibleChecksum("sha256"), ChecksumAlgorithm::kSha256);
  EXPECT_EQ(ParseFlexibleChecksum("MD5"), std::nullopt);  // not a flexible checksum
  EXPECT_EQ(ParseFlexibleChecksum(""), std::nullopt);
  EXPECT_EQ(ParseFlexibleChecksum(std::string(100, 'C')), std::nullopt);
  EXPECT_EQ(ChecksumName(ChecksumAlgorithm::kCrc64Nvme), "CRC64NVME");
}

TEST(Base64Test, VectorsOfRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
  const std::string all = RandomBytes(300, 11);
  EXPECT_EQ(Base64Decode(Base64Encode(all)), all);
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST(Base64Test, DecodingIsStrict) {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm 9v", "Zm9v\n", "Zm-_", "ab=c",
                          "Zh==",  // unused bits set: "Zg==" is the one encoding of "f"
                          "Zm9=",  // likewise for "fo" ("Zm8=")
                          "Zm9v====", "*m9v"})
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace lathe
