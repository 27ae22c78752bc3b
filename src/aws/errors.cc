// aws::WriteError: each protocol's error shape. The query protocol's lives in query_protocol.cc.
#include <nlohmann/json.hpp>

#include "aws/query_protocol.h"
#include "aws/service.h"
#include "aws/xml.h"

namespace lathe::aws {
namespace {

// The usual JSON-protocol name and status for a Status that carries no AWS code.
std::pair<std::string, int> GenericJsonError(const Status& error) {
  switch (error.code()) {
    case Status::Code::kNotFound: return {"ResourceNotFoundException", 404};
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return {"ConflictException", 409};
    case Status::Code::kThrottled: return {"ThrottlingException", 429};
    case Status::Code::kQuotaExceeded: return {"ServiceQuotaExceededException", 400};
    case Status::Code::kIOError:
    case Status::Code::kCorruption:
    case Status::Code::kInternal: return {"InternalServerException", 500};
    default: return {"ValidationException", 400};
  }
}

}  // namespace

void WriteError(Protocol protocol, const Status& error, const RequestContext& context, http::Response* response) {
  if (protocol == Protocol::kQuery) {
    WriteQueryError(error, context, QueryXmlNamespace(context.service), response);
    return;
  }
  auto [code, http_status] = GenericJsonError(error);
  if (!error.aws_code().empty()) code = error.aws_code();
  if (error.http_status() >= 400 && error.http_status() <= 599) http_status = error.http_status();
  nlohmann::json body = {{"__type", code}, {"message", XmlText(error.message())}};
  response->status = http_status;
  response->body = body.dump();
  response->headers.push_back({"Content-Type", "application/json"});
  response->headers.push_back({"x-amzn-RequestId", context.request_id});
}

}  // namespace lathe::aws
