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

void Api::Serve(const http::Request& request, std::string_view rest, std::string_view body, ApiCall caller,
                http::Response* response) {
  ApiCall call = std::move(caller);
  call.method = request.method;
  call.segments = Segments(rest);
  call.query = aws::DecodeQuery(request.query());
  call.body = body;
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
  if (n == 0) return Status::NotFound("no such API route");
  const std::string& head = s[0];
  if (head == "events" && n == 1 && get) {
    switch (live_->Subscribe(response, {call.session_key, call.session_alive})) {
      case LiveFeed::Subscribed::kOk: break;
      case LiveFeed::Subscribed::kTooManyFeeds:
        return Status::Aws("TooManyFeeds", 503, "too many live feeds are open; close a dashboard tab",
                           Status::Code::kThrottled);
      case LiveFeed::Subscribed::kTooManyForSession:
        return Status::Aws("TooManyFeeds", 503, "this session has its most live feeds open; close a dashboard tab",
                           Status::Code::kThrottled);
    }
    *streamed = true;
    return nlohmann::json();
  }
  if (head == "chat" && n == 1 && post) {
    Status started = Chat(call, response);
    *streamed = started.ok();
    if (!started.ok()) return started;
    return nlohmann::json();
  }
  if (get && n == 1 && head == "overview") return Overview();
  if (get && n == 1 && head == "models") return Models();
  if (head == "jobs") {
    if (get && n == 1) return Jobs(call);
    if (get && n == 2) return Job(s[1]);
    if (get && n == 3 && s[2] == "metrics") return JobMetrics(s[1], call);
    if (post && n == 3 && s[2] == "stop") return StopJob(s[1]);
  }
  if (head == "pipelines" && get) {
    if (n == 1) return StateMachines();
    if (n == 2) return Executions(call, s[1]);
  }
  if (head == "executions" && get) {
    if (n == 1) return Executions(call, "");
    if (n == 2) return Execution(s[1]);
    if (n == 4 && s[2] == "events") return ExecutionEvent(s[1], s[3]);
  }
  if (head == "registry") {
    if (get && n == 1) return Groups();
    if (get && n == 2) return Group(s[1]);
    if (post && n == 4 && s[2] == "aliases") return MoveAlias(s[1], s[3], call);
  }
  if (head == "evaluations" && get) {
    if (n == 1) return Evaluations(call);
    if (n == 2) return Evaluation(s[1]);
  }
  if (head == "datasets") {
    if (get && n == 1) return Buckets();
    if (get && n == 2) return Objects(s[1], call);
    // A POST (with the CSRF token): a check reads up to 128 MiB and works the CPU.
    if (post && n == 3 && s[2] == "check") return CheckDataset(s[1], call);
  }
  if (head == "notifications" && get && n == 1) return Notifications();
  return Status::NotFound("no such API route");
}

}  // namespace lathe::ui
