#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/sha256.h"

namespace lathe::api {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kWhitespace = " \t\r\n\v\f";
// Written and matched by hand: strftime and strptime follow the process locale.
constexpr std::string_view kDays = "SunMonTueWedThuFriSat";
constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";

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

// RFC 3986 encoding with uppercase hex, as SigV4 requires; '/' is kept in paths only.
std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    // ASCII ranges by hand: std::isalnum follows the locale and may accept bytes above 0x7f.
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/'))
      out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

// Decodes %XX only: '+' stays '+', since SigV4 clients send a space as %20.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// botocore's remove_dot_segments (which also drops empty segments), then every byte outside
// the unreserved set encoded again: an incoming %3A is signed as %253A.
std::string CanonicalUri(std::string_view path) {
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

// Pairs are decoded and re-encoded, so that clients encoding differently still agree (for
// botocore's own encoding this is the identity), then sorted by encoded key, then value.
std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& pair : Split(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = std::min(pair.find('='), pair.size());
    pairs.emplace_back(UriEncode(PercentDecode(pair.substr(0, eq)), false),
                       UriEncode(PercentDecode(pair.substr(std::min(eq + 1, pair.size()))), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<std::string> joined;
  for (const auto& [key, value] : pairs) joined.push_back(key + "=" + value);
  return Join(joined, "&");
}

// Trims and collapses inner runs of whitespace, like botocore's ' '.join(value.split()).
std::string TrimAll(std::string_view v) {
  std::vector<std::string> words;
  for (size_t i = v.find_first_not_of(kWhitespace); i != std::string_view::npos;) {
    size_t end = std::min(v.find_first_of(kWhitespace, i), v.size());
    words.emplace_back(v.substr(i, end - i));
    i = v.find_first_not_of(kWhitespace, end);
  }
  return Join(words, " ");
}

std::vector<std::string> HeaderValues(const SignedRequest& r, std::string_view lower_name) {
  std::vector<std::string> out;
  for (const auto& [name, value] : r.headers)
    if (Lower(name) == lower_name) out.push_back(value);
  return out;
}

std::string Hmac(std::string_view key, std::string_view msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

// "20150830T123600Z", or with http_date the form botocore writes into Date (formatdate()).
std::string FormatTime(std::time_t t, bool http_date = false) {
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

// Either form above; an HTTP date may also end in GMT or +0000.
std::optional<std::time_t> ParseTime(const std::string& s) {
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

// The hex signature over the canonical request, given the sorted lowercase header names it
// covers and the scope {date, region, service, "aws4_request"}.
std::string Signature(const SignedRequest& r, const std::vector<std::string>& names,
                      const std::string& payload_hash, const std::string& timestamp,
                      const std::vector<std::string>& scope, const std::string& secret) {
  std::string_view target = r.target;
  size_t q = std::min(target.find('?'), target.size());
  std::string creq = r.method + "\n" + CanonicalUri(target.substr(0, q)) + "\n" +
                     CanonicalQuery(target.substr(std::min(q + 1, target.size()))) + "\n";
  for (const std::string& name : names) {
    std::vector<std::string> values = HeaderValues(r, name);
    for (std::string& v : values) v = TrimAll(v);
    creq += name + ":" + Join(values, ",") + "\n";
  }
  creq += '\n' + Join(names, ";") + '\n' + payload_hash;
  std::string key = "AWS4" + secret;
  for (const std::string& part : scope) key = Hmac(key, part);
  std::string mac = Hmac(key, std::string(kAlgorithm) + "\n" + timestamp + "\n" + Join(scope, "/") +
                                  "\n" + Sha256Hex(creq));
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : mac) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex;
}

std::string PayloadHash(const SignedRequest& r) {
  std::vector<std::string> v = HeaderValues(r, "x-amz-content-sha256");
  return v.empty() ? Sha256Hex(r.body) : TrimAll(v.front());
}

// Request text echoed in messages: printable ASCII only, so invalid UTF-8 is never sent back.
std::string Printable(std::string_view s) {
  std::string out(s.substr(0, 200));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

AuthFailure Fail(AuthError kind, std::string message) {
  switch (kind) {
    case AuthError::kMissing: return {kind, 403, "MissingAuthenticationTokenException", message};
    case AuthError::kUnknownKey: return {kind, 403, "UnrecognizedClientException", message};
    case AuthError::kMalformed: return {kind, 400, "IncompleteSignatureException", message};
    default: return {kind, 403, "InvalidSignatureException", message};
  }
}

}  // namespace

std::variant<std::string, AuthFailure> VerifySigV4(const SignedRequest& request,
                                                   const SecretLookup& lookup, std::time_t now,
                                                   int max_skew_seconds) {
  std::vector<std::string> auth = HeaderValues(request, "authorization");
  if (auth.empty() || TrimAll(auth.front()).empty())
    return Fail(AuthError::kMissing, "Missing Authentication Token");
  if (auth.size() > 1)
    return Fail(AuthError::kMalformed, "Only one Authorization header is allowed.");

  // "AWS4-HMAC-SHA256 Credential=k/d/r/s/aws4_request, SignedHeaders=a;b, Signature=hex":
  // parameters are separated by commas and/or spaces, as AWS accepts either.
  std::string header = TrimAll(auth.front());
  std::replace(header.begin(), header.end(), ',', ' ');
  std::vector<std::string> tokens = Split(TrimAll(header), ' ');
  std::map<std::string, std::string> params;
  for (const std::string& t : tokens) {
    size_t eq = t.find('=');
    if (eq != std::string::npos) params[t.substr(0, eq)] = t.substr(eq + 1);
  }
  std::vector<std::string> dates = HeaderValues(request, "x-amz-date");
  if (dates.empty()) dates = HeaderValues(request, "date");
  std::vector<std::string> missing;
  for (const char* name : {"Credential", "Signature", "SignedHeaders"})
    if (params[name].empty())
      missing.push_back("Authorization header requires '" + std::string(name) + "' parameter.");
  if (dates.empty())
    missing.push_back("Authorization header requires existence of either a 'X-Amz-Date' or a "
                      "'Date' header.");
  // Unlike AWS, the header itself is not echoed: a bearer token sent by mistake is a secret.
  if (!missing.empty()) return Fail(AuthError::kMalformed, Join(missing, " "));
  if (tokens[0] != kAlgorithm)
    return Fail(AuthError::kMalformed,
                "Unsupported AWS 'algorithm': '" + Printable(tokens[0]) + "'.");

  std::vector<std::string> credential = Split(params["Credential"], '/');
  if (credential.size() != 5)
    return Fail(AuthError::kMalformed,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/"
                "service/term, got '" + Printable(params["Credential"]) + "'");
  if (credential[4] != "aws4_request")
    return Fail(AuthError::kMalformed,
                "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                    Printable(credential[4]) + "'.");
  std::optional<std::time_t> signed_at = ParseTime(TrimAll(dates.front()));
  if (!signed_at)
    return Fail(AuthError::kMalformed, "Date must be in ISO-8601 'basic format'. Got '" +
                                           Printable(dates.front()) +
                                           "'. See http://en.wikipedia.org/wiki/ISO_8601");

  std::optional<std::string> secret = lookup(credential[0]);
  if (!secret)
    return Fail(AuthError::kUnknownKey, "The security token included in the request is invalid.");

  const std::string timestamp = FormatTime(*signed_at);
  const std::string minutes = std::to_string(max_skew_seconds / 60) + " min.)";
  if (*signed_at < now - max_skew_seconds)
    return Fail(AuthError::kStale, "Signature expired: " + timestamp + " is now earlier than " +
                                       FormatTime(now - max_skew_seconds) + " (" +
                                       FormatTime(now) + " - " + minutes);
  if (*signed_at > now + max_skew_seconds)
    return Fail(AuthError::kStale, "Signature not yet current: " + timestamp +
                                       " is still later than " +
                                       FormatTime(now + max_skew_seconds) + " (" +
                                       FormatTime(now) + " + " + minutes);
  if (credential[1] != timestamp.substr(0, 8))
    return Fail(AuthError::kBadSignature,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '" + Printable(credential[1]) + "' != '" + timestamp.substr(0, 8) +
                    "', from '" + timestamp + "'.");

  // A hex payload hash must be the body's: otherwise the signature covers a body never checked.
  // Other values (UNSIGNED-PAYLOAD) are signed as sent, as AWS does.
  std::string payload_hash = PayloadHash(request);
  bool is_hex = payload_hash.size() == 64 && std::all_of(payload_hash.begin(), payload_hash.end(),
                                                         [](char c) { return HexValue(c) >= 0; });
  if (is_hex && Lower(payload_hash) != Sha256Hex(request.body))
    return Fail(AuthError::kBadSignature,
                "The provided 'x-amz-content-sha256' header does not match what was computed.");

  std::vector<std::string> names;
  for (const std::string& name : Split(params["SignedHeaders"], ';')) names.push_back(Lower(name));
  SortUnique(&names);
  std::string expected = Signature(request, names, payload_hash, timestamp,
                                   {credential.begin() + 1, credential.end()}, *secret);
  const std::string& given = params["Signature"];
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0)
    return Fail(AuthError::kBadSignature,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  return credential[0];
}

void SignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
               const Credentials& credentials, std::time_t now) {
  // As botocore: a request that carries Date keeps Date (rewritten); otherwise X-Amz-Date is set.
  bool use_date = !HeaderValues(*request, "date").empty();
  auto& headers = request->headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& h) {
                                 std::string n = Lower(h.first);
                                 return n == "authorization" || n == "x-amz-date" ||
                                        (use_date && n == "date");
                               }),
                headers.end());
  headers.emplace_back(use_date ? "Date" : "X-Amz-Date", FormatTime(now, use_date));

  // botocore's SIGNED_HEADERS_BLACKLIST: headers that proxies and HTTP stacks rewrite.
  static const std::vector<std::string> kUnsigned = {
      "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
      "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
  std::vector<std::string> names;
  for (const auto& h : headers)
    if (std::find(kUnsigned.begin(), kUnsigned.end(), Lower(h.first)) == kUnsigned.end())
      names.push_back(Lower(h.first));
  SortUnique(&names);

  const std::string timestamp = FormatTime(now);
  std::vector<std::string> scope = {timestamp.substr(0, 8), std::string(region),
                                    std::string(service), "aws4_request"};
  std::string signature = Signature(*request, names, PayloadHash(*request), timestamp, scope,
                                    credentials.secret_access_key);
  headers.emplace_back("Authorization", std::string(kAlgorithm) + " Credential=" +
                                            credentials.access_key_id + "/" + Join(scope, "/") +
                                            ", SignedHeaders=" + Join(names, ";") +
                                            ", Signature=" + signature);
}

}  // namespace lathe::api
