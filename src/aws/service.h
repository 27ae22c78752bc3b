// What every AWS service on lathe's one endpoint implements, and what the gateway hands it.
// The gateway (aws/gateway.h) picks the service from the SigV4 credential scope (botocore sends
// IAM, STS, SNS, EventBridge and Step Functions all as `POST /`), reads the body within the
// service's bound, verifies the signature, then calls Serve. A service is a folder under
// src/services/<name>/ (docs/architecture.md): backend, wire shapes, operation table, errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/access.h"
#include "aws/sigv4.h"
#include "core/status.h"
#include "http/message.h"

namespace lathe::aws {

// The four wire protocols of botocore's service models ("metadata.protocol").
enum class Protocol {
  kRestJson,   // rest-json: bedrock, bedrock-runtime, lambda
  kAwsJson10,  // json 1.0: stepfunctions
  kAwsJson11,  // json 1.1: events
  kQuery,      // query: sns, iam, sts (form in, XML out)
  kRestXml,    // rest-xml: s3
};

// The identity behind the access key that signed the request.
struct Caller {
  std::string access_key_id;
  std::string account;  // 12 digits
  std::string arn;      // arn:aws:iam::<account>:root, or :user/<name>
  std::string user_id;  // what GetCallerIdentity answers as UserId
};

// Everything about a request that is not its wire form.
struct RequestContext {
  std::string request_id;  // also sent as x-amzn-RequestId / x-amz-request-id
  std::string region;      // the credential scope's region: ARNs and responses use it
  std::string service;     // the signing name that selected the service
  Caller caller;
  // What the signature covers (absent for unsigned requests). A service that streams its body
  // (BodyLimit 0) checks the body against it as it reads: the payload hash, or the aws-chunked
  // chunk signatures (aws_chunked.h) seeded by it.
  std::optional<api::VerifiedRequest> signature;
};

class Service {
 public:
  virtual ~Service() = default;
  // The SigV4 signing name that selects this service: "bedrock", "iam", "sts", "s3", ...
  virtual std::string_view signing_name() const = 0;
  virtual Protocol protocol() const = 0;
  // The most body bytes the gateway may buffer for this request (checked before reading it).
  // 0, for S3 (rest-xml) only: the gateway reads nothing and verifies the signature over the
  // headers; the service streams request.body itself (uploads of any size in bounded memory),
  // checking it against context.signature (absent when unsigned requests are allowed).
  virtual size_t BodyLimit(const http::Request& request) const { return 1u << 20; }
  // For unsigned requests (refused, or accepted with --no-auth), which carry no credential
  // scope: whether this request has this service's shape (a path it routes, its X-Amz-Target
  // prefix, an Action it knows). `body` may be empty when it has not been read.
  virtual bool Claims(const http::Request& request, std::string_view body) const { return false; }
  // Whether this unsigned request is one the service answers without a signature even when
  // authentication is on: SNS's SubscribeURL / UnsubscribeURL / SigningCertURL, links AWS puts in
  // messages for anyone who holds them. Keep it narrow: exact method, path and parameters; the
  // request then runs as the server's own account.
  virtual bool ServesUnsigned(const http::Request& request) const { return false; }
  // A service whose wire is not AWS's (the OpenAI-compatible /v1/ API) writes the gateway's
  // refusals (authentication, oversize bodies, a busy server) in its own error shape: true when
  // it did; false: the gateway writes them in the protocol's.
  virtual bool WriteOwnError(const Status& error, const RequestContext& context, http::Response* response) const {
    return false;
  }
  // What IAM must allow for this request (aws/access.h), asked after the signature checks out,
  // with the body as read ("" when the service streams it). The protocol bases route the request
  // as Serve does and apply the rules the service declared (SetAccessRules; without rules:
  // "<signing name>:<Operation>" on "*"); an unroutable request requires nothing (Serve refuses
  // it). A service outside the protocol bases answers for itself; by default
  // "<signing name>:*" on "*".
  virtual AccessRequest Access(const RequestContext& context, const http::Request& request,
                               std::string_view body) const {
    return Require(std::string(signing_name()) + ":*");
  }
  // The code of a refusal by IAM; "" for the protocol's own: AccessDeniedException for the JSON
  // protocols, AccessDenied for query and rest-xml (SNS: AuthorizationError).
  virtual std::string_view AccessDeniedCode() const { return ""; }
  // Serves an authenticated request whose body (at most BodyLimit bytes) has been read.
  virtual void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
                     http::Response& response) = 0;

 protected:
  // The service's per-operation declarations (its authz.cc).
  void SetAccessRules(AccessRules rules) { access_rules_ = std::move(rules); }
  AccessRequest AccessFor(const OperationView& view) const {
    AccessRequest r = access_rules_ ? access_rules_(view) : view.Default();
    r.operation = std::string(view.operation);
    return r;
  }

 private:
  AccessRules access_rules_;
};

// Writes `error` in the protocol's own error shape, exactly as botocore parses it:
//   rest-json   x-amzn-ErrorType header + {"message"} (and "__type" in the body)
//   json 1.0/1.1 {"__type": "Code", "message"}
//   query       <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/>
//   rest-xml    <Error><Code/><Message/><RequestId/></Error>
// The code and HTTP status come from error.aws_code()/http_status(); a Status without them maps
// by its generic code to the protocol's usual names (ValidationException/ValidationError/...).
void WriteError(Protocol protocol, const Status& error, const RequestContext& context,
                http::Response* response);

}  // namespace lathe::aws
