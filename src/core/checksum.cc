#include "core/checksum.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace lathe {
namespace {

static_assert(std::endian::native == std::endian::little, "the slicing-by-8 CRCs read words little-endian");

// Slicing-by-8 tables of a reflected CRC: eight input bytes per step instead of one, the
// portable way to a few GB/s (S3 checksums every uploaded byte).
template <typename T>
struct SlicingTables {
  T t[8][256] = {};
  constexpr explicit SlicingTables(T reflected_poly) {
    for (unsigned i = 0; i < 256; ++i) {
      T c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ reflected_poly : c >> 1;
      t[0][i] = c;
    }
    for (unsigned i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

// `crc` is the register (already inverted by the caller).
template <typename T>
T SlicingUpdate(const SlicingTables<T>& tb, T crc, const unsigned char* p, size_t n) {
  const auto& t = tb.t;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if constexpr (sizeof(T) == 4) {
      const uint32_t lo = crc ^ static_cast<uint32_t>(word), hi = static_cast<uint32_t>(word >> 32);
      crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
            t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    } else {
      const uint64_t x = crc ^ word;
      crc = t[7][x & 0xff] ^ t[6][(x >> 8) & 0xff] ^ t[5][(x >> 16) & 0xff] ^ t[4][(x >> 24) & 0xff] ^
            t[3][(x >> 32) & 0xff] ^ t[2][(x >> 40) & 0xff] ^ t[1][(x >> 48) & 0xff] ^ t[0][x >> 56];
    }
  }
  for (; n > 0; ++p, --n) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
  return crc;
}

constexpr uint64_t Reflect64(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 64; ++i) r |= ((v >> i) & 1) << (63 - i);
  return r;
}

constexpr SlicingTables<uint32_t> kCrc32cTables(0x82F63B78u);  // Castagnoli 0x1EDC6F41 reflected
constexpr SlicingTables<uint64_t> kCrc64NvmeTables(Reflect64(0xAD93D23594C93659ull));

#if defined(__x86_64__)
// SSE4.2's crc32 instruction computes CRC32C (only that polynomial): ~10x the table.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(uint32_t crc, const unsigned char* p, size_t n) {
  uint64_t c = crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}
const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

template <typename T>
std::string BigEndian(T v) {
  std::string out(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
  return out;
}

// MD5, SHA-1, SHA-256: OpenSSL's EVP (one class for the three; Sha256 in sha256.h gives hex only).
class EvpChecksum : public Checksum {
 public:
  EvpChecksum(ChecksumAlgorithm algorithm, const EVP_MD* md) : algorithm_(algorithm), ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, md, nullptr);
  }
  ~EvpChecksum() override { EVP_MD_CTX_free(ctx_); }
  ChecksumAlgorithm algorithm() const override { return algorithm_; }
  void Update(std::string_view data) override { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Digest() override {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    return std::string(reinterpret_cast<char*>(md), len);
  }

 private:
  ChecksumAlgorithm algorithm_;
  EVP_MD_CTX* ctx_;
};

template <typename T, T (*Fn)(T, std::string_view)>
class CrcChecksum : public Checksum {
 public:
  explicit CrcChecksum(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {}
  ChecksumAlgorithm algorithm() const override { return algorithm_; }
  void Update(std::string_view data) override { crc_ = Fn(crc_, data); }
  std::string Digest() override { return BigEndian(crc_); }

 private:
  ChecksumAlgorithm algorithm_;
  T crc_ = 0;
};

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string_view ChecksumName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kMd5: return "MD5";
    case ChecksumAlgorithm::kCrc32: return "CRC32";
    case ChecksumAlgorithm::kCrc32c: return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme: return "CRC64NVME";
    case ChecksumAlgorithm::kSha1: return "SHA1";
    case ChecksumAlgorithm::kSha256: return "SHA256";
  }
  return "?";
}

std::optional<ChecksumAlgorithm> ParseFlexibleChecksum(std::string_view name) {
  if (name.size() > 16) return std::nullopt;
  std::string upper(name);
  for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  for (ChecksumAlgorithm a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
                              ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256})
    if (ChecksumName(a) == upper) return a;
  return std::nullopt;
}

size_t ChecksumSize(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kMd5: return 16;
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c: return 4;
    case ChecksumAlgorithm::kCrc64Nvme: return 8;
    case ChecksumAlgorithm::kSha1: return 20;
    case ChecksumAlgorithm::kSha256: return 32;
  }
  return 0;
}

std::unique_ptr<Checksum> Checksum::New(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kMd5: return std::make_unique<EvpChecksum>(algorithm, EVP_md5());
    case ChecksumAlgorithm::kSha1: return std::make_unique<EvpChecksum>(algorithm, EVP_sha1());
    case ChecksumAlgorithm::kSha256: return std::make_unique<EvpChecksum>(algorithm, EVP_sha256());
    case ChecksumAlgorithm::kCrc32: return std::make_unique<CrcChecksum<uint32_t, Crc32>>(algorithm);
    case ChecksumAlgorithm::kCrc32c: return std::make_unique<CrcChecksum<uint32_t, Crc32c>>(algorithm);
    case ChecksumAlgorithm::kCrc64Nvme: return std::make_unique<CrcChecksum<uint64_t, Crc64Nvme>>(algorithm);
  }
  return nullptr;
}

std::string ChecksumOf(ChecksumAlgorithm algorithm, std::string_view data) {
  std::unique_ptr<Checksum> c = Checksum::New(algorithm);
  c->Update(data);
  return c->Digest();
}

uint32_t Crc32(uint32_t crc, std::string_view data) {
  // zlib's crc32 (braided, several GB/s) is the same CRC; zlib is on every system curl is.
  return static_cast<uint32_t>(crc32_z(crc, Bytes(data), data.size()));
}

uint32_t Crc32c(uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (kHasSse42) return ~Crc32cHardware(~crc, Bytes(data), data.size());
#endif
  return ~SlicingUpdate(kCrc32cTables, ~crc, Bytes(data), data.size());
}

uint64_t Crc64Nvme(uint64_t crc, std::string_view data) {
  return ~SlicingUpdate(kCrc64NvmeTables, ~crc, Bytes(data), data.size());
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) | static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64[(v >> s) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return std::nullopt;  // "ab=c"
    uint32_t v = 0;
    for (size_t k = 0; k < 4 - pad; ++k) {
      const int d = Base64Value(text[i + k]);
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    v <<= 6 * pad;
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))) return std::nullopt;  // bits past the data
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8));
    if (pad < 1) out.push_back(static_cast<char>(v));
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace lathe
