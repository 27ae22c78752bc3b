#include "ui/dashboard.h"

#include <spdlog/spdlog.h>

#include "aws/rest_path.h"
#include "aws/wire.h"
#include "core/arn.h"
#include "services/iam/audit_trail.h"
#include "ui/api.h"
#include "ui/live_feed.h"
#include "ui/secure_random.h"
#include "ui/web_assets.h"
#include "ui/web_io.h"

namespace lathe::ui {
namespace {

constexpr size_t kMaxSecretBytes = 256;
constexpr size_t kMaxNextBytes = 512;

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Where to go after logging in: a route of the app ("#/jobs/..."), nothing else (no open redirect).
std::string AfterLogin(std::string_view next) {
  if (next.size() > kMaxNextBytes || !StartsWith(next, "#/")) return "/ui/";
  for (char c : next)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e || c == '\\') return "/ui/";
  return "/ui/" + std::string(next);
}

// A login form's fields (the key form, the link's), or nullopt having answered 413 or 400.
std::optional<std::map<std::string, std::string>> ReadLoginForm(http::Request& request, http::Response& response) {
  const int64_t declared = request.body->declared_length();
  Result<std::string> body = declared > static_cast<int64_t>(kMaxFormBytes)
                                 ? Result<std::string>(Status::InvalidArgument("too large"))
                                 : http::ReadBody(request.body, kMaxFormBytes);
  if (!body.ok()) {
    WriteJsonError(413, "TooLarge", "a login form holds at most 8 KiB", &response);
    return std::nullopt;
  }
  std::optional<std::map<std::string, std::string>> form = ParseForm(*body);
  if (!form) WriteJsonError(400, "BadForm", "the login form could not be read", &response);
  return form;
}

// The audit trail's name for a state-changing API route (its path after /ui/api/).
std::string_view OperationOf(std::string_view rest) {
  if (rest == "logout") return "Logout";
  if (rest == "chat") return "Chat";
  if (StartsWith(rest, "jobs/") && rest.size() > 5 && rest.substr(rest.size() - 5) == "/stop") return "StopJob";
  if (StartsWith(rest, "registry/") && rest.find("/aliases/") != std::string_view::npos) return "MoveAlias";
  if (StartsWith(rest, "datasets/") && rest.size() > 6 && rest.substr(rest.size() - 6) == "/check") return "CheckDataset";
  return "Post";
}

}  // namespace

void Dashboard::Audit(const http::Request& request, const http::Response& response, std::string_view operation,
                      const std::string& key_id) {
  if (!backends_.audit) return;
  iam::AuditRecord r;
  r.time_ms = now_ms_();
  r.service = "lathe-ui";
  r.operation = std::string(operation);
  r.action = "lathe-ui:" + r.operation;
  r.resources = {aws::Printable(request.path(), 512)};  // the path only: a link's token is never recorded
  r.region = backends_.region;
  r.source_ip = request.remote_address;
  if (const std::string* agent = request.header("User-Agent")) r.user_agent = aws::Printable(*agent, 256);
  r.request_id = RandomHex(16);
  r.access_key_id = aws::Printable(key_id, kMaxAccessKeyIdBytes);
  r.account = backends_.account;
  if (!key_id.empty() && response.status < 400) r.principal_arn = RootArn(backends_.account);  // the server's own keys only
  r.http_status = response.status;
  if (response.status >= 400) {
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    const nlohmann::json* code = body.is_object() && body.contains("error") && body["error"].is_object() &&
                                         body["error"].contains("code") && body["error"]["code"].is_string()
                                     ? &body["error"]["code"]
                                     : nullptr;
    r.error_code = code ? code->get<std::string>() : "HTTP" + std::to_string(response.status);
  } else if (const std::string* to = response.header("Location"); to && to->find("login?") != std::string::npos) {
    r.error_code = "LoginFailed";  // a failed login answers a redirect back to the login page
  }
  backends_.audit->Append(r);
}

Dashboard::Dashboard(DashboardOptions options, SecretLookup secrets, Backends backends)
    : options_(options),
      secrets_(std::move(secrets)),
      backends_(std::move(backends)),
      sessions_(options.sessions),
      login_throttle_(options.login_throttle),
      now_ms_([] { return NowMillis(); }),
      live_(std::make_unique<LiveFeed>(backends_, options.max_live_clients, options.poll_ms)),
      api_(std::make_unique<Api>(backends_, live_.get())) {
  live_->set_max_per_session(options.max_live_clients_per_session);
}

Dashboard::~Dashboard() { Stop(); }

void Dashboard::Start() { live_->Start(); }
void Dashboard::Stop() { live_->Stop(); }

bool Dashboard::Claims(const http::Request& request) {
  const std::string_view path = request.path();
  if (path != "/ui" && !StartsWith(path, "/ui/")) return false;
  if (request.header("Authorization")) return false;
  for (const auto& h : request.headers)
    if (h.name.size() >= 6 && http::HeaderNameEquals(h.name.substr(0, 6), "x-amz-")) return false;
  const std::string_view query = request.query();
  return query.find("X-Amz-") == std::string_view::npos && query.find("AWSAccessKeyId") == std::string_view::npos;
}

std::optional<std::pair<std::string, Session>> Dashboard::SessionOf(const http::Request& request) {
  std::optional<std::string> id = CookieValue(request, kSessionCookie);
  if (!id) return std::nullopt;
  std::optional<Session> s = sessions_.Find(*id, now_ms_());
  if (!s) return std::nullopt;
  return std::make_pair(std::move(*id), std::move(*s));
}

void Dashboard::Page(std::string_view asset, http::Response& response) {
  const WebAsset* a = FindAsset(asset);
  if (!a) return WriteJsonError(500, "MissingAsset", "this build of lathe lacks web/" + std::string(asset), &response);
  response.status = 200;
  response.set_header("Content-Type", std::string(ContentType(a->path)));
  response.set_header("Cache-Control", "no-store");
  response.body = VersionedPage(a->body);
}

void Dashboard::OpenSession(const std::string& key_id, std::string_view next, http::Response& response) {
  SessionStore::Opened opened = sessions_.Open(key_id, now_ms_());
  response.set_header("Set-Cookie",
                      SessionCookie(opened.id, sessions_.limits().lifetime_ms / 1000, options_.secure_cookies));
  Redirect(AfterLogin(next), &response);
}

std::string Dashboard::Login(http::Request& request, http::Response& response) {
  if (!SameOrigin(request)) {
    WriteJsonError(403, "CrossOrigin", "a login from another site is refused", &response);
    return "";
  }
  if (const int64_t wait_ms = login_throttle_.WaitMs(request.remote_address, now_ms_()); wait_ms > 0) {
    response.set_header("Retry-After", std::to_string((wait_ms + 999) / 1000));
    WriteJsonError(429, "TooManyLogins",
                   "too many failed logins from this address; try again in " + std::to_string((wait_ms + 999) / 1000) +
                       " s. A link from `lathe ui` on the server's machine still logs in.",
                   &response);
    return "";
  }
  std::optional<std::map<std::string, std::string>> form = ReadLoginForm(request, response);
  if (!form) return "";
  const std::string key_id = (*form)["accessKeyId"], secret = (*form)["secretAccessKey"], next = (*form)["next"];
  std::optional<std::string> want;
  if (!key_id.empty() && key_id.size() <= kMaxAccessKeyIdBytes && secret.size() <= kMaxSecretBytes)
    want = secrets_(key_id);
  if (!want || !ConstantTimeEquals(*want, secret)) {
    login_throttle_.Failed(request.remote_address, now_ms_());
    Redirect("/ui/login?failed=1", &response);
    return key_id;
  }
  login_throttle_.Succeeded(request.remote_address);
  OpenSession(key_id, next, response);
  return key_id;
}

// The link's page (GET) only shows a button; the token is spent by the form's POST, so a link
// previewer fetching the URL does not use it up.
std::string Dashboard::RedeemLink(http::Request& request, http::Response& response) {
  if (!SameOrigin(request)) {
    WriteJsonError(403, "CrossOrigin", "a login from another site is refused", &response);
    return "";
  }
  std::optional<std::map<std::string, std::string>> form = ReadLoginForm(request, response);
  if (!form) return "";
  std::optional<std::string> key_id;
  if (form->count("token")) key_id = links_.Redeem((*form)["token"], secrets_, now_ms_() / 1000);
  // Links are never throttled (the 429 points to them); a failed one still counts against its address.
  if (!key_id) {
    login_throttle_.Failed(request.remote_address, now_ms_());
    Redirect("/ui/login?link=invalid", &response);
    return "";
  }
  OpenSession(*key_id, "", response);
  return *key_id;
}

void Dashboard::ServeApi(http::Request& request, http::Response& response, const Session& session,
                         const std::string& id) {
  const bool reads = request.method == "GET" || request.method == "HEAD";
  if (!reads) {
    const std::string* token = request.header(kCsrfHeader);
    if (!SameOrigin(request) || !token || !ConstantTimeEquals(*token, session.csrf_token))
      return WriteJsonError(403, "BadCsrfToken",
                            "this request changes state and needs the session's X-CSRF-Token header", &response);
  }
  const int64_t declared = request.body->declared_length();
  if (declared > static_cast<int64_t>(kMaxJsonBodyBytes))
    return WriteJsonError(413, "TooLarge", "request bodies hold at most 256 KiB", &response);
  Result<std::string> body = reads ? Result<std::string>(std::string()) : http::ReadBody(request.body, kMaxJsonBodyBytes);
  if (!body.ok()) return WriteJsonError(413, "TooLarge", "request bodies hold at most 256 KiB", &response);
  std::string_view rest = request.path().substr(std::string_view("/ui/api/").size());
  if (rest == "session" && reads)
    return WriteJson(200,
                     {{"csrfToken", session.csrf_token},
                      {"accessKeyId", session.access_key_id},
                      {"expiresAt", Iso8601(session.created_ms + sessions_.limits().lifetime_ms)}},
                     &response);
  if (rest == "logout" && request.method == "POST") {
    sessions_.Close(id);
    live_->Changed();  // wakes the feeds: this session's end
    response.set_header("Set-Cookie", ClearedSessionCookie(options_.secure_cookies));
    return WriteJson(200, {{"loggedOut", true}}, &response);
  }
  ApiCall caller;
  caller.actor = "dashboard:" + session.access_key_id;
  caller.session_key = session.csrf_token;  // unique per session, and not the cookie's id
  caller.session_alive = [this, id] { return sessions_.Alive(id, now_ms_()); };
  api_->Serve(request, rest, *body, std::move(caller), &response);
}

void Dashboard::Handle(http::Request& request, http::Response& response) {
  // A handler that throws (a JSON field of an unexpected type, a bad_alloc) answers in the
  // dashboard's own JSON with its security headers, not the transport's bare 500 quoting what().
  try {
    Route(request, response);
  } catch (const nlohmann::json::exception& e) {
    spdlog::warn("[ui] {} {}: {}", request.method, aws::Printable(request.path(), 120), e.what());
    response = http::Response{};
    SetSecurityHeaders(&response);
    WriteJsonError(400, "InvalidRequest", "a field of the request (or of a record it reads) has an unexpected type",
                   &response);
  } catch (const std::exception& e) {
    spdlog::error("[ui] {} {}: {}", request.method, aws::Printable(request.path(), 120), e.what());
    response = http::Response{};
    SetSecurityHeaders(&response);
    WriteJsonError(500, "InternalError", "the dashboard failed on this request (the server log says why)", &response);
  }
  // The path only: a login link's token is in the query.
  spdlog::info("{} {} [ui] -> {}", request.method, aws::Printable(request.path(), 120), response.status);
}

void Dashboard::Route(http::Request& request, http::Response& response) {
  SetSecurityHeaders(&response);
  const std::string_view path = request.path();
  if (path == "/ui") return Redirect("/ui/", &response);
  const std::string_view rest = path.substr(4);
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (get && StartsWith(rest, "static/")) {
    // /ui/static/<this build's version>/path may be cached for good; any other version (a page
    // from before an upgrade) or none gets today's file, revalidated each time.
    std::string_view path = rest.substr(7);
    const std::string versioned = std::string(AssetsVersion()) + "/";
    const bool current = StartsWith(path, versioned);
    if (current) path.remove_prefix(versioned.size());
    else if (path.size() > 17 && path[16] == '/') path.remove_prefix(17);
    const WebAsset* a = FindAsset(path);
    if (!a) return WriteJsonError(404, "NotFound", "no such file", &response);
    response.set_header("Content-Type", std::string(ContentType(a->path)));
    response.set_header("Cache-Control", current ? "public, max-age=31536000, immutable" : "no-cache");
    response.body = std::string(a->body);
    return;
  }
  if (get && rest == "vendor/chart.js") {
    Result<std::string_view> chart = ChartJs();
    if (!chart.ok()) return WriteJsonError(404, "ChartJsMissing", chart.status().message(), &response);
    response.set_header("Content-Type", "text/javascript; charset=utf-8");
    response.set_header("Cache-Control", "max-age=86400");
    response.body = std::string(*chart);
    return;
  }
  if (rest == "login") {
    if (request.method == "POST") return Audit(request, response, "Login", Login(request, response));
    if (get) return Page("login.html", response);
  }
  if (rest == "link") {
    if (request.method == "POST") return Audit(request, response, "UseLoginLink", RedeemLink(request, response));
    if (get) return Page("link.html", response);
  }
  std::optional<std::pair<std::string, Session>> session = SessionOf(request);
  if (StartsWith(rest, "api/")) {
    if (!session) return WriteJsonError(401, "NoSession", "log in at /ui/login first", &response);
    ServeApi(request, response, session->second, session->first);
    if (!get) Audit(request, response, OperationOf(rest.substr(4)), session->second.access_key_id);
    return;
  }
  if (rest.empty() && get) {
    if (!session) return Redirect("/ui/login", &response);
    return Page("index.html", response);
  }
  WriteJsonError(404, "NotFound", "the dashboard has no page " + aws::Printable(path, 200), &response);
}

}  // namespace lathe::ui
