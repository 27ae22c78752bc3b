// The rest-xml protocol (S3), written once: operations by method, path template and query
// subresource ("GET /{Bucket}?location" is GetBucketLocation, "GET /{Bucket}" is not), bodies
// and answers in XML, errors as <Error><Code/><Message/>...<RequestId/></Error>. Addressing is
// path-style ("/{Bucket}/{Key+}"): botocore sends every request to a custom endpoint
// (AWS_ENDPOINT_URL) that way. Paths are compared segment by segment (aws/rest_path.h).
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
  std::string_view body;
};

// An operation's answer: HTTP status, an XML document or nothing, and headers.
struct RestXmlOutput {
  int status = 200;
  std::string body;  // "" for operations whose output is all headers
  std::vector<http::Header> headers;
  // A body too large to hold (S3 GetObject), sent as http::Response::body_stream; `body` is then
  // ignored. stream_length is its Content-Length (HEAD: the length of what GET would send).
  std::function<Result<bool>(std::string* chunk)> body_stream;
  int64_t stream_length = -1;
};
// An answer whose body is `doc`, with an XML declaration as S3 writes it.
RestXmlOutput XmlOutput(const pugi::xml_document& doc, int status = 200);
// Appends the root element `name` to `doc` with S3's namespace and returns it.
pugi::xml_node AppendS3Root(pugi::xml_document* doc, const char* name);

using RestXmlHandler = std::function<Result<RestXmlOutput>(const RestXmlInput&)>;

class RestXmlService : public Service {
 public:
  Protocol protocol() const override { return Protocol::kRestXml; }
  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  // Whether some operation of this service answers the request's method, path and query.
  bool Routes(const http::Request& request) const;
  bool Claims(const http::Request& request, std::string_view) const override { return Routes(request); }

 protected:
  // `request_uri` as botocore's model writes it: "/", "/{Bucket}", "/{Bucket}/{Key+}", or with a
  // subresource: "/{Bucket}?location" (the query key must be present), "/{Bucket}?list-type=2"
  // (present with that value). An operation with a subresource wins over one without.
  // `name` is the operation's name in the service model (for errors).
  void Add(std::string method, std::string_view request_uri, std::string name, RestXmlHandler handler);
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
  };
  // The operation for the request, or nullptr with `why` set to the error to answer.
  const Route* Match(const http::Request& request, const std::map<std::string, std::string>& query,
                     std::map<std::string, std::string>* labels, Status* why) const;
  std::vector<Route> routes_;
  std::set<std::string, std::less<>> subresource_keys_;
};

}  // namespace lathe::aws
