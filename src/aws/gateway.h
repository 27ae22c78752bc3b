// One endpoint for every AWS service lathe speaks, dispatched as AWS does: the service is the one
// named in the SigV4 credential scope (".../us-east-1/iam/aws4_request"), the operation is the
// service's business (path, X-Amz-Target or Action=). The gateway checks who signed before it
// buffers a body, bounds bodies per service and in total, verifies the signature, and answers
// every failure in the protocol of the service the client meant (moto's single endpoint).
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/service.h"
#include "aws/sigv4.h"
#include "http/message.h"

namespace lathe::aws {

struct GatewayOptions {
  bool no_auth = false;                 // unsigned requests accepted (throwaway local use only)
  std::string default_region = "us-east-1";  // for unsigned requests and lathe's own clients
  std::string account = "000000000000";
  int max_skew_seconds = 900;
  // Regions a signature may be scoped to; empty: any well-formed region (the scope's region is
  // the request's: ARNs and responses use it).
  std::vector<std::string> allowed_regions;
  // Bedrock API keys (Authorization: Bearer, as AWS_BEARER_TOKEN_BEDROCK sends them).
  std::vector<api::BearerToken> bearer_tokens;
  // Request bodies held in memory by all requests together; past it requests are refused with
  // the protocol's throttling error instead of buffering (each service bounds its own bodies).
  size_t max_buffered_bytes = 256u << 20;
};

// The accepted access keys: secret and identity.
struct AccessKey {
  std::string secret;
  Caller caller;
};
using AccessKeyLookup = std::function<std::optional<AccessKey>(const std::string& access_key_id)>;

class Gateway {
 public:
  Gateway(GatewayOptions options, AccessKeyLookup keys);
  // Adds a service under its signing name. Services are added before serving starts.
  void Add(std::shared_ptr<Service> service);
  Service* Find(std::string_view signing_name) const;

  // The http::Handler of `lathe serve`.
  void Handle(http::Request& request, http::Response& response);
  // The server's own refusals (too large, too slow, busy), in the protocol the client meant.
  void WriteTransportError(http::TransportError error, const http::Request& partial, http::Response& response);

  // The service a request is meant for, from its signature or (unsigned) its shape; nullptr
  // when none fits. Exposed for tests.
  Service* ServiceFor(const http::Request& request, std::string* signing_name, std::string* region) const;

  // Replaces the clock (tests).
  void set_clock(std::function<std::time_t()> now) { now_ = std::move(now); }
  // Who may do what, and the audit trail (aws/access.h); none: every verified key may do all.
  // Set before serving starts; it outlives the gateway's requests.
  void set_access_control(AccessControl* control) { access_ = control; }

 private:
  GatewayOptions options_;
  AccessKeyLookup keys_;
  std::map<std::string, std::shared_ptr<Service>, std::less<>> services_;
  std::atomic<size_t> buffered_{0};
  std::function<std::time_t()> now_;
  AccessControl* access_ = nullptr;
};

}  // namespace lathe::aws
