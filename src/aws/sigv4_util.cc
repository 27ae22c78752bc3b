// Helpers shared by the SigV4 verifier, signer and aws-chunked decoder (sigv4_internal.h).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>

#include "aws/sigv4_internal.h"
#include "core/sha256.h"

namespace lathe::api::sigv4 {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n\v\f";
// Written and matched by hand: strftime and strptime follow the process locale.
constexpr std::string_view kDays = "SunMonTueWedThuFriSat";
constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find(sep, start)) != s.npos; start = end + 1)
    out.emplace_back(s.substr(start, end - start));
  out.emplace_back(s.substr(start));
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) (i ? out.append(sep) : out).append(parts[i]);
  return out;
}

std::string TrimAll(std::string_view v) {
  std::vector<std::string> words;
  for (size_t i = v.find_first_not_of(kWhitespace); i != std::string_view::npos;) {
    size_t end = std::min(v.find_first_of(kWhitespace, i), v.size());
    words.emplace_back(v.substr(i, end - i));
    i = v.find_first_not_of(kWhitespace, end);
  }
  return Join(words, " ");
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return HexValue(c) >= 0; });
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/'))
      out.push_back(static_cast<char>(c));
    else
      out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& pair : Split(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = std::min(pair.find('='), pair.size());
    pairs.emplace_back(PercentDecode(pair.substr(0, eq)),
                       PercentDecode(pair.substr(std::min(eq + 1, pair.size()))));
  }
  return pairs;
}

// Pairs are decoded and re-encoded, so that clients encoding differently still agree (for
// botocore's own encoding this is the identity), then sorted by encoded key, then value.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& pairs,
                           std::string_view skip) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [key, value] : pairs)
    if (skip.empty() || key != skip)
      encoded.emplace_back(UriEncode(key, false), UriEncode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [key, value] : encoded) (out.empty() ? out : out += '&') += key + "=" + value;
  return out;
}

std::vector<std::string> HeaderValues(const SignedRequest& r, std::string_view lower_name) {
  std::vector<std::string> out;
  for (const auto& [name, value] : r.headers)
    if (name.size() == lower_name.size() && Lower(name) == lower_name) out.push_back(value);
  return out;
}

std::string Hmac(std::string_view key, std::string_view msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string HexOf(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex;
}

bool SecureEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SigningKey(std::string_view secret, const std::vector<std::string>& scope) {
  std::string key = "AWS4" + std::string(secret);
  for (const std::string& part : scope) key = Hmac(key, part);
  return key;
}

std::string FormatTime(std::time_t t, bool http_date) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  if (http_date) {
    std::snprintf(buf, sizeof buf, "%.3s, %02d %.3s %04d %02d:%02d:%02d -0000",
                  &kDays[tm.tm_wday * 3], tm.tm_mday, &kMonths[tm.tm_mon * 3], tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

std::optional<std::time_t> ParseTime(const std::string& s) {
  if (s.size() > 64) return std::nullopt;  // sscanf's %s below reads into fixed buffers
  std::tm tm{};
  char tail = 0, month[4] = {}, zone[8] = {};
  bool http_date = true;
  if (s.size() == 16 && std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2d%c", &tm.tm_year, &tm.tm_mon,
                                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail) == 7) {
    if (tail != 'Z') return std::nullopt;
    http_date = false;
  } else {
    if (std::sscanf(s.c_str(), "%*3s, %d %3s %d %d:%d:%d %7s", &tm.tm_mday, month, &tm.tm_year,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone) != 7)
      return std::nullopt;
    size_t pos = std::string_view(month).size() == 3 ? kMonths.find(month) : kMonths.npos;
    std::string_view z = zone;
    if (pos == kMonths.npos || pos % 3 != 0 || (z != "GMT" && z != "-0000" && z != "+0000"))
      return std::nullopt;
    tm.tm_mon = static_cast<int>(pos / 3) + 1;
  }
  if (tm.tm_year < 1970 || tm.tm_year > 9999) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  std::time_t t = timegm(&tm);
  // Round-tripping rejects what sscanf tolerates (" 6", "+1") and dates like February 30.
  if (!http_date && FormatTime(t) != s) return std::nullopt;
  return t;
}

std::string CanonicalRequest(const SignedRequest& r, const CanonicalInput& in) {
  std::string creq = in.method + "\n" + in.canonical_uri + "\n" + in.canonical_query + "\n";
  for (const std::string& name : in.signed_names) {
    std::vector<std::string> values = HeaderValues(r, name);
    for (std::string& v : values) v = TrimAll(v);
    creq += name + ":" + Join(values, ",") + "\n";
  }
  creq += '\n' + Join(in.signed_names, ";") + '\n' + in.payload_hash;
  return creq;
}

std::string SignCanonical(const std::string& canonical_request, const std::string& timestamp,
                          const std::vector<std::string>& scope, const std::string& signing_key) {
  return HexOf(Hmac(signing_key, std::string(kAlgorithm) + "\n" + timestamp + "\n" +
                                     Join(scope, "/") + "\n" + Sha256Hex(canonical_request)));
}

// botocore's remove_dot_segments (which also drops empty segments), then every byte outside
// the unreserved set encoded again: an incoming %3A is signed as %253A.
std::string NormalizedCanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string> kept;
  for (const std::string& seg : Split(path, '/')) {
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!seg.empty() && seg != ".") {
      kept.push_back(seg);
    }
  }
  std::string out(path.front() == '/' ? "/" : "");
  out += Join(kept, "/");
  if (path.back() == '/' && !kept.empty()) out += '/';
  return UriEncode(out, /*keep_slash=*/true);
}

}  // namespace lathe::api::sigv4
