#include "aws/gateway.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "aws/request_metrics.h"
#include "aws/rest_json.h"
#include "aws/rest_xml.h"
#include "aws/sigv2_presigned.h"
#include "aws/wire.h"
#include "core/arn.h"

namespace lathe::aws {
namespace {

// The scope the request claims (unchecked until VerifySigV4): what the gateway dispatches on.
std::optional<api::ClaimedScope> CredentialScope(const http::Request& request) {
  return api::ClaimedCredentialScope(request.header("Authorization"), request.query());
}

api::AuthFamily FamilyOf(Protocol protocol) {
  switch (protocol) {
    case Protocol::kQuery: return api::AuthFamily::kQuery;
    case Protocol::kRestXml: return api::AuthFamily::kS3;
    default: return api::AuthFamily::kJson;
  }
}

// A refusal the gateway decides before the verifier runs, in the family's words.
Status AuthStatus(Protocol protocol, api::AuthError kind, const std::string& message) {
  api::AwsAuthCode code = api::AuthErrorCode(kind, FamilyOf(protocol));
  return Status::Aws(std::string(code.code), code.http_status, message);
}

Status BusyStatus(Protocol protocol, const std::string& why) {
  switch (protocol) {
    case Protocol::kQuery: return Status::Aws("Throttling", 400, why);
    case Protocol::kRestXml: return Status::Aws("SlowDown", 503, why);
    default: return Status::Aws("ThrottlingException", 429, why);
  }
}

const char* RequestIdHeader(Protocol p) { return p == Protocol::kRestXml ? "x-amz-request-id" : "x-amzn-RequestId"; }

// The error shape for a request no service claims: the query protocol's XML for a form, the
// JSON protocol its Content-Type names for an X-Amz-Target (botocore sends json 1.0 for Step
// Functions, 1.1 for EventBridge, and expects the answer in the same), rest-json otherwise.
Protocol GuessProtocol(const http::Request& request) {
  const std::string* type = request.header("Content-Type");
  if (request.header("X-Amz-Target"))
    return type && type->rfind("application/x-amz-json-1.0", 0) == 0 ? Protocol::kAwsJson10 : Protocol::kAwsJson11;
  if (type && type->rfind("application/x-www-form-urlencoded", 0) == 0) return Protocol::kQuery;
  return Protocol::kRestJson;
}

// SigV2 presigned URLs (boto3's default generate_presigned_url, `aws s3 presign`): S3's alone.
// "" when the query is SigV2 but names no key (the verifier says what is missing).
std::optional<std::string> PresignedV2Key(const http::Request& request) {
  return api::S3PresignedV2AccessKey(request.query());
}

// The path S3 signs in SigV2: as sent, with "/bucket" in front for a virtual-hosted request.
std::string SigV2ResourcePath(const Service& service, const http::Request& request) {
  if (auto* rest = dynamic_cast<const RestXmlService*>(&service)) return rest->RoutedPath(request);
  return std::string(request.path());
}

bool IsBearer(const http::Request& request) {
  const std::string* auth = request.header("Authorization");
  return auth && auth->size() > 7 && http::HeaderNameEquals(auth->substr(0, 7), "Bearer ");
}

// Releases its share of the buffered-bytes budget when the request ends.
class BudgetLease {
 public:
  BudgetLease(std::atomic<size_t>* used, size_t limit, size_t want) : used_(used) {
    size_t now = used->load();
    while (now + want <= limit) {
      if (used->compare_exchange_weak(now, now + want)) {
        held_ = want;
        ok_ = true;
        return;
      }
    }
  }
  ~BudgetLease() {
    if (ok_) used_->fetch_sub(held_);
  }
  bool ok() const { return ok_; }

 private:
  std::atomic<size_t>* used_;
  size_t held_ = 0;
  bool ok_ = false;
};

}  // namespace

Gateway::Gateway(GatewayOptions options, AccessKeyLookup keys)
    : options_(std::move(options)), keys_(std::move(keys)), now_([] { return std::time(nullptr); }) {}

void Gateway::Add(std::shared_ptr<Service> service) {
  std::string name(service->signing_name());
  services_[name] = std::move(service);
}

Service* Gateway::Find(std::string_view signing_name) const {
  auto it = services_.find(signing_name);
  return it == services_.end() ? nullptr : it->second.get();
}

Service* Gateway::ServiceFor(const http::Request& request, std::string* signing_name, std::string* region) const {
  if (std::optional<api::ClaimedScope> scope = CredentialScope(request)) {
    *signing_name = scope->service;
    *region = scope->region;
    return Find(scope->service);
  }
  *region = options_.default_region;
  if (PresignedV2Key(request)) {
    *signing_name = "s3";
    return Find("s3");
  }
  // The OpenAI-compatible wire (/v1/...): its API keys are Bedrock's, sent the same way.
  if (Service* openai = Find("openai"); openai && openai->Claims(request, {})) {
    *signing_name = "openai";
    return openai;
  }
  // Bedrock API keys (AWS_BEARER_TOKEN_BEDROCK) are Bedrock's alone; a form or X-Amz-Target
  // request is another protocol's, and is refused in its words (Handle), not answered as
  // Bedrock's unknown operation in JSON its client cannot read.
  if (IsBearer(request) && GuessProtocol(request) == Protocol::kRestJson) {
    *signing_name = "bedrock";
    return Find("bedrock");
  }
  for (const auto& [name, service] : services_)
    if (service->ServesUnsigned(request)) {
      *signing_name = name;
      return service.get();
    }
  for (const auto& [name, service] : services_)
    if (service->Claims(request, {})) {
      *signing_name = name;
      return service.get();
    }
  signing_name->clear();
  return nullptr;
}

void Gateway::Handle(http::Request& request, http::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  RequestContext ctx;
  ctx.request_id = NewRequestId();
  std::string signing_name;
  Service* service = ServiceFor(request, &signing_name, &ctx.region);
  ctx.service = signing_name;
  const Protocol protocol = service ? service->protocol() : GuessProtocol(request);
  AccessRequest access;  // what the operation required (known once the caller is)
  auto finish = [&](const char* outcome) {
    response.set_header(RequestIdHeader(protocol), ctx.request_id);
    if (access_ && service) access_->Record(ctx, request, access, response.status, outcome);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    // The service only when one answered: a scope names any string, the metrics take closed sets.
    RecordRequest(service ? std::string_view(signing_name) : std::string_view(), access.operation, response.status,
                  outcome, ms / 1000);
    spdlog::info("{} {} [{}] -> {}{}{} ({:.1f} ms)", request.method, Printable(request.path(), 120),
                 signing_name.empty() ? "?" : Printable(signing_name, 40), response.status, *outcome ? " " : "",
                 outcome, ms);
  };
  auto fail = [&](const Status& s) {
    if (!service || !service->WriteOwnError(s, ctx, &response)) WriteError(protocol, s, ctx, &response);
    auto code = ErrorCodeFor(protocol, s).first;
    finish(code.c_str());
  };

  const std::optional<api::ClaimedScope> scope = CredentialScope(request);
  const std::optional<std::string> v2_key = scope ? std::nullopt : PresignedV2Key(request);
  const bool signed_request = request.header("Authorization") || scope || v2_key;
  if (!signed_request && !options_.no_auth && !(service && service->ServesUnsigned(request)))
    return fail(AuthStatus(protocol, api::AuthError::kMissing, "Missing Authentication Token"));
  if (!service && IsBearer(request))
    return fail(AuthStatus(protocol, api::AuthError::kMalformed,
                           "Bedrock API keys (Authorization: Bearer) are accepted only by Bedrock; sign requests "
                           "to other services with SigV4"));
  if (!service) {
    const std::string what = signing_name.empty()
                                 ? "No lathe service answers " + request.method + " " + Printable(request.path(), 200)
                                 : "lathe does not implement the AWS service '" + Printable(signing_name, 40) +
                                       "' (see docs/compatibility.md)";
    return fail(Status::Aws(protocol == Protocol::kQuery ? "InvalidAction" : "UnknownOperationException", 404, what));
  }

  // Who signed, before a single body byte is buffered: an unknown key never costs memory.
  std::optional<AccessKey> key;
  if (signed_request) {
    if (scope) key = keys_(scope->access_key_id);
    if (!key && scope)
      return fail(AuthStatus(protocol, api::AuthError::kUnknownKey,
                             "The security token included in the request is invalid."));
    if (v2_key && !v2_key->empty() && !(key = keys_(*v2_key)))
      return fail(AuthStatus(protocol, api::AuthError::kUnknownKey,
                             "The AWS Access Key Id you provided does not exist in our records."));
  }

  const size_t limit = service->BodyLimit(request);
  // Streaming (S3 uploads): the signature's payload claim is checked by the service as it reads.
  // Unsigned (--no-auth) uploads stream too: nothing to verify, and no reason to buffer them.
  const bool streams = limit == 0 && FamilyOf(protocol) == api::AuthFamily::kS3;
  const int64_t declared = streams ? 0 : request.body->declared_length();
  if (declared >= 0 && static_cast<size_t>(declared) > limit)
    return fail(Status::Aws(protocol == Protocol::kRestXml ? "EntityTooLarge" : "ValidationException", 413,
                            "The request body holds " + std::to_string(declared) + " bytes; " + signing_name +
                                " accepts at most " + std::to_string(limit) + " for this request"));
  BudgetLease lease(&buffered_, options_.max_buffered_bytes, declared >= 0 ? static_cast<size_t>(declared) : limit);
  if (!lease.ok()) return fail(BusyStatus(protocol, "The server is holding too many request bodies; retry shortly"));
  Result<std::string> body = streams ? Result<std::string>(std::string()) : http::ReadBody(request.body, limit);
  if (!body.ok()) {
    if (body.status().code() == Status::Code::kQuotaExceeded)
      return fail(Status::Aws(protocol == Protocol::kRestXml ? "EntityTooLarge" : "ValidationException", 413,
                              body.status().message()));
    return fail(Status::Aws(protocol == Protocol::kRestXml ? "IncompleteBody" : "ValidationException", 400,
                            "The request body could not be read: " + body.status().message()));
  }

  if (signed_request) {
    api::SignedRequest sr{request.method, request.target, {}, *body};
    for (const auto& h : request.headers) sr.headers.emplace_back(h.name, h.value);
    auto lookup = [&](const std::string& id) -> std::optional<std::string> {
      if (auto k = keys_(id)) return k->secret;
      return std::nullopt;
    };
    api::VerifyOptions verify;
    verify.max_skew_seconds = options_.max_skew_seconds;
    verify.expected_service = signing_name;  // the service dispatched to is the one signed for
    verify.allowed_regions = options_.allowed_regions;
    verify.family = FamilyOf(protocol);
    verify.bearer_tokens = options_.bearer_tokens;
    verify.body_unread = streams;
    auto verified = v2_key ? api::VerifyS3PresignedV2(sr, SigV2ResourcePath(*service, request), lookup, now_())
                           : api::VerifySigV4(sr, lookup, now_(), verify);
    if (auto* f = std::get_if<api::AuthFailure>(&verified))
      return fail(Status::Aws(f->error_type, f->http_status, f->message));
    const auto& who = std::get<api::VerifiedRequest>(verified);
    if (!key) key = keys_(who.access_key_id);  // a bearer token acts as the key it belongs to
    if (!key) return fail(AuthStatus(protocol, api::AuthError::kUnknownKey, "The security token included in the request is invalid."));
    if (!who.region.empty()) ctx.region = who.region;
    ctx.caller = key->caller;
    ctx.signature = who;
  } else {
    ctx.caller = Caller{"", options_.account, RootArn(options_.account), options_.account};
  }

  // The caller is known: may it? (--no-auth: anyone may do anything; the trail still records.)
  if (access_) {
    access = service->Access(ctx, request, *body);
    if (!options_.no_auth)
      if (std::optional<std::string> denied = access_->Authorize(ctx, request, access)) {
        std::string code(service->AccessDeniedCode());
        if (code.empty()) code = FamilyOf(protocol) == api::AuthFamily::kJson ? "AccessDeniedException" : "AccessDenied";
        return fail(Status::Aws(code, 403, *denied));
      }
  }

  try {
    service->Serve(ctx, request, *body, response);
  } catch (const std::exception& e) {
    return fail(Status::Internal(std::string("unexpected error: ") + e.what()));
  }
  std::string outcome;
  if (response.status >= 400)
    for (const auto& h : response.headers)
      if (http::HeaderNameEquals(h.name, "x-amzn-ErrorType")) outcome = h.value;
  finish(outcome.c_str());
}

void Gateway::WriteTransportError(http::TransportError error, const http::Request& partial, http::Response& response) {
  RequestContext ctx;
  ctx.request_id = NewRequestId();
  std::string signing_name;
  Service* service = ServiceFor(partial, &signing_name, &ctx.region);
  const Protocol protocol = service ? service->protocol() : GuessProtocol(partial);
  Status s;
  switch (error) {
    case http::TransportError::kUriTooLong:
      s = Status::Aws(protocol == Protocol::kRestXml ? "KeyTooLongError" : "ValidationException", 414,
                      "The request URI is longer than this server accepts (docs/serve.md, Limits)");
      break;
    case http::TransportError::kHeadersTooLarge:
      s = Status::Aws(protocol == Protocol::kRestXml ? "MetadataTooLarge" : "ValidationException", 431,
                      "The request headers are larger than this server accepts (docs/serve.md, Limits)");
      break;
    case http::TransportError::kTimeout:
      s = Status::Aws(protocol == Protocol::kRestXml ? "RequestTimeout" : "RequestTimeoutException", 408,
                      "The request did not arrive within the server's time limits");
      break;
    case http::TransportError::kBusy:
      s = BusyStatus(protocol, "The server has too many connections; retry shortly");
      if (protocol != Protocol::kQuery) s = Status::Aws(ErrorCodeFor(protocol, s).first, 503, s.message());
      break;
    default:
      s = Status::Aws(protocol == Protocol::kRestXml ? "MalformedRequest" : "ValidationException", 400,
                      "The request is not valid HTTP/1.1");
  }
  if (!service || !service->WriteOwnError(s, ctx, &response)) WriteError(protocol, s, ctx, &response);
  response.set_header(RequestIdHeader(protocol), ctx.request_id);
  spdlog::info("{} {} -> {} (refused by the server: {})", partial.method.empty() ? "?" : partial.method,
               Printable(partial.path(), 120), response.status, s.message());
}

}  // namespace lathe::aws
