// OpenAI's error shape and statuses, in one table: {"error": {"message", "type", "param", "code"}}
// with the HTTP status the openai SDKs map to their exception classes (400 BadRequestError, 401
// AuthenticationError, 404 NotFoundError, 409 ConflictError, 413, 429 RateLimitError, 500
// InternalServerError, 503). Every answer of the /v1/ wire, including the gateway's refusals
// (authentication, oversize bodies, a busy server), is written through this table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "core/status.h"
#include "http/message.h"

namespace lathe::openai {

enum class ErrorKind {
  kInvalidApiKey,     // 401: no key, an unknown key, another Authorization scheme
  kInvalidRequest,    // 400: malformed JSON, wrong types, values out of range
  kUnsupported,       // 400: a parameter lathe's engine cannot honour (logprobs, tools)
  kModelNotFound,     // 404: the model names nothing lathe serves
  kNotFound,          // 404: a file or job that does not exist
  kUnknownUrl,        // 404: no /v1/ route has this method and path
  kConflict,          // 409: the resource's state does not allow it (cancel a finished job)
  kTooLarge,          // 413: a body over the route's bound
  kRateLimited,       // 429: busy (queues full, the default model still building)
  kInsufficientQuota, // 429: over a quota (model memory, active jobs)
  kServer,            // 500
  kUnavailable,       // 503: the server is shutting down or has too many connections
};

struct ApiError {
  ErrorKind kind = ErrorKind::kServer;
  std::string message;
  std::string param;  // the request field at fault, "" for none (null on the wire)
};

// The table's row for a kind.
struct ErrorRow {
  int http_status;
  const char* type;  // error.type
  const char* code;  // error.code; nullptr: null
};
const ErrorRow& RowFor(ErrorKind kind);

// A lower layer's Status in OpenAI's terms: InvalidArgument -> 400, NotFound -> `not_found`,
// Conflict/AlreadyExists -> 409, Throttled -> 429, QuotaExceeded -> 429 insufficient_quota,
// anything else 500. A Status that carries an AWS code (the gateway's own refusals) maps by its
// HTTP status: 401/403 -> invalid_api_key, 413 -> too large, 429 -> rate limited, 503.
ApiError FromStatus(const Status& status, ErrorKind not_found = ErrorKind::kNotFound);

nlohmann::json ErrorBody(const ApiError& error);
void WriteError(const ApiError& error, http::Response* response);
// A JSON answer (200 unless told), Content-Type application/json.
void WriteJson(const nlohmann::json& body, http::Response* response, int status = 200);

// What the backend's operations answer: a JSON body, or an error.
using Answer = std::variant<nlohmann::json, ApiError>;
inline bool Failed(const Answer& a) { return std::holds_alternative<ApiError>(a); }

}  // namespace lathe::openai
