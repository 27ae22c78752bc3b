// Requests to the Dashboard without sockets, and what the answers' headers say.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/message.h"
#include "ui/dashboard.h"
#include "ui/web_io.h"

namespace lathe::ui::testing {

// A request and the body reader it points at.
struct TestRequest {
  http::Request request;
  std::unique_ptr<http::StringBodyReader> body;
};

inline TestRequest MakeRequest(const std::string& method, const std::string& target, std::string body = "",
                               std::vector<http::Header> headers = {}) {
  TestRequest t;
  t.request.method = method;
  t.request.target = target;
  t.request.headers = std::move(headers);
  t.request.headers.push_back({"Host", "127.0.0.1:8080"});
  t.request.remote_address = "127.0.0.1";
  t.body = std::make_unique<http::StringBodyReader>(std::move(body));
  t.request.body = t.body.get();
  return t;
}

inline http::Response Send(Dashboard& d, const std::string& method, const std::string& target, std::string body = "",
                           std::vector<http::Header> headers = {}) {
  TestRequest t = MakeRequest(method, target, std::move(body), std::move(headers));
  http::Response r;
  d.Handle(t.request, r);
  return r;
}

inline std::string HeaderOf(const http::Response& r, const std::string& name) {
  const std::string* v = r.header(name);
  return v ? *v : "";
}

// The session id a Set-Cookie carries ("" when none).
inline std::string CookieId(const http::Response& r) {
  const std::string set = HeaderOf(r, "Set-Cookie");
  const std::string prefix = std::string(kSessionCookie) + "=";
  if (set.rfind(prefix, 0) != 0) return "";
  return set.substr(prefix.size(), set.find(';') - prefix.size());
}

}  // namespace lathe::ui::testing
