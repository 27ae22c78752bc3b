// The awsQuery protocol (IAM, STS, SNS): a form-encoded request in, XML out.
//   in:  Action=CreateRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=k&Tags.member.1.Value=v
//   out: <CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//          <CreateRoleResult>...</CreateRoleResult>
//          <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></CreateRoleResponse>
//   err: <ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code/><Message/></Error>
//          <RequestId/></ErrorResponse>
// Shapes follow botocore's QuerySerializer: lists `Name.member.N` (N from 1), maps
// `Name.entry.N.key` / `.value`, structures `Name.Field`, booleans "true"/"false".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/service.h"
#include "core/status.h"

namespace lathe::aws {

struct QueryLimits {
  size_t max_parameters = 1000;
  size_t max_key_bytes = 256;  // a decoded parameter name
};

// The error every query service answers for a constraint its model states (a missing member,
// a value out of range): `ValidationError`, HTTP 400, with AWS's "1 validation error detected"
// wording written by the caller.
Status QueryValidationError(std::string message);
// "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member
// must not be null" for the member `RoleName`.
Status QueryMissingParameter(std::string_view member);

// The decoded parameters of one request. Keys are unique: a name sent twice is refused.
class QueryParams {
 public:
  // Decodes `form` (the body) and `query_string` (the request target after '?'); both are
  // application/x-www-form-urlencoded ('+' is a space). Refuses malformed %-escapes, more than
  // max_parameters names, names longer than max_key_bytes and duplicate names, with
  // MalformedQueryString (400). The caller bounds the body's size.
  static Result<QueryParams> Parse(std::string_view form, std::string_view query_string = {},
                                   const QueryLimits& limits = {});

  // "" when absent.
  const std::string& action() const { return action_; }
  const std::string& version() const { return version_; }

  // The scalar member `name` (e.g. "RoleName", "Tags.member.1.Key"), or nullptr when absent.
  const std::string* Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name) != nullptr; }
  // The member, or QueryMissingParameter(name) when absent.
  Result<std::string> Required(std::string_view name) const;
  // "true"/"false" (any case, as AWS accepts); nullopt when absent; ValidationError otherwise.
  Result<std::optional<bool>> Bool(std::string_view name) const;
  // A decimal integer in [min, max]; nullopt when absent; ValidationError otherwise.
  Result<std::optional<int64_t>> Int(std::string_view name, int64_t min, int64_t max) const;

  // How many elements the list `name` has: members `name.<member>.1` ... `name.<member>.N` (or
  // with fields after the index, for lists of structures). 0 when absent or sent empty
  // (`name=`). ValidationError when the indexes are not exactly 1..N.
  Result<size_t> ListLength(std::string_view name, std::string_view member = "member") const;
  // A list of scalars.
  Result<std::vector<std::string>> List(std::string_view name) const;
  // A map `name.entry.N.key` / `name.entry.N.value`; ValidationError for a missing key or value,
  // or a key given twice.
  Result<std::map<std::string, std::string>> Map(std::string_view name) const;

  const std::map<std::string, std::string, std::less<>>& all() const { return params_; }

 private:
  std::map<std::string, std::string, std::less<>> params_;
  std::string action_, version_;
};

// Writes the query protocol's <ErrorResponse> for `error` into `response`: Type Sender (HTTP
// status below 500) or Receiver, the error's AWS code (or the usual name for its generic code:
// ValidationError, InternalFailure, ...), its message and the request id.
void WriteQueryError(const Status& error, const RequestContext& context, std::string_view xml_namespace,
                     http::Response* response);

// The XML namespace a query service answers in, by signing name ("iam", "sts", "sns"); "" for
// services that do not speak the query protocol.
std::string_view QueryXmlNamespace(std::string_view signing_name);

// Fills `result` (the <{Action}Result> element) or returns the error to answer instead.
using QueryHandler = std::function<Status(const RequestContext&, const QueryParams&, pugi::xml_node result)>;

// A query service: an operation table from Action to handler, and the protocol's envelope.
class QueryService : public Service {
 public:
  QueryService(std::string signing_name, std::string api_version, std::string xml_namespace);
  std::string_view signing_name() const override { return signing_name_; }
  Protocol protocol() const override { return Protocol::kQuery; }
  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  AccessRequest Access(const RequestContext& context, const http::Request& request,
                       std::string_view body) const override;
  // Serve without an http::Request: the query string and body already split off.
  void ServeForm(const RequestContext& context, std::string_view query_string, std::string_view body,
                 http::Response* response);

  const std::string& api_version() const { return api_version_; }
  const std::string& xml_namespace() const { return xml_namespace_; }

 protected:
  // `has_result`: false for operations whose model has no output (DeleteRole), which AWS
  // answers with ResponseMetadata alone.
  void Register(std::string action, QueryHandler handler, bool has_result = true);

 private:
  struct Operation {
    QueryHandler handler;
    bool has_result = true;
  };
  std::string signing_name_, api_version_, xml_namespace_;
  std::map<std::string, Operation, std::less<>> operations_;
};

}  // namespace lathe::aws
