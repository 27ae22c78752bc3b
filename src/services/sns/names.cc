#include "services/sns/names.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace lathe::sns {
namespace {

bool IsDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

bool IsRegion(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

void RandomBytes(unsigned char* out, size_t n) {
  // RAND_bytes fails only when the OS has no entropy to give; nothing sensible can follow.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("no random bytes from OpenSSL");
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

}  // namespace

std::string TopicArn::str() const { return "arn:aws:sns:" + region + ":" + account + ":" + name; }

bool IsValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicNameLength) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

std::optional<TopicArn> ParseTopicArn(std::string_view arn) {
  if (arn.size() > kMaxArnLength) return std::nullopt;
  constexpr std::string_view kPrefix = "arn:aws:sns:";
  if (arn.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  size_t c1 = rest.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  TopicArn t{std::string(rest.substr(0, c1)), std::string(rest.substr(c1 + 1, c2 - c1 - 1)),
             std::string(rest.substr(c2 + 1))};
  if (!IsRegion(t.region) || t.account.size() != 12 || !IsDigits(t.account) || !IsValidTopicName(t.name))
    return std::nullopt;
  return t;
}

std::optional<SubscriptionArn> ParseSubscriptionArn(std::string_view arn) {
  constexpr size_t kUuidLength = 36;
  if (arn.size() > kMaxArnLength || arn.size() < kUuidLength + 2) return std::nullopt;
  size_t colon = arn.size() - kUuidLength - 1;
  if (arn[colon] != ':') return std::nullopt;
  std::string_view id = arn.substr(colon + 1);
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::optional<TopicArn> topic = ParseTopicArn(arn.substr(0, colon));
  if (!topic) return std::nullopt;
  return SubscriptionArn{*topic, std::string(id)};
}

std::string NewUuid() {
  unsigned char b[16];
  RandomBytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string h = Hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lathe::sns
