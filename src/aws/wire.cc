#include "aws/wire.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <sstream>

#include "aws/query_protocol.h"
#include "aws/xml.h"
#include "core/arn.h"

namespace lathe::aws {
namespace {

std::pair<std::string, int> GenericJson(Status::Code code) {
  switch (code) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported: return {"ValidationException", 400};
    case Status::Code::kNotFound: return {"ResourceNotFoundException", 404};
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return {"ConflictException", 400};
    case Status::Code::kThrottled: return {"ThrottlingException", 429};
    case Status::Code::kQuotaExceeded: return {"ServiceQuotaExceededException", 400};
    default: return {"InternalServerException", 500};
  }
}

std::pair<std::string, int> GenericQuery(Status::Code code) {
  switch (code) {
    case Status::Code::kNotFound: return {"ResourceNotFound", 404};
    case Status::Code::kAlreadyExists: return {"AlreadyExists", 409};
    case Status::Code::kConflict: return {"ConcurrentModification", 409};
    case Status::Code::kThrottled: return {"Throttling", 400};
    case Status::Code::kQuotaExceeded: return {"LimitExceeded", 400};
    case Status::Code::kUnsupported: return {"InvalidAction", 400};
    case Status::Code::kIOError:
    case Status::Code::kCorruption:
    case Status::Code::kInternal: return {"InternalFailure", 500};
    default: return {"ValidationError", 400};
  }
}

std::pair<std::string, int> GenericRestXml(Status::Code code) {
  switch (code) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported: return {"InvalidArgument", 400};
    case Status::Code::kNotFound: return {"NotFound", 404};
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return {"OperationAborted", 409};
    case Status::Code::kThrottled: return {"SlowDown", 503};
    case Status::Code::kQuotaExceeded: return {"QuotaExceeded", 400};
    default: return {"InternalError", 500};
  }
}

}  // namespace

std::string NewRequestId() {
  std::string id = NewResourceId(32);
  return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" +
         id.substr(20, 12);
}

std::pair<std::string, int> ErrorCodeFor(Protocol protocol, const Status& status) {
  if (!status.aws_code().empty()) {
    // 4xx and 5xx, and S3's one error answered with a 3xx: 301 PermanentRedirect (a bucket that
    // another endpoint serves).
    const int http = status.http_status();
    return {status.aws_code(), (http >= 400 && http <= 599) || http == 301 ? http : 400};
  }
  switch (protocol) {
    case Protocol::kQuery: return GenericQuery(status.code());
    case Protocol::kRestXml: return GenericRestXml(status.code());
    default: return GenericJson(status.code());
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

std::string Printable(std::string_view s, size_t max_bytes) {
  std::string out(s.substr(0, max_bytes));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  if (s.size() > max_bytes) out += "...";
  return out;
}

void WriteJsonError(Protocol protocol, const Status& error, const RequestContext& context, http::Response* response) {
  auto [code, http] = ErrorCodeFor(protocol, error);
  nlohmann::json body = {{"message", error.message()}};
  response->status = http;
  response->headers.clear();
  if (protocol == Protocol::kRestJson) {
    response->headers.push_back({"x-amzn-ErrorType", code});
    response->headers.push_back({"Content-Type", "application/json"});
  } else {
    body["__type"] = code;
    response->headers.push_back(
        {"Content-Type", protocol == Protocol::kAwsJson10 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"});
  }
  response->body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response->body_stream = nullptr;
}

void WriteRestXmlError(const Status& error, const RequestContext& context, http::Response* response,
                       const XmlErrorDetails& details) {
  auto [code, http] = ErrorCodeFor(Protocol::kRestXml, error);
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node e = doc.append_child("Error");
  e.append_child("Code").text().set(code.c_str());
  e.append_child("Message").text().set(XmlText(error.message()).c_str());
  for (const auto& [name, value] : details) AppendTextElement(e, name.c_str(), value);
  e.append_child("RequestId").text().set(context.request_id.c_str());
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  response->status = http;
  response->headers.clear();
  response->headers.push_back({"Content-Type", "application/xml"});
  response->body = out.str();
  response->body_stream = nullptr;
}

void WriteError(Protocol protocol, const Status& error, const RequestContext& context, http::Response* response) {
  switch (protocol) {
    case Protocol::kRestXml: return WriteRestXmlError(error, context, response);
    case Protocol::kQuery: return WriteQueryError(error, context, QueryXmlNamespace(context.service), response);
    default: return WriteJsonError(protocol, error, context, response);
  }
}

}  // namespace lathe::aws
