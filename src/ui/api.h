// The dashboard's JSON API under /ui/api/ (docs/dashboard.md lists every route), over the
// services' backends. The Dashboard has checked the session (and, for anything but GET, the CSRF
// token) and read the body within its bound before a request gets here.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "http/message.h"
#include "ui/backends.h"

namespace lathe::ui {

class LiveFeed;

// A route's request: the path after /ui/api/ as decoded segments, the decoded query, the body.
struct ApiCall {
  std::string method;
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  std::string_view body;
  std::string actor;  // who acts, for the registry's history: "dashboard:<access key id>"
  std::string session_key;  // names the caller's session (not its id): its feeds are counted by it
  // Whether the caller's session is still live (without marking it used): streams end when not.
  std::function<bool()> session_alive = [] { return true; };
};

// The JSON a route answers, or the Status it failed with (NotFound -> 404, InvalidArgument ->
// 400, Conflict/AlreadyExists -> 409, an AWS-coded Status -> its HTTP status, else 500).
using ApiResult = Result<nlohmann::json>;

class Api {
 public:
  Api(Backends backends, LiveFeed* live) : b_(std::move(backends)), live_(live) {}
  ~Api();
  // `rest`: the raw path after "/ui/api/".
  // `caller`: an ApiCall holding only who calls (actor, session_key, session_alive).
  void Serve(const http::Request& request, std::string_view rest, std::string_view body, ApiCall caller,
             http::Response* response);

 private:
  ApiResult Route(const ApiCall& call, http::Response* response, bool* streamed);
  // Pages' data (api_*.cc).
  ApiResult Overview();
  ApiResult Jobs(const ApiCall& call);
  ApiResult Job(const std::string& id);
  ApiResult JobMetrics(const std::string& id, const ApiCall& call);
  ApiResult StopJob(const std::string& id);
  ApiResult StateMachines();
  // Executions, newest first: of one state machine (its ARN), or of all ("").
  ApiResult Executions(const ApiCall& call, const std::string& machine_arn);
  ApiResult Execution(const std::string& arn);
  // One history event of an execution with its full input and output.
  ApiResult ExecutionEvent(const std::string& arn, const std::string& id);
  ApiResult Groups();
  ApiResult Group(const std::string& name);
  ApiResult MoveAlias(const std::string& group, const std::string& alias, const ApiCall& call);
  ApiResult Evaluations(const ApiCall& call);
  ApiResult Evaluation(const std::string& id);
  ApiResult Buckets();
  ApiResult Objects(const std::string& bucket, const ApiCall& call);
  ApiResult CheckDataset(const std::string& bucket, const ApiCall& call);
  ApiResult Notifications();
  ApiResult Models();
  // The playground: a Converse stream as server-sent events of text pieces.
  Status Chat(const ApiCall& call, http::Response* response);

  // Overview's compute and Bedrock prices. They read every job's row (half a second with 1,000
  // jobs), so only the first call waits for them: later ones get the last figures and, when those
  // are over 10 s old, start a recount in the background (a page load stays within its budget);
  // a recount that changes them tells the live feed, and the overview fetches them again.
  nlohmann::json Costs();
  nlohmann::json CountCosts();

  Backends b_;
  LiveFeed* live_;
  std::mutex cost_mu_;
  nlohmann::json cost_;
  int64_t cost_at_ms_ = 0;
  bool cost_recounting_ = false;
  std::thread cost_recount_;
};

// The HTTP status a failed route answers with.
int HttpStatusOf(const Status& s);

}  // namespace lathe::ui
