#include "services/openai/errors.h"

namespace lathe::openai {

const ErrorRow& RowFor(ErrorKind kind) {
  // One table: the statuses and (type, code) pairs OpenAI's API answers for these cases.
  static const ErrorRow kRows[] = {
      /* kInvalidApiKey */ {401, "invalid_request_error", "invalid_api_key"},
      /* kInvalidRequest */ {400, "invalid_request_error", nullptr},
      /* kUnsupported */ {400, "invalid_request_error", "unsupported_parameter"},
      /* kModelNotFound */ {404, "invalid_request_error", "model_not_found"},
      /* kNotFound */ {404, "invalid_request_error", nullptr},
      /* kUnknownUrl */ {404, "invalid_request_error", "unknown_url"},
      /* kConflict */ {409, "invalid_request_error", "conflict"},
      /* kTooLarge */ {413, "invalid_request_error", "request_too_large"},
      /* kRateLimited */ {429, "requests", "rate_limit_exceeded"},
      /* kInsufficientQuota */ {429, "insufficient_quota", "insufficient_quota"},
      /* kServer */ {500, "server_error", nullptr},
      /* kUnavailable */ {503, "server_error", "service_unavailable"},
  };
  return kRows[static_cast<int>(kind)];
}

ApiError FromStatus(const Status& status, ErrorKind not_found) {
  ApiError e;
  e.message = status.message();
  if (!status.aws_code().empty()) {
    const int http = status.http_status();
    if (http == 401 || http == 403) e.kind = ErrorKind::kInvalidApiKey;
    else if (http == 413) e.kind = ErrorKind::kTooLarge;
    else if (http == 429) e.kind = ErrorKind::kRateLimited;
    else if (http == 503) e.kind = ErrorKind::kUnavailable;
    else if (http == 404) e.kind = not_found;
    else if (http == 409) e.kind = ErrorKind::kConflict;
    else if (http >= 400 && http < 500) e.kind = ErrorKind::kInvalidRequest;
    else e.kind = ErrorKind::kServer;
    return e;
  }
  switch (status.code()) {
    case Status::Code::kInvalidArgument: e.kind = ErrorKind::kInvalidRequest; break;
    case Status::Code::kUnsupported: e.kind = ErrorKind::kUnsupported; break;
    case Status::Code::kNotFound: e.kind = not_found; break;
    case Status::Code::kConflict:
    case Status::Code::kAlreadyExists: e.kind = ErrorKind::kConflict; break;
    case Status::Code::kThrottled: e.kind = ErrorKind::kRateLimited; break;
    case Status::Code::kQuotaExceeded: e.kind = ErrorKind::kInsufficientQuota; break;
    default: e.kind = ErrorKind::kServer;
  }
  return e;
}

nlohmann::json ErrorBody(const ApiError& error) {
  const ErrorRow& row = RowFor(error.kind);
  nlohmann::json inner = {{"message", error.message},
                          {"type", row.type},
                          {"param", error.param.empty() ? nlohmann::json() : nlohmann::json(error.param)},
                          {"code", row.code ? nlohmann::json(row.code) : nlohmann::json()}};
  return {{"error", inner}};
}

void WriteJson(const nlohmann::json& body, http::Response* response, int status) {
  response->status = status;
  response->set_header("Content-Type", "application/json");
  // Invalid UTF-8 from a model's bytes is replaced, never a throw in the middle of an answer.
  response->body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteError(const ApiError& error, http::Response* response) {
  WriteJson(ErrorBody(error), response, RowFor(error.kind).http_status);
}

}  // namespace lathe::openai
