#include "aws/rest_xml.h"

#include "aws/xml.h"

namespace lathe::aws {
namespace {

// S3 treats "/bucket/" as "/bucket" (an empty key names no object), and some clients (s3cmd,
// older SDKs) send the slash; so does a hand-written URL.
std::string_view WithoutBucketSlash(std::string_view path) {
  if (path.size() > 2 && path.back() == '/' && path.find('/', 1) == path.size() - 1)
    return path.substr(0, path.size() - 1);
  return path;
}

bool IsBucketHostChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// The bucket a virtual-hosted Host names ("my.bucket" for "My.Bucket.localhost:9000" under the
// base "localhost"); "" for a path-style Host. Host names are case-insensitive; bucket names
// are lowercase DNS labels, so anything else in the first part means path-style.
std::string VirtualHostBucket(std::string_view host, const std::vector<std::string>& bases) {
  if (bases.empty() || host.empty() || host.size() > 320 || host[0] == '[') return "";  // [IPv6]: path-style
  host = host.substr(0, std::min(host.rfind(':'), host.size()));
  std::string lower(host);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (const std::string& base : bases)
    if (lower == base) return "";
  for (const std::string& base : bases) {
    if (lower.size() <= base.size() + 1 || !lower.ends_with(base) || lower[lower.size() - base.size() - 1] != '.')
      continue;
    lower.resize(lower.size() - base.size() - 1);
    for (char c : lower)
      if (!IsBucketHostChar(c)) return "";
    return lower;
  }
  return "";
}

}  // namespace

RestXmlOutput XmlOutput(const pugi::xml_document& doc, int status) {
  RestXmlOutput out;
  out.status = status;
  out.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + XmlToString(doc);
  return out;
}

pugi::xml_node AppendS3Root(pugi::xml_document* doc, const char* name) {
  pugi::xml_node root = doc->append_child(name);
  root.append_attribute("xmlns") = kS3XmlNamespace;
  return root;
}

void RestXmlService::Add(std::string method, std::string_view request_uri, std::string name,
                         RestXmlHandler handler, RequestBody body) {
  const size_t q = std::min(request_uri.find('?'), request_uri.size());
  std::string_view sub = q < request_uri.size() ? request_uri.substr(q + 1) : std::string_view();
  const size_t eq = std::min(sub.find('='), sub.size());
  if (eq > 0) subresource_keys_.emplace(sub.substr(0, eq));
  routes_.push_back(Route{std::move(method), std::move(name), PathTemplate(request_uri.substr(0, q)),
                          std::string(sub.substr(0, eq)),
                          eq < sub.size() ? std::string(sub.substr(eq + 1)) : std::string(), std::move(handler), body});
}

void RestXmlService::AddSubresourceKeys(std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) subresource_keys_.emplace(k);
}

const RestXmlService::Route* RestXmlService::Match(const http::Request& request,
                                                   const std::map<std::string, std::string>& query,
                                                   std::map<std::string, std::string>* labels, Status* why) const {
  const std::string routed = RoutedPath(request);
  const std::string_view path = WithoutBucketSlash(routed);
  bool names_subresource = false;
  for (const auto& [key, value] : query) names_subresource = names_subresource || subresource_keys_.count(key) > 0;
  const Route* plain = nullptr;  // the method and path's operation without a subresource
  bool path_matched = false, method_matched = false;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> found;
    if (!r.path.Match(path, &found)) continue;
    path_matched = true;
    if (r.method != request.method) continue;
    method_matched = true;
    if (r.query_key.empty()) {
      if (!plain && !names_subresource) {
        plain = &r;
        *labels = found;
      }
      continue;
    }
    auto it = query.find(r.query_key);
    if (it == query.end() || (!r.query_value.empty() && it->second != r.query_value)) continue;
    *labels = std::move(found);
    return &r;  // a subresource names its operation exactly
  }
  if (plain) return plain;
  std::string what = request.method + " " + Printable(request.path(), 200);
  if (!request.query().empty()) what.append("?").append(Printable(request.query(), 200));
  if (path_matched && !method_matched)
    *why = Status::Aws("MethodNotAllowed", 405, "The specified method is not allowed against this resource: " + what);
  else  // a valid request for an operation this server does not have (yet)
    *why = Status::Aws("NotImplemented", 501,
                       "lathe's " + std::string(signing_name()) + " does not implement " + what +
                           " (see docs/compatibility.md)",
                       Status::Code::kUnsupported);
  return nullptr;
}

std::string RestXmlService::RoutedPath(const http::Request& request) const {
  const std::string* host = request.header("Host");
  const std::string bucket = host ? VirtualHostBucket(*host, virtual_host_bases_) : "";
  if (bucket.empty()) return std::string(request.path());
  return "/" + bucket + std::string(request.path());
}

bool RestXmlService::StreamsBody(const http::Request& request) const {
  std::map<std::string, std::string> labels;
  Status why;
  const Route* route = Match(request, DecodeQuery(request.query()), &labels, &why);
  return route && route->body == RequestBody::kStreamed;
}

bool RestXmlService::Routes(const http::Request& request) const {
  std::map<std::string, std::string> labels;
  Status why;
  return Match(request, DecodeQuery(request.query()), &labels, &why) != nullptr;
}

void RestXmlService::Serve(const RequestContext& context, const http::Request& request, std::string_view body,
                           http::Response& response) {
  RestXmlInput in;
  in.context = &context;
  in.request = &request;
  in.body = body;
  in.query = DecodeQuery(request.query());
  Status why;
  const Route* route = Match(request, in.query, &in.labels, &why);
  Result<RestXmlOutput> out = route ? Status::Internal("no answer") : why;
  if (route) {
    try {
      out = route->handler(in);
    } catch (const std::exception& e) {  // a bug, not the client's fault: never a crash
      out = Status::Internal(std::string("unexpected error in ") + route->name + ": " + e.what());
    }
  }
  if (!out.ok()) {
    WriteRestXmlError(out.status(), context, &response, ErrorDetails(out.status(), in));
    if (request.method == "HEAD") {  // S3 answers HEAD errors with the status alone
      response.body.clear();
      response.headers.clear();
    }
    return;
  }
  response.status = out->status;
  if (out->body_stream) {
    response.body_stream = std::move(out->body_stream);
    response.stream_length = out->content_length;
  } else if (request.method == "HEAD" && out->content_length >= 0) {
    // The http layer sends a stream's length as Content-Length and, for HEAD, never its bytes.
    response.body_stream = [](std::string*) -> Result<bool> { return false; };
    response.stream_length = out->content_length;
  } else {
    response.body = std::move(out->body);
    if (!response.body.empty()) response.headers.push_back({"Content-Type", "application/xml"});
  }
  for (auto& h : out->headers) response.headers.push_back(std::move(h));
}

AccessRequest RestXmlService::Access(const RequestContext& context, const http::Request& request,
                                     std::string_view body) const {
  const std::map<std::string, std::string> query = DecodeQuery(request.query());
  std::map<std::string, std::string> labels;
  Status why;
  const Route* route = Match(request, query, &labels, &why);
  if (!route) return {};  // Serve refuses it
  return AccessFor({.context = &context, .request = &request, .service = signing_name(), .operation = route->name,
                    .labels = &labels, .query = &query, .body = body});
}

}  // namespace lathe::aws
