// Secrets the dashboard hands out (session ids, CSRF tokens, login-link nonces): bytes from the
// operating system's generator (OpenSSL's RAND_bytes), never lathe's reproducible Rng; compared
// in constant time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lathe::ui {

// `bytes` random bytes as 2*bytes lowercase hex digits. Aborts when the OS has no randomness to
// give: nothing handed out afterwards would be safe.
std::string RandomHex(size_t bytes);
// Equal without an early exit on the first difference (lengths are not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// HMAC-SHA256 of `message` under `key`, as 64 lowercase hex digits.
std::string HmacSha256Hex(std::string_view key, std::string_view message);
// Whether `s` is exactly `n` lowercase hex digits (checked before any lookup by it).
bool IsLowerHex(std::string_view s, size_t n);

}  // namespace lathe::ui
