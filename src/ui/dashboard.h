// The dashboard `lathe serve` answers under /ui/ on its one port (docs/dashboard.md): a lathe
// extension beside the AWS APIs, outside SigV4. Its requests carry no signature; access is a
// session instead:
//   GET  /ui/login, POST /ui/login    the server's access key id and secret -> a session cookie
//   GET  /ui/link?token=...           `lathe ui`'s one-time link: a page whose button POSTs it
//   POST /ui/link                     the link's token (a form) -> a session cookie
//   GET  /ui/static/..., /ui/vendor/chart.js   lathe's scripts and styles, Chart.js (public)
//   GET  /ui/                         the app (a session, else a redirect to the login page)
//   /ui/api/...                       JSON, the live feed and the playground (a session; every
//                                     request but GET also the session's X-CSRF-Token)
// The session cookie is HttpOnly, SameSite=Strict, Path=/ui/ (Secure over TLS) and holds only a
// random 256-bit id; sessions live in memory, bounded in number and time (sessions.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "http/message.h"
#include "ui/backends.h"
#include "ui/login_link.h"
#include "ui/login_throttle.h"
#include "ui/sessions.h"

namespace lathe::ui {

class Api;
class LiveFeed;

struct DashboardOptions {
  SessionLimits sessions;
  size_t max_live_clients = 8;  // open live feeds (each holds one of the server's handler threads)
  size_t max_live_clients_per_session = 3;  // so one user's reloads cannot take them all
  int64_t poll_ms = 1000;       // how often the live feed looks at the stores
  bool secure_cookies = false;  // served over TLS
  LoginThrottleLimits login_throttle;  // failed logins, per client address (login_throttle.h)
};

class Dashboard {
 public:
  Dashboard(DashboardOptions options, SecretLookup secrets, Backends backends);
  ~Dashboard();

  // Whether the request is the dashboard's: its path is /ui or under /ui/, and it carries no
  // AWS signature, no x-amz-* header and no presigned query (an S3 bucket named "ui" is reached
  // with those, and goes to the gateway as before).
  static bool Claims(const http::Request& request);
  void Handle(http::Request& request, http::Response& response);

  // The live feed's poller; Stop also ends open feeds (before the transport waits for them).
  void Start();
  void Stop();
  // Milliseconds since the epoch (tests move time).
  void set_clock(std::function<int64_t()> now_ms) { now_ms_ = std::move(now_ms); }
  SessionStore& sessions() { return sessions_; }
  LiveFeed& live() { return *live_; }

 private:
  void Route(http::Request& request, http::Response& response);
  // Both answer the login and return the access key id tried ("" when none was).
  std::string Login(http::Request& request, http::Response& response);
  std::string RedeemLink(http::Request& request, http::Response& response);
  void ServeApi(http::Request& request, http::Response& response, const Session& session, const std::string& id);
  void Page(std::string_view asset, http::Response& response);
  void OpenSession(const std::string& key_id, std::string_view next, http::Response& response);
  std::optional<std::pair<std::string, Session>> SessionOf(const http::Request& request);
  // One record in the server's audit trail (when it has one): who (`key_id`, "" unknown) did
  // `operation` from where, and how it ended.
  void Audit(const http::Request& request, const http::Response& response, std::string_view operation,
             const std::string& key_id);

  DashboardOptions options_;
  SecretLookup secrets_;
  Backends backends_;
  SessionStore sessions_;
  LoginThrottle login_throttle_;
  LoginLinks links_;
  std::function<int64_t()> now_ms_;
  std::unique_ptr<LiveFeed> live_;
  std::unique_ptr<Api> api_;
};

}  // namespace lathe::ui
