#include "ui/login_link.h"

#include <algorithm>
#include <vector>

#include "ui/secure_random.h"

namespace lathe::ui {
namespace {

constexpr size_t kNonceHexDigits = 32;
constexpr size_t kMacHexDigits = 64;
constexpr size_t kMaxExpiryDigits = 12;

std::string SignedText(std::string_view key_id, std::string_view expiry, std::string_view nonce) {
  std::string s = "lathe-ui-login\n";
  s.append(key_id).append("\n").append(expiry).append("\n").append(nonce);
  return s;
}

bool IsKeyId(std::string_view s) {
  if (s.empty() || s.size() > kMaxAccessKeyIdBytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool IsDigits(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string MintLoginToken(const std::string& access_key_id, const std::string& secret, int64_t now_s,
                           int64_t lifetime_s) {
  const std::string expiry = std::to_string(now_s + std::clamp<int64_t>(lifetime_s, 1, kMaxLinkSeconds));
  const std::string nonce = RandomHex(kNonceHexDigits / 2);
  return access_key_id + "." + expiry + "." + nonce + "." + HmacSha256Hex(secret, SignedText(access_key_id, expiry, nonce));
}

std::optional<std::string> LoginLinks::Redeem(std::string_view token, const SecretLookup& secrets, int64_t now_s) {
  if (token.empty() || token.size() > kMaxLoginTokenBytes) return std::nullopt;
  std::vector<std::string_view> parts;
  while (parts.size() < 5) {
    const size_t dot = token.find('.');
    parts.push_back(token.substr(0, dot));
    if (dot == std::string_view::npos) break;
    token.remove_prefix(dot + 1);
  }
  if (parts.size() != 4) return std::nullopt;
  const std::string_view key_id = parts[0], expiry_text = parts[1], nonce = parts[2], mac = parts[3];
  if (!IsKeyId(key_id) || !IsDigits(expiry_text, kMaxExpiryDigits) || !IsLowerHex(nonce, kNonceHexDigits) ||
      !IsLowerHex(mac, kMacHexDigits))
    return std::nullopt;
  const int64_t expiry = std::stoll(std::string(expiry_text));
  if (expiry < now_s || expiry > now_s + kMaxLinkSeconds) return std::nullopt;
  const std::optional<std::string> secret = secrets(std::string(key_id));
  if (!secret || !ConstantTimeEquals(mac, HmacSha256Hex(*secret, SignedText(key_id, expiry_text, nonce))))
    return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = used_.begin(); it != used_.end();) it = it->second < now_s ? used_.erase(it) : std::next(it);
  if (used_.size() >= kMaxRememberedLinks) return std::nullopt;  // cannot remember it: cannot accept it once
  if (!used_.emplace(std::string(nonce), expiry).second) return std::nullopt;
  return std::string(key_id);
}

}  // namespace lathe::ui
