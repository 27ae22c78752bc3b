#include "aws/rest_json.h"

#include "aws/wire.h"
#include "core/json_nesting.h"

namespace lathe::aws {
using nlohmann::json;
namespace {

void SendJson(const json& body, int status, http::Response* res) {
  res->status = status;
  res->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res->headers.push_back({"Content-Type", "application/json"});
}

}  // namespace

Result<json> ParseJsonObjectBody(std::string_view body) {
  if (body.empty()) return json::object();
  if (!JsonNestingWithin(body, kMaxRequestJsonDepth))  // before any recursive parse or walk
    return Status::InvalidArgument("The request body is not valid JSON: JSON nests deeper than " +
                                   std::to_string(kMaxRequestJsonDepth) + " levels");
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("The request body is not valid JSON");
  if (!j.is_object())
    return Status::InvalidArgument(std::string("The request body must be a JSON object (found ") + j.type_name() + ")");
  return j;
}

void RestJsonService::Add(std::string method, std::string path_template, std::string name, RestHandler handler) {
  routes_.push_back(Route{std::move(method), std::move(name), PathTemplate(path_template), std::move(handler)});
}

const RestJsonService::Route* RestJsonService::Match(const http::Request& request,
                                                     std::map<std::string, std::string>* labels,
                                                     bool* path_matched) const {
  *path_matched = false;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> found;
    if (!r.path.Match(request.path(), &found)) continue;
    *path_matched = true;
    if (r.method != request.method) continue;
    *labels = std::move(found);
    return &r;
  }
  return nullptr;
}

bool RestJsonService::Routes(const http::Request& request) const {
  std::map<std::string, std::string> labels;
  bool path_matched = false;
  return Match(request, &labels, &path_matched) != nullptr;
}

void RestJsonService::Serve(const RequestContext& context, const http::Request& request, std::string_view body,
                            http::Response& response) {
  RestInput in;
  in.context = &context;
  in.request = &request;
  in.body = body;
  bool path_matched = false;
  const Route* route = Match(request, &in.labels, &path_matched);
  if (!route) {
    const std::string what = std::string(signing_name()) + " has no operation at " + request.method + " " +
                             Printable(request.path(), 200);
    WriteError(protocol(), path_matched ? Status::Aws("MethodNotAllowedException", 405, what)
                                        : Status::Aws("UnknownOperationException", 404, what),
               context, &response);
    return;
  }
  in.query = DecodeQuery(request.query());
  Result<RestOutput> out = Status::Internal("no answer");
  try {
    out = route->handler(in);
  } catch (const std::exception& e) {  // a bug, not the client's fault: never a crash
    out = Status::Internal(std::string("unexpected error in ") + route->name + ": " + e.what());
  }
  if (!out.ok()) {
    WriteError(protocol(), out.status(), context, &response);
    return;
  }
  if (out->body_stream) {
    response.status = out->status;
    response.body_stream = std::move(out->body_stream);
  } else if (out->raw_body) {
    response.status = out->status;
    response.body = std::move(*out->raw_body);
    response.headers.push_back({"Content-Type", "application/json"});
  } else {
    SendJson(out->body, out->status, &response);
  }
  for (auto& h : out->headers) response.headers.push_back(std::move(h));
}

bool JsonTargetService::Claims(const http::Request& request, std::string_view) const {
  const std::string* target = request.header("X-Amz-Target");
  return target && target->size() > prefix_.size() && target->compare(0, prefix_.size(), prefix_) == 0 &&
         (*target)[prefix_.size()] == '.';
}

void JsonTargetService::Serve(const RequestContext& context, const http::Request& request, std::string_view body,
                              http::Response& response) {
  const std::string* target = request.header("X-Amz-Target");
  std::string_view op;
  if (target && target->size() > prefix_.size() + 1 && target->compare(0, prefix_.size(), prefix_) == 0 &&
      (*target)[prefix_.size()] == '.')
    op = std::string_view(*target).substr(prefix_.size() + 1);
  auto it = ops_.find(op);
  if (it == ops_.end()) {
    WriteError(protocol(),
               Status::Aws("UnknownOperationException", 400,
                           std::string(signing_name()) + " has no operation " +
                               (target ? "'" + Printable(*target, 200) + "'" : "(no X-Amz-Target header)")),
               context, &response);
    return;
  }
  Result<json> input = ParseJsonObjectBody(body);
  // The JSON protocols' services name a body they cannot read SerializationException.
  Result<json> out = input.ok() ? Result<json>(Status::Internal("no answer"))
                                : Result<json>(Status::Aws("SerializationException", 400, input.status().message()));
  if (input.ok()) {
    try {
      out = it->second(context, *input);
    } catch (const std::exception& e) {
      out = Status::Internal(std::string("unexpected error in ") + std::string(op) + ": " + e.what());
    }
  }
  if (!out.ok()) {
    WriteError(protocol(), out.status(), context, &response);
    return;
  }
  response.status = 200;
  response.body = out->dump(-1, ' ', false, json::error_handler_t::replace);
  response.headers.push_back(
      {"Content-Type", protocol_ == Protocol::kAwsJson10 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"});
}

AccessRequest RestJsonService::Access(const RequestContext& context, const http::Request& request,
                                      std::string_view body) const {
  std::map<std::string, std::string> labels;
  bool path_matched = false;
  const Route* route = Match(request, &labels, &path_matched);
  if (!route) return {};  // Serve refuses it
  const std::map<std::string, std::string> query = DecodeQuery(request.query());
  return AccessFor({.context = &context, .request = &request, .service = signing_name(), .operation = route->name,
                    .labels = &labels, .query = &query, .body = body});
}

AccessRequest JsonTargetService::Access(const RequestContext& context, const http::Request& request,
                                        std::string_view body) const {
  const std::string* target = request.header("X-Amz-Target");
  if (!target || target->size() <= prefix_.size() + 1 || target->compare(0, prefix_.size(), prefix_) != 0 ||
      (*target)[prefix_.size()] != '.')
    return {};
  std::string_view op = std::string_view(*target).substr(prefix_.size() + 1);
  if (!ops_.count(op)) return {};  // Serve refuses it
  return AccessFor({.context = &context, .request = &request, .service = signing_name(), .operation = op, .body = body});
}

}  // namespace lathe::aws
