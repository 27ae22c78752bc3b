#include "ui/api.h"

#include "aws/rest_path.h"
#include "ui/live_feed.h"
#include "ui/web_io.h"

namespace lathe::ui {
namespace {

std::vector<std::string> Segments(std::string_view rest) {
  std::vector<std::string> out;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    out.push_back(aws::PercentDecode(rest.substr(0, slash), false));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

int HttpStatusOf(const Status& s) {
  if (s.http_status() > 0) return s.http_status();
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return 409;
    case Status::Code::kThrottled:
    case Status::Code::kQuotaExceeded: return 429;
    case Status::Code::kUnsupported: return 501;
    default: return 500;
  }
}

void Api::Serve(const http::Request& request, std::string_view rest, std::string_view body, const std::string& actor,
                http::Response* response) {
  ApiCall call{request.method, Segments(rest), aws::DecodeQuery(request.query()), body, actor};
  bool streamed = false;
  ApiResult result = Route(call, response, &streamed);
  if (streamed) return;
  if (!result.ok()) {
    const Status& s = result.status();
    return WriteJsonError(HttpStatusOf(s), s.aws_code().empty() ? "Error" : s.aws_code(), s.message(), response);
  }
  WriteJson(200, *result, response);
}

ApiResult Api::Route(const ApiCall& call, http::Response* response, bool* streamed) {
  const auto& s = call.segments;
  const size_t n = s.size();
  const bool get = call.method == "GET" || call.method == "HEAD";
  const bool post = call.method == "POST";
  if (n == 1 && s[0] == "events" && get) {
    if (!live_->Subscribe(response))
      return Status::Aws("TooManyFeeds", 503, "too many live feeds are open; close a dashboard tab", Status::Code::kThrottled);
    *streamed = true;
    return nlohmann::json();
  }
  (void)post;
  return Status::NotFound("no such API route");
}

}  // namespace lathe::ui
