#include "ui/web_io.h"

#include "aws/rest_path.h"

namespace lathe::ui {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> CookieValue(const http::Request& request, std::string_view name) {
  std::optional<std::string> found;
  size_t total = 0;
  for (const auto& h : request.headers) {
    if (!http::HeaderNameEquals(h.name, "Cookie")) continue;
    total += h.value.size();
    if (total > kMaxCookieHeaderBytes) return std::nullopt;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
      if (found) return std::nullopt;  // two cookies of the name: a planted one among them
      found = std::string(Trim(pair.substr(eq + 1)));
    }
  }
  return found;
}

std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  if (body.size() > kMaxFormBytes) return std::nullopt;
  std::map<std::string, std::string> out;
  size_t fields = 0;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (++fields > kMaxFormFields) return std::nullopt;
    const size_t eq = pair.find('=');
    std::string key = aws::PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : aws::PercentDecode(pair.substr(eq + 1), true);
    if (!out.emplace(std::move(key), std::move(value)).second) return std::nullopt;
  }
  return out;
}

std::string SessionCookie(const std::string& id, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookie) + "=" + id + "; Path=/ui/; Max-Age=" + std::to_string(max_age_s) +
         "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string ClearedSessionCookie(bool secure) { return SessionCookie("", 0, secure); }

void SetSecurityHeaders(http::Response* response) {
  response->set_header("Content-Security-Policy",
                       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                       "frame-ancestors 'none'");
  response->set_header("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts.
  response->set_header("Referrer-Policy", "same-origin");
  response->set_header("X-Frame-Options", "DENY");
}

void WriteJson(int status, const nlohmann::json& body, http::Response* response) {
  response->status = status;
  response->set_header("Content-Type", "application/json; charset=utf-8");
  response->set_header("Cache-Control", "no-store");
  // Replacement of invalid UTF-8 (a key or a message quoting bytes) instead of an exception.
  response->body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteJsonError(int status, std::string_view code, std::string_view message, http::Response* response) {
  WriteJson(status, {{"error", {{"code", code}, {"message", message}}}}, response);
}

void Redirect(std::string_view location, http::Response* response) {
  response->status = 303;
  response->set_header("Location", std::string(location));
  response->set_header("Cache-Control", "no-store");
}

bool SameOrigin(const http::Request& request) {
  const std::string* origin = request.header("Origin");
  if (!origin) return true;  // not a browser's cross-site request (browsers send Origin on POST)
  const std::string* host = request.header("Host");
  if (!host) host = request.header(":authority");
  if (!host) return false;
  const size_t scheme = origin->find("://");
  return scheme != std::string::npos && origin->substr(scheme + 3) == *host;
}

}  // namespace lathe::ui
