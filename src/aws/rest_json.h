// The JSON protocols, written once: rest-json (bedrock, bedrock-runtime; operations by method +
// path template) and awsJson 1.0/1.1 (stepfunctions, events; operations by X-Amz-Target). A
// service built on them declares its operation table; parsing, routing and the error shape live
// here. Routing compares path segments: no regular expression ever runs on a request path.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/rest_path.h"
#include "aws/service.h"
#include "core/json_nesting.h"
#include "core/status.h"

namespace lathe::aws {

// The body as a JSON object ({} when empty). Nesting deeper than kMaxRequestJsonDepth
// (core/json_nesting.h) is refused before any recursive parse; anything that is not a JSON object
// is a ValidationException naming it.
Result<nlohmann::json> ParseJsonObjectBody(std::string_view body);

// What a rest-json operation receives.
struct RestInput {
  const RequestContext* context = nullptr;
  const http::Request* request = nullptr;
  std::map<std::string, std::string> labels;  // path labels, percent-decoded: {"jobIdentifier": "x"}
  std::map<std::string, std::string> query;   // decoded query parameters (a repeated name keeps the first)
  std::string_view body;                      // raw body (runtime operations pass it on as is)
  // The body parsed as a JSON object; a ValidationException for anything else.
  Result<nlohmann::json> Json() const { return ParseJsonObjectBody(body); }
};

// An operation's answer: HTTP status and JSON body, plus any headers.
struct RestOutput {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::vector<http::Header> headers;
  // Sent as is instead of `body` when set (Lambda's Invoke answers the function's own bytes;
  // an empty one for 202/204).
  std::optional<std::string> raw_body;
  // A body sent as it is produced (event streams), instead of `body`: http::Response::body_stream,
  // sent chunked. The operation names its Content-Type in `headers`.
  std::function<Result<bool>(std::string* chunk)> body_stream;
};
using RestHandler = std::function<Result<RestOutput>(const RestInput&)>;

// A rest-json service: operations by method and path template ("/model/{modelId}/invoke";
// "{key+}" takes the rest of the path). Subclasses add their table in their constructor.
class RestJsonService : public Service {
 public:
  Protocol protocol() const override { return Protocol::kRestJson; }
  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  AccessRequest Access(const RequestContext& context, const http::Request& request,
                       std::string_view body) const override;
  // Whether some operation of this service matches the request's method and path.
  bool Routes(const http::Request& request) const;
  bool Claims(const http::Request& request, std::string_view) const override { return Routes(request); }

 protected:
  // `name` is the operation's name in the service model (for the log and errors).
  void Add(std::string method, std::string path_template, std::string name, RestHandler handler);

 private:
  struct Route {
    std::string method, name;
    PathTemplate path;
    RestHandler handler;
  };
  const Route* Match(const http::Request& request, std::map<std::string, std::string>* labels,
                     bool* path_matched) const;
  std::vector<Route> routes_;
};

// An awsJson 1.0/1.1 service: X-Amz-Target "<prefix>.<Operation>" -> handler(context, input).
using JsonHandler = std::function<Result<nlohmann::json>(const RequestContext&, const nlohmann::json&)>;
class JsonTargetService : public Service {
 public:
  JsonTargetService(Protocol protocol, std::string target_prefix)
      : protocol_(protocol), prefix_(std::move(target_prefix)) {}
  Protocol protocol() const override { return protocol_; }
  const std::string& target_prefix() const { return prefix_; }
  bool Claims(const http::Request& request, std::string_view) const override;
  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  AccessRequest Access(const RequestContext& context, const http::Request& request,
                       std::string_view body) const override;

 protected:
  void Add(std::string operation, JsonHandler handler) { ops_[std::move(operation)] = std::move(handler); }

 private:
  Protocol protocol_;
  std::string prefix_;
  std::map<std::string, JsonHandler, std::less<>> ops_;
};

}  // namespace lathe::aws
