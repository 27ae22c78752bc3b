// `lathe ui`'s one-time login links: /ui/link?token=<token>, exchanged once for a session.
// The token is minted by the command line, not by the server, from the key both of them read
// (config, LATHE_* variables or DATA_DIR/credentials.json), so no request is needed to make one:
//   <access key id>.<expiry, Unix seconds>.<nonce: 128 random bits, hex>.<HMAC-SHA256 hex>
// the HMAC over "lathe-ui-login\n<key id>\n<expiry>\n<nonce>" under the key's secret. The server
// checks every part's length and characters before the MAC, refuses an expiry more than
// kMaxLinkSeconds ahead, and remembers each nonce it accepted until its expiry: a link works
// once. (The memory of used nonces is the process's: a server restarted within a link's ten
// minutes would accept it a second time.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lathe::ui {

inline constexpr int64_t kMaxLinkSeconds = 600;     // a link is good for ten minutes
inline constexpr size_t kMaxLoginTokenBytes = 512;
inline constexpr size_t kMaxAccessKeyIdBytes = 128;
inline constexpr size_t kMaxRememberedLinks = 1024;  // used, unexpired nonces; past it links are refused

// A fresh token for `access_key_id`, good until now + lifetime (at most kMaxLinkSeconds).
std::string MintLoginToken(const std::string& access_key_id, const std::string& secret, int64_t now_s,
                           int64_t lifetime_s = kMaxLinkSeconds);

// The secret of an access key the server accepts, or nullopt.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

class LoginLinks {
 public:
  // The key id the token was minted for, once: nullopt when the token is malformed, oversize,
  // expired, too far in the future, signed with a wrong secret, for an unknown key, or used.
  std::optional<std::string> Redeem(std::string_view token, const SecretLookup& secrets, int64_t now_s);

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> used_;  // nonce -> expiry
};

}  // namespace lathe::ui
