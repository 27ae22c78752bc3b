// The dashboard's door: what is public, what needs a session, logins by key and by one-time link,
// CSRF on every state-changing request, forged and oversize input. No sockets: Dashboard::Handle
// on requests built here, with no backends behind it.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "services/iam/audit_trail.h"
#include "test_util.h"
#include "ui/live_feed.h"
#include "ui/secure_random.h"
#include "ui/web_assets.h"
#include "ui_test_util.h"

namespace lathe::ui {
namespace {

using testing::CookieId;
using testing::HeaderOf;
using testing::Send;

constexpr const char* kKeyId = "LATHETESTKEY0001";
constexpr const char* kSecret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-000001";

class DashboardAccessTest : public ::testing::Test {
 protected:
  DashboardAccessTest() : dashboard_(Options(), Secrets(), Backends{}) {
    dashboard_.set_clock([this] { return now_ms_; });
  }
  static DashboardOptions Options() {
    DashboardOptions o;
    o.max_live_clients = 2;
    return o;
  }
  static SecretLookup Secrets() {
    return [](const std::string& id) -> std::optional<std::string> {
      if (id == kKeyId) return std::string(kSecret);
      return std::nullopt;
    };
  }
  http::Response Login(const std::string& key, const std::string& secret, const std::string& next = "") {
    return Send(dashboard_, "POST", "/ui/login",
                "accessKeyId=" + key + "&secretAccessKey=" + secret + "&next=" + next,
                {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "http://127.0.0.1:8080"}});
  }
  // A `lathe ui` link used: its page's form POSTs the token.
  http::Response UseLink(const std::string& token, const std::string& address = "127.0.0.1") {
    auto t = testing::MakeRequest("POST", "/ui/link", "token=" + token,
                                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    t.request.remote_address = address;
    http::Response r;
    dashboard_.Handle(t.request, r);
    return r;
  }
  // A logged-in session: its cookie header and CSRF token.
  std::pair<http::Header, std::string> Session() {
    http::Response r = Login(kKeyId, kSecret);
    const std::string id = CookieId(r);
    EXPECT_EQ(id.size(), 64u);
    http::Header cookie{"Cookie", std::string(kSessionCookie) + "=" + id};
    http::Response s = Send(dashboard_, "GET", "/ui/api/session", "", {cookie});
    EXPECT_EQ(s.status, 200) << s.body;
    return {cookie, nlohmann::json::parse(s.body)["csrfToken"].get<std::string>()};
  }

  int64_t now_ms_ = 1'800'000'000'000;
  Dashboard dashboard_;
};

TEST_F(DashboardAccessTest, ClaimsOnlyUnsignedRequestsUnderUi) {
  auto claims = [](const std::string& target, std::vector<http::Header> headers = {}) {
    auto t = testing::MakeRequest("GET", target, "", std::move(headers));
    return Dashboard::Claims(t.request);
  };
  EXPECT_TRUE(claims("/ui"));
  EXPECT_TRUE(claims("/ui/"));
  EXPECT_TRUE(claims("/ui/api/overview?x=1"));
  EXPECT_FALSE(claims("/uix"));
  EXPECT_FALSE(claims("/v1/models"));
  EXPECT_FALSE(claims("/"));
  // An S3 bucket named "ui": signed, or with S3's headers, or presigned.
  EXPECT_FALSE(claims("/ui/key", {{"Authorization", "AWS4-HMAC-SHA256 Credential=..."}}));
  EXPECT_FALSE(claims("/ui/key", {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}}));
  EXPECT_FALSE(claims("/ui/key?X-Amz-Signature=00&X-Amz-Credential=a"));
  EXPECT_FALSE(claims("/ui/key?AWSAccessKeyId=a&Signature=b&Expires=1"));
}

TEST_F(DashboardAccessTest, NothingButTheLoginPageAndAssetsWithoutASession) {
  http::Response index = Send(dashboard_, "GET", "/ui/");
  EXPECT_EQ(index.status, 303);
  EXPECT_EQ(HeaderOf(index, "Location"), "/ui/login");
  EXPECT_EQ(Send(dashboard_, "GET", "/ui").status, 303);
  for (const char* api : {"/ui/api/session", "/ui/api/events", "/ui/api/overview", "/ui/api/jobs/x"}) {
    http::Response r = Send(dashboard_, "GET", api);
    EXPECT_EQ(r.status, 401) << api;
    EXPECT_NE(r.body.find("NoSession"), std::string::npos);
  }
  EXPECT_EQ(Send(dashboard_, "POST", "/ui/api/logout").status, 401);
  http::Response login = Send(dashboard_, "GET", "/ui/login");
  EXPECT_EQ(login.status, 200);
  EXPECT_NE(login.body.find("<form method=\"post\" action=\"/ui/login\""), std::string::npos);
  EXPECT_NE(HeaderOf(login, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(HeaderOf(login, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/static/js/login.js").status, 200);
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/static/../index.html").status, 404);
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/static/nothing.js").status, 404);
  // The pages load this build's assets under its version, cached for good; another version (a
  // page from before an upgrade) gets today's file, revalidated.
  EXPECT_NE(login.body.find("/ui/static/" + std::string(AssetsVersion()) + "/js/login.js"), std::string::npos);
  http::Response current = Send(dashboard_, "GET", "/ui/static/" + std::string(AssetsVersion()) + "/js/login.js");
  EXPECT_EQ(current.status, 200);
  EXPECT_NE(HeaderOf(current, "Cache-Control").find("immutable"), std::string::npos);
  http::Response older = Send(dashboard_, "GET", "/ui/static/0123456789abcdef/js/login.js");
  EXPECT_EQ(older.status, 200);
  EXPECT_EQ(older.body, current.body);
  EXPECT_EQ(HeaderOf(older, "Cache-Control"), "no-cache");
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/static/" + std::string(AssetsVersion()) + "/../index.html").status, 404);
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/index.html").status, 404);  // the app only at /ui/
}

TEST_F(DashboardAccessTest, LoginSetsAStrictHttpOnlyCookieNamingAServerSideSession) {
  http::Response r = Login(kKeyId, kSecret, "%23%2Fjobs%2Fabc");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/ui/#/jobs/abc");
  const std::string cookie = HeaderOf(r, "Set-Cookie");
  for (const char* attribute : {"; HttpOnly", "; SameSite=Strict", "; Path=/ui/", "; Max-Age=86400"})
    EXPECT_NE(cookie.find(attribute), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain http here
  const std::string id = CookieId(r);
  EXPECT_TRUE(IsLowerHex(id, 64));
  EXPECT_EQ(dashboard_.sessions().size(), 1u);
  http::Header header{"Cookie", "other=1; " + std::string(kSessionCookie) + "=" + id};
  http::Response index = Send(dashboard_, "GET", "/ui/", "", {header});
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/ui/static/" + std::string(AssetsVersion()) + "/js/app.js"), std::string::npos);
  http::Response s = Send(dashboard_, "GET", "/ui/api/session", "", {header});
  ASSERT_EQ(s.status, 200);
  auto j = nlohmann::json::parse(s.body);
  EXPECT_EQ(j["accessKeyId"], kKeyId);
  EXPECT_TRUE(IsLowerHex(j["csrfToken"].get<std::string>(), 64));
  EXPECT_EQ(HeaderOf(s, "Cache-Control"), "no-store");
}

TEST_F(DashboardAccessTest, AfterLoginOnlyRoutesOfTheAppAreFollowed) {
  for (const char* next : {"https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example", "%23%2Fa%0d%0aSet-Cookie:x", "x"})
    EXPECT_EQ(HeaderOf(Login(kKeyId, kSecret, next), "Location"), "/ui/") << next;
}

TEST_F(DashboardAccessTest, WrongKeysOpenNoSession) {
  for (const auto& [key, secret] : std::vector<std::pair<std::string, std::string>>{
           {kKeyId, "wrong"}, {kKeyId, ""}, {"UNKNOWN", kSecret}, {"", ""}, {kKeyId, std::string(300, 'a')},
           {std::string(200, 'K'), kSecret}}) {
    http::Response r = Login(key, secret);
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(HeaderOf(r, "Location"), "/ui/login?failed=1");
    EXPECT_EQ(HeaderOf(r, "Set-Cookie"), "");
  }
  EXPECT_EQ(dashboard_.sessions().size(), 0u);
}

TEST_F(DashboardAccessTest, ForgedMalformedOrDoubledCookiesAreNoSession) {
  auto [cookie, csrf] = Session();
  const std::string forged = RandomHex(32);
  for (const std::string& value :
       {std::string(kSessionCookie) + "=" + forged, std::string(kSessionCookie) + "=" + forged.substr(0, 63),
        std::string(kSessionCookie) + "=" + std::string(64, 'G'), std::string(kSessionCookie) + "=",
        cookie.value + "; " + std::string(kSessionCookie) + "=" + forged,  // a planted second cookie
        std::string("lathe_sessionx=") + cookie.value.substr(cookie.value.find('=') + 1)}) {
    http::Response r = Send(dashboard_, "GET", "/ui/api/session", "", {{"Cookie", value}});
    EXPECT_EQ(r.status, 401) << value;
  }
  // The real one still works.
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/api/session", "", {cookie}).status, 200);
}

TEST_F(DashboardAccessTest, StateChangesNeedTheSessionsCsrfTokenFromThisOrigin) {
  auto [cookie, csrf] = Session();
  auto [other_cookie, other_csrf] = Session();
  auto logout = [&](std::vector<http::Header> headers) {
    headers.push_back(cookie);
    return Send(dashboard_, "POST", "/ui/api/logout", "", headers);
  };
  EXPECT_EQ(logout({}).status, 403);
  EXPECT_NE(logout({}).body.find("BadCsrfToken"), std::string::npos);
  EXPECT_EQ(logout({{kCsrfHeader, RandomHex(32)}}).status, 403);
  EXPECT_EQ(logout({{kCsrfHeader, other_csrf}}).status, 403);  // another session's token
  EXPECT_EQ(logout({{kCsrfHeader, csrf.substr(0, 63)}}).status, 403);
  EXPECT_EQ(logout({{kCsrfHeader, csrf}, {"Origin", "http://evil.example"}}).status, 403);
  http::Response ok = logout({{kCsrfHeader, csrf}, {"Origin", "http://127.0.0.1:8080"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(HeaderOf(ok, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/api/session", "", {cookie}).status, 401);
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/api/session", "", {other_cookie}).status, 200);
}

TEST_F(DashboardAccessTest, OversizeInputIsRefusedBeforeItIsParsed) {
  http::Response big_form = Send(dashboard_, "POST", "/ui/login", std::string(9000, 'a'));
  EXPECT_EQ(big_form.status, 413);
  std::string fields;
  for (int i = 0; i < 17; ++i) fields += "f" + std::to_string(i) + "=1&";
  EXPECT_EQ(Send(dashboard_, "POST", "/ui/login", fields).status, 400);
  EXPECT_EQ(Send(dashboard_, "POST", "/ui/login", "accessKeyId=a&accessKeyId=b").status, 400);
  auto [cookie, csrf] = Session();
  http::Header huge_cookie{"Cookie", cookie.value + "; pad=" + std::string(5000, 'x')};
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/api/session", "", {huge_cookie}).status, 401);
  http::Response big_body =
      Send(dashboard_, "POST", "/ui/api/chat", std::string(300 * 1024, ' '), {cookie, {kCsrfHeader, csrf}});
  EXPECT_EQ(big_body.status, 413);
  const std::string long_token = std::string(600, 'a');
  EXPECT_EQ(HeaderOf(UseLink(long_token), "Location"), "/ui/login?link=invalid");
}

TEST_F(DashboardAccessTest, ALoginLinkOpensOneSessionOnce) {
  const int64_t now_s = now_ms_ / 1000;
  const std::string token = MintLoginToken(kKeyId, kSecret, now_s);
  // Opening the link (or a chat app's preview of it) shows a button and spends nothing.
  for (int i = 0; i < 2; ++i) {
    http::Response page = Send(dashboard_, "GET", "/ui/link?token=" + token);
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<form method=\"post\" action=\"/ui/link\""), std::string::npos);
    EXPECT_EQ(page.body.find(token), std::string::npos);  // the page's script reads it from the URL
    EXPECT_EQ(HeaderOf(page, "Set-Cookie"), "");
  }
  http::Response r = UseLink(token);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(HeaderOf(r, "Location"), "/ui/");
  EXPECT_EQ(CookieId(r).size(), 64u);
  http::Response again = UseLink(token);
  EXPECT_EQ(HeaderOf(again, "Location"), "/ui/login?link=invalid");
  EXPECT_EQ(HeaderOf(again, "Set-Cookie"), "");

  auto refused = [&](const std::string& t) {
    return HeaderOf(UseLink(t), "Location") == "/ui/login?link=invalid";
  };
  std::string tampered = MintLoginToken(kKeyId, kSecret, now_s);
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_TRUE(refused(tampered));
  EXPECT_TRUE(refused(MintLoginToken(kKeyId, "another secret", now_s)));
  EXPECT_TRUE(refused(MintLoginToken("UNKNOWN", kSecret, now_s)));
  EXPECT_TRUE(refused(MintLoginToken(kKeyId, kSecret, now_s - 700)));   // expired
  EXPECT_TRUE(refused(MintLoginToken(kKeyId, kSecret, now_s + 3600)));  // expiry too far ahead
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("a.b.c.d"));
  EXPECT_EQ(Send(dashboard_, "POST", "/ui/link", "token=" + MintLoginToken(kKeyId, kSecret, now_s),
                 {{"Origin", "http://evil.example"}}).status, 403);  // from another site
  EXPECT_EQ(Send(dashboard_, "POST", "/ui/link", "token=a&token=b").status, 400);
  EXPECT_TRUE(refused(std::string(kKeyId) + ".1.2.3.4"));
  // Still good until its expiry, then not.
  const std::string late = MintLoginToken(kKeyId, kSecret, now_s);
  now_ms_ += 601 * 1000;
  EXPECT_TRUE(refused(late));
}

TEST_F(DashboardAccessTest, FailedLoginsAreThrottledPerAddressWithBackoff) {
  auto login_from = [&](const std::string& address, const std::string& secret) {
    auto t = testing::MakeRequest("POST", "/ui/login", "accessKeyId=" + std::string(kKeyId) + "&secretAccessKey=" + secret,
                                  {{"Origin", "http://127.0.0.1:8080"}});
    t.request.remote_address = address;
    http::Response r;
    dashboard_.Handle(t.request, r);
    return r;
  };
  // An anonymous address guessing: 10 failures, then it waits a minute...
  for (int i = 0; i < 10; ++i) EXPECT_EQ(login_from("203.0.113.9", "wrong").status, 303);
  http::Response r = login_from("203.0.113.9", kSecret);
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("lathe ui"), std::string::npos) << r.body;
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "60");
  // ...while the administrator elsewhere logs in, and a `lathe ui` link works from anywhere.
  EXPECT_EQ(login_from("127.0.0.1", kSecret).status, 303);
  EXPECT_EQ(HeaderOf(UseLink(MintLoginToken(kKeyId, kSecret, now_ms_ / 1000), "203.0.113.9"), "Location"), "/ui/");
  // A minute later it may try again; failing again costs two minutes, then four.
  now_ms_ += 60 * 1000;
  for (int i = 0; i < 10; ++i) login_from("203.0.113.9", "wrong");
  now_ms_ += 61 * 1000;
  EXPECT_EQ(login_from("203.0.113.9", kSecret).status, 429);
  now_ms_ += 60 * 1000;
  EXPECT_EQ(login_from("203.0.113.9", kSecret).status, 303);  // a success forgets its failures
}

TEST_F(DashboardAccessTest, ManyAddressesMeetTheGlobalCeiling) {
  DashboardOptions o = Options();
  o.login_throttle.global_failures_per_window = 30;
  Dashboard d(o, Secrets(), Backends{});
  d.set_clock([this] { return now_ms_; });
  auto login_from = [&](const std::string& address, const std::string& secret) {
    auto t = testing::MakeRequest("POST", "/ui/login", "accessKeyId=" + std::string(kKeyId) + "&secretAccessKey=" + secret);
    t.request.remote_address = address;
    http::Response r;
    d.Handle(t.request, r);
    return r.status;
  };
  for (int i = 0; i < 30; ++i) EXPECT_EQ(login_from("198.51.100." + std::to_string(i), "wrong"), 303);
  EXPECT_EQ(login_from("127.0.0.1", kSecret), 429);
  now_ms_ += 60 * 1000;
  EXPECT_EQ(login_from("127.0.0.1", kSecret), 303);
}

TEST(LoginThrottleTest, RemembersABoundedNumberOfAddressesForgettingTheLeastRecentlyFailed) {
  LoginThrottleLimits limits;
  limits.failures_per_address = 2;
  limits.max_addresses = 3;
  LoginThrottle t(limits);
  t.Failed("a", 0);
  t.Failed("a", 1);
  EXPECT_EQ(t.WaitMs("a", 2), 60'000 - 1);
  for (const char* address : {"b", "c", "d"}) t.Failed(address, 3);
  EXPECT_EQ(t.addresses(), 3u);
  EXPECT_EQ(t.WaitMs("a", 4), 0);  // forgotten
  // The backoff doubles up to its cap, and a long quiet spell forgives it.
  int64_t now = 100'000, wait = 0;
  for (int round = 0; round < 6; ++round) {
    t.Failed("e", now);
    t.Failed("e", now);
    wait = t.WaitMs("e", now);
    EXPECT_EQ(wait, std::min<int64_t>(60'000ll << round, limits.max_backoff_ms)) << round;
    now += wait;
  }
  now += limits.max_backoff_ms;
  t.Failed("e", now);
  t.Failed("e", now);
  EXPECT_EQ(t.WaitMs("e", now), 60'000);
}

TEST_F(DashboardAccessTest, TheLiveFeedIsASessionsStreamAndBoundedInClients) {
  auto [cookie, csrf] = Session();
  http::Response first = Send(dashboard_, "GET", "/ui/api/events", "", {cookie});
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(HeaderOf(first, "Content-Type"), "text/event-stream; charset=utf-8");
  ASSERT_TRUE(first.body_stream);
  std::string chunk;
  ASSERT_TRUE(*first.body_stream(&chunk));
  EXPECT_NE(chunk.find("event: state\ndata: {"), std::string::npos) << chunk;
  {
    http::Response second = Send(dashboard_, "GET", "/ui/api/events", "", {cookie});
    EXPECT_EQ(second.status, 200);
    http::Response third = Send(dashboard_, "GET", "/ui/api/events", "", {cookie});
    EXPECT_EQ(third.status, 503);
  }
  // The second one closed: room again.
  EXPECT_EQ(Send(dashboard_, "GET", "/ui/api/events", "", {cookie}).status, 200);
  // Stopping ends open feeds at their next read.
  dashboard_.Stop();
  chunk.clear();
  EXPECT_FALSE(*first.body_stream(&chunk));
}

TEST_F(DashboardAccessTest, LogoutOrExpiryEndsTheSessionsFeedsAndEachSessionHasFewFeeds) {
  auto [cookie, csrf] = Session();
  auto [other_cookie, other_csrf] = Session();
  auto open_feed = [&](const http::Header& c) {
    http::Response r = Send(dashboard_, "GET", "/ui/api/events", "", {c});
    if (r.status == 200) {
      std::string chunk;
      EXPECT_TRUE(*r.body_stream(&chunk));  // the current state
    }
    return r;
  };
  http::Response mine = open_feed(cookie), theirs = open_feed(other_cookie);
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(theirs.status, 200);
  // Logging out ends this session's feed at once (not at the next keep-alive), not the other's.
  http::Response out = Send(dashboard_, "POST", "/ui/api/logout", "", {cookie, {kCsrfHeader, csrf}});
  ASSERT_EQ(out.status, 200);
  std::string chunk;
  EXPECT_FALSE(*mine.body_stream(&chunk));
  EXPECT_TRUE(*theirs.body_stream(&chunk));  // woken by the logout: a new state
  EXPECT_NE(chunk.find("event: state"), std::string::npos);
  // An expired session's feed ends at its next wake; reading it did not keep the session alive.
  now_ms_ += SessionLimits{}.idle_ms + 1;
  dashboard_.live().Changed();
  EXPECT_FALSE(*theirs.body_stream(&chunk));
}

TEST_F(DashboardAccessTest, OneSessionCannotTakeEveryLiveFeed) {
  DashboardOptions o = Options();
  o.max_live_clients = 8;
  o.max_live_clients_per_session = 2;
  Dashboard d(o, Secrets(), Backends{});
  auto cookie_of = [&] {
    http::Response r = Send(d, "POST", "/ui/login", "accessKeyId=" + std::string(kKeyId) + "&secretAccessKey=" + kSecret);
    return http::Header{"Cookie", std::string(kSessionCookie) + "=" + CookieId(r)};
  };
  const http::Header a = cookie_of(), b = cookie_of();
  std::vector<http::Response> open;
  for (int i = 0; i < 2; ++i) open.push_back(Send(d, "GET", "/ui/api/events", "", {a}));
  for (const auto& r : open) EXPECT_EQ(r.status, 200);
  http::Response third = Send(d, "GET", "/ui/api/events", "", {a});
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(third.body.find("TooManyFeeds"), std::string::npos);
  EXPECT_EQ(Send(d, "GET", "/ui/api/events", "", {b}).status, 200);  // another session still may
  open.pop_back();  // a closed feed frees its place
  EXPECT_EQ(Send(d, "GET", "/ui/api/events", "", {a}).status, 200);
}

TEST_F(DashboardAccessTest, LoginsAndStateChangesLandInTheAuditTrail) {
  lathe::testing::TempDir dir;
  auto trail = iam::AuditTrail::Open(dir.path() + "/audit");
  ASSERT_TRUE(trail.ok());
  Backends b;
  b.audit = trail->get();
  b.account = "123456789012";
  Dashboard d(Options(), Secrets(), b);
  auto login = [&](const std::string& secret) {
    return Send(d, "POST", "/ui/login", "accessKeyId=" + std::string(kKeyId) + "&secretAccessKey=" + secret);
  };
  login("wrong");
  http::Response ok = login(kSecret);
  http::Header cookie{"Cookie", std::string(kSessionCookie) + "=" + CookieId(ok)};
  const std::string csrf = nlohmann::json::parse(Send(d, "GET", "/ui/api/session", "", {cookie}).body)["csrfToken"];
  Send(d, "POST", "/ui/api/jobs/missing/stop", "", {cookie, {kCsrfHeader, csrf}});
  Send(d, "POST", "/ui/api/logout", "", {cookie, {kCsrfHeader, csrf}});
  Send(d, "POST", "/ui/link", "token=" + MintLoginToken(kKeyId, kSecret, now_ms_ / 1000 - 9999));
  iam::AuditFilter all;
  all.action = "lathe-ui:*";
  auto records = iam::AuditTrail::Query(dir.path() + "/audit", all);
  ASSERT_TRUE(records.ok());
  std::vector<std::string> seen;
  for (const auto& r : *records)
    seen.push_back(r["eventName"].get<std::string>() + ":" + r.value("errorCode", std::string()));
  // Which records, not their order: the trail sorts by eventTime, which ties within a millisecond.
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"Login:", "Login:LoginFailed", "Logout:", "StopJob:Unavailable",
                                            "UseLoginLink:LoginFailed"}));
  auto good_login = std::find_if(records->begin(), records->end(), [](const nlohmann::json& r) {
    return r["eventName"] == "Login" && !r.contains("errorCode");
  });
  ASSERT_NE(good_login, records->end());
  EXPECT_EQ((*good_login)["userIdentity"]["accessKeyId"], kKeyId);
  EXPECT_EQ((*good_login)["userIdentity"]["arn"], "arn:aws:iam::123456789012:root");
  for (const auto& r : *records) EXPECT_EQ(r.dump().find("token="), std::string::npos);  // never the link's token
}

TEST(SessionStoreTest, SessionsEndWhenIdleOrOldAndTheLeastRecentlyUsedGoesFirst) {
  SessionLimits limits;
  limits.max_sessions = 3;
  limits.idle_ms = 1000;
  limits.lifetime_ms = 5000;
  SessionStore store(limits);
  auto a = store.Open("k", 0);
  EXPECT_TRUE(store.Find(a.id, 900));
  EXPECT_TRUE(store.Find(a.id, 1800));   // used at 900: not idle yet
  EXPECT_FALSE(store.Find(a.id, 2900));  // idle 1100 ms
  EXPECT_EQ(store.size(), 0u);
  auto b = store.Open("k", 10000);
  for (int64_t t = 10500; t <= 15000; t += 500) EXPECT_TRUE(store.Find(b.id, t)) << t;
  EXPECT_FALSE(store.Find(b.id, 15001));  // older than its lifetime, however busy
  auto c1 = store.Open("k", 20000), c2 = store.Open("k", 20001), c3 = store.Open("k", 20002);
  EXPECT_TRUE(store.Find(c1.id, 20003));  // c2 is now the least recently used
  auto c4 = store.Open("k", 20004);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(c2.id, 20005));
  EXPECT_TRUE(store.Find(c1.id, 20005));
  EXPECT_TRUE(store.Find(c3.id, 20005));
  EXPECT_TRUE(store.Find(c4.id, 20005));
  EXPECT_NE(c3.session.csrf_token, c4.session.csrf_token);
  EXPECT_NE(c3.id, c3.session.csrf_token);
}

}  // namespace
}  // namespace lathe::ui
