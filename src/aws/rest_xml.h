// The rest-xml protocol (S3), written once: operations by method, path template and query
// subresource ("GET /{Bucket}?location" is GetBucketLocation, "GET /{Bucket}" is not), bodies
// and answers in XML, errors as <Error><Code/><Message/>...<RequestId/></Error>. Addressing is
// path-style ("/{Bucket}/{Key+}", what botocore sends to a custom endpoint by default) or, for
// the hosts a service names, virtual-hosted ("bucket.localhost:PORT/key" is "/bucket/key").
// Paths are compared segment by segment (aws/rest_path.h). Uploads stream their bodies and
// downloads stream their answers, so object size never decides memory.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aws/rest_path.h"
#include "aws/service.h"
#include "aws/wire.h"
#include "core/status.h"

namespace lathe::aws {

// S3's document namespace, on the root element of every answer.
inline constexpr char kS3XmlNamespace[] = "http://s3.amazonaws.com/doc/2006-03-01/";

// What a rest-xml operation receives.
struct RestXmlInput {
  const RequestContext* context = nullptr;
  const http::Request* request = nullptr;
  std::map<std::string, std::string> labels;  // path labels, percent-decoded: {"Bucket": "b"}
  std::map<std::string, std::string> query;   // decoded query parameters (a repeated name keeps the first)
  // The buffered body; "" for operations added with RequestBody::kStreamed, which read
  // request->body themselves (aws/s3_upload_body.h checks it against context->signature).
  std::string_view body;
};

// An operation's answer: HTTP status, an XML document or nothing, and headers.
struct RestXmlOutput {
  int status = 200;
  std::string body;  // "" for operations whose output is all headers
  std::vector<http::Header> headers;
  // A body too large to hold (GetObject): called until it returns false, each call appending the
  // next bytes; `body` is then ignored and no XML Content-Type is added (set the object's own).
  std::function<Result<bool>(std::string* chunk)> body_stream;
  // body_stream's length (-1: unknown, sent chunked). For a HEAD answer (HeadObject): the
  // Content-Length a GET would send, sent with no body.
  int64_t content_length = -1;
};
// An answer whose body is `doc`, with an XML declaration as S3 writes it.
RestXmlOutput XmlOutput(const pugi::xml_document& doc, int status = 200);
// Appends the root element `name` to `doc` with S3's namespace and returns it.
pugi::xml_node AppendS3Root(pugi::xml_document* doc, const char* name);

using RestXmlHandler = std::function<Result<RestXmlOutput>(const RestXmlInput&)>;

// Whether the gateway buffers an operation's body (bounded XML) or the operation streams it.
enum class RequestBody { kBuffered, kStreamed };

class RestXmlService : public Service {
 public:
  Protocol protocol() const override { return Protocol::kRestXml; }
  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  AccessRequest Access(const RequestContext& context, const http::Request& request,
                       std::string_view body) const override;
  // Whether some operation of this service answers the request's method, path and query.
  bool Routes(const http::Request& request) const;
  bool Claims(const http::Request& request, std::string_view) const override { return Routes(request); }
  // Whether the request's operation was added with RequestBody::kStreamed: a service's BodyLimit
  // answers 0 for those (the gateway then reads nothing).
  bool StreamsBody(const http::Request& request) const;
  // The request's path in path-style form: "/bucket/key" for Host "bucket.localhost:9000" and
  // path "/key" when "localhost" is a virtual-host base; the path itself otherwise.
  std::string RoutedPath(const http::Request& request) const;

 protected:
  // `request_uri` as botocore's model writes it: "/", "/{Bucket}", "/{Bucket}/{Key+}", or with a
  // subresource: "/{Bucket}?location" (the query key must be present), "/{Bucket}?list-type=2"
  // (present with that value). An operation with a subresource wins over one without.
  // `name` is the operation's name in the service model (for errors).
  void Add(std::string method, std::string_view request_uri, std::string name, RestXmlHandler handler,
           RequestBody body = RequestBody::kBuffered);
  // Host names under which the first label is the bucket (virtual-hosted-style addressing),
  // lowercase, without port: {"s3.localhost", "localhost"}. A Host equal to a base, an IP
  // address or any other name is path-style.
  void SetVirtualHostBases(std::vector<std::string> bases) { virtual_host_bases_ = std::move(bases); }
  // Query keys that name an operation of their own (S3: acl, tagging, versioning, ...): a request
  // carrying one never falls to the operation without a subresource, so an operation this server
  // lacks is NotImplemented rather than answered by another. Keys of added routes are included.
  void AddSubresourceKeys(std::initializer_list<std::string_view> keys);
  // The members an error carries besides Code and Message (S3: <BucketName> for bucket errors).
  virtual XmlErrorDetails ErrorDetails(const Status& error, const RestXmlInput& input) const { return {}; }

 private:
  struct Route {
    std::string method, name;
    PathTemplate path;
    std::string query_key;    // "" when the operation has no subresource
    std::string query_value;  // required value; "" accepts any
    RestXmlHandler handler;
    RequestBody body = RequestBody::kBuffered;
  };
  // The operation for the request, or nullptr with `why` set to the error to answer.
  const Route* Match(const http::Request& request, const std::map<std::string, std::string>& query,
                     std::map<std::string, std::string>* labels, Status* why) const;
  std::vector<Route> routes_;
  std::set<std::string, std::less<>> subresource_keys_;
  std::vector<std::string> virtual_host_bases_;
};

}  // namespace lathe::aws
