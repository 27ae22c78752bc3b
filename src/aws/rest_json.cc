#include "aws/rest_json.h"

#include "aws/wire.h"
#include "core/json_nesting.h"

namespace lathe::aws {
using nlohmann::json;
namespace {

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsLabel(std::string_view seg) { return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}'; }
bool IsGreedy(std::string_view seg) { return IsLabel(seg) && seg[seg.size() - 2] == '+'; }
std::string LabelName(std::string_view seg) {
  return std::string(seg.substr(1, seg.size() - (IsGreedy(seg) ? 3 : 2)));
}

void SendJson(const json& body, int status, http::Response* res) {
  res->status = status;
  res->body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res->headers.push_back({"Content-Type", "application/json"});
}

}  // namespace

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> DecodeQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = std::min(pair.find('='), pair.size());
      std::string value = eq < pair.size() ? PercentDecode(pair.substr(eq + 1), true) : "";
      out.emplace(PercentDecode(pair.substr(0, eq), true), std::move(value));
    }
    start = end + 1;
  }
  return out;
}

Result<json> ParseJsonObjectBody(std::string_view body) {
  if (body.empty()) return json::object();
  if (!JsonNestingWithin(body, kMaxJsonDepth))  // before any recursive parse or walk
    return Status::InvalidArgument("The request body is not valid JSON: JSON nests deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("The request body is not valid JSON");
  if (!j.is_object())
    return Status::InvalidArgument(std::string("The request body must be a JSON object (found ") + j.type_name() + ")");
  return j;
}

void RestJsonService::Add(std::string method, std::string path_template, std::string name, RestHandler handler) {
  Route r{std::move(method), std::move(name), {}, std::move(handler)};
  for (std::string_view seg : PathSegments(path_template)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

const RestJsonService::Route* RestJsonService::Match(const http::Request& request,
                                                     std::map<std::string, std::string>* labels,
                                                     bool* path_matched) const {
  const std::vector<std::string_view> segs = PathSegments(request.path());
  *path_matched = false;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> found;
    size_t i = 0;
    bool ok = true;
    for (size_t k = 0; k < r.segments.size() && ok; ++k) {
      const std::string& want = r.segments[k];
      if (IsGreedy(want)) {  // the rest of the path, slashes included; never empty
        if (i >= segs.size()) { ok = false; break; }
        std::string rest;
        for (size_t j = i; j < segs.size(); ++j) (j > i ? rest.append("/") : rest).append(segs[j]);
        if (rest.empty()) ok = false;
        found[LabelName(want)] = PercentDecode(rest, false);
        i = segs.size();
      } else if (i >= segs.size()) {
        ok = false;
      } else if (IsLabel(want)) {
        if (segs[i].empty()) ok = false;
        else found[LabelName(want)] = PercentDecode(segs[i], false);
        ++i;
      } else {
        ok = segs[i] == want;
        ++i;
      }
    }
    if (!ok || i != segs.size()) continue;
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
  SendJson(out->body, out->status, &response);
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

}  // namespace lathe::aws
