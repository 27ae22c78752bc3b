// Feeds arbitrary bytes to the awsQuery form parser, its list/map accessors, the error writer and
// IAM's policy-document validator: none may crash, leak, hang or allocate without bound, and
// every error document written must parse back as XML.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <pugixml.hpp>
#include <string_view>

#include "aws/query_protocol.h"
#include "services/iam/policy_document.h"

using namespace lathe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first '?' splits a query string off, so both inputs are exercised.
  size_t q = bytes.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : bytes.substr(0, q);
  std::string_view form = q == std::string_view::npos ? bytes : bytes.substr(q + 1);
  aws::QueryLimits limits;
  limits.max_parameters = 64;  // small, so the limit paths are reached too
  limits.max_key_bytes = 32;
  Result<aws::QueryParams> params = aws::QueryParams::Parse(form, query, limits);
  Status outcome = params.status();
  if (params.ok()) {
    for (const char* name : {"Tags", "PolicyNames", "L"}) (void)params->List(name), (void)params->ListLength(name);
    (void)params->Map("Attributes");
    (void)params->Int("MaxItems", 1, 1000);
    (void)params->Bool("Flag");
    if (const std::string* doc = params->Get("PolicyDocument")) {
      outcome = iam::ValidatePolicyDocument(*doc, iam::PolicyKind::kIdentity);
      (void)iam::ValidatePolicyDocument(*doc, iam::PolicyKind::kTrust);
    }
  }
  (void)iam::ValidatePolicyDocument(bytes, iam::PolicyKind::kTrust);
  if (!outcome.ok()) {
    aws::RequestContext ctx;
    ctx.service = "iam";
    http::Response response;
    aws::WriteError(aws::Protocol::kQuery, outcome, ctx, &response);
    pugi::xml_document doc;
    if (!doc.load_buffer(response.body.data(), response.body.size())) std::abort();
  }
  return 0;
}
