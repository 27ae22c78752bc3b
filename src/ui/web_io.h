// The dashboard's small HTTP vocabulary: cookies, form bodies, JSON answers and the headers every
// answer carries (a strict Content-Security-Policy: lathe's own scripts and styles only, no inline
// script, no framing). Bounded: a cookie header, a form body and each of its fields have a
// maximum size, checked before anything is parsed (docs/serve.md, Limits).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/message.h"

namespace lathe::ui {

inline constexpr size_t kMaxCookieHeaderBytes = 4096;
inline constexpr size_t kMaxFormBytes = 8192;
inline constexpr size_t kMaxFormFields = 16;
inline constexpr size_t kMaxJsonBodyBytes = 256 * 1024;  // the playground's prompts and the actions' bodies
inline constexpr const char* kSessionCookie = "lathe_session";
inline constexpr const char* kCsrfHeader = "X-CSRF-Token";

// The value of cookie `name` in the request's Cookie header(s); nullopt when absent, repeated
// (two values: neither is trusted) or the header is oversize.
std::optional<std::string> CookieValue(const http::Request& request, std::string_view name);

// application/x-www-form-urlencoded, decoded; nullopt when oversize, over kMaxFormFields or a
// name repeats.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body);

// Set-Cookie for a session: HttpOnly, SameSite=Strict, Path=/ui/, Secure when served over TLS.
std::string SessionCookie(const std::string& id, int64_t max_age_s, bool secure);
std::string ClearedSessionCookie(bool secure);

// The headers every dashboard answer carries (CSP, nosniff, no referrer, no framing).
void SetSecurityHeaders(http::Response* response);
void WriteJson(int status, const nlohmann::json& body, http::Response* response);
// {"error": {"code", "message"}} with the status.
void WriteJsonError(int status, std::string_view code, std::string_view message, http::Response* response);
void Redirect(std::string_view location, http::Response* response);  // 303 See Other

// Whether a state-changing request came from this origin: an Origin header (browsers send one on
// every POST), when present, must name the Host the request was sent to.
bool SameOrigin(const http::Request& request);

}  // namespace lathe::ui
