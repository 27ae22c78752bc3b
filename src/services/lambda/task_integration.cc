#include "services/lambda/task_integration.h"

#include "asl/errors.h"
#include "core/arn.h"
#include "core/json_nesting.h"
#include "services/lambda/errors.h"
#include "services/states/sdk_result.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

std::string StringParam(const json& p, const char* key) {
  return p.is_object() && p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : "";
}

// How the Java SDK behind Step Functions words a service error in the state's cause.
std::string ServiceCause(const Status& s) {
  return states::SdkErrorCause(s.message(), "AWSLambda", s.http_status() ? s.http_status() : 500,
                               s.aws_code().empty() ? std::string("ServiceException") : s.aws_code());
}

// A function's answer (up to 6 MB) is untrusted: the parser and every later walk of the value
// recurse once per level, so its nesting is measured on the text first. A result the state
// could not take anyway (over Step Functions' payload bound, or nested deeper than states may
// nest) fails here with AWS's error, before 6 MB are parsed.
bool UsableResultText(const std::string& text) {
  return text.size() <= asl::kMaxPayloadBytes &&
         JsonNestingWithin(text, static_cast<int>(asl::kMaxPayloadDepth) - 1);
}

}  // namespace

bool LambdaTaskIntegration::Supports(const std::string& action, const std::string& pattern) const {
  if (action == "invoke") return pattern.empty() || pattern == "waitForTaskToken";
  if (action == "function") return pattern.empty();
  return false;
}

states::TaskOutcome LambdaTaskIntegration::Start(const states::TaskCall& call) {
  const json& p = call.parameters;
  if (!p.is_object() || StringParam(p, "FunctionName").empty())
    return states::TaskOutcome::Failure("Lambda.InvalidParameterValueException",
                                        "The lambda:invoke parameters need a FunctionName (a string)");
  InvokeInput in;
  in.function_name = StringParam(p, "FunctionName");
  in.qualifier = StringParam(p, "Qualifier");
  in.invocation_type = StringParam(p, "InvocationType");
  in.log_type = StringParam(p, "LogType");
  if (p.contains("Payload") && !p["Payload"].is_null())
    // A string Payload is the JSON text itself (as the SDK sends a blob); anything else is JSON.
    in.payload = p["Payload"].is_string() ? p["Payload"].get<std::string>() : p["Payload"].dump();
  Scope scope{call.account, call.region};
  Result<InvokeOutput> out = backend_->Invoke(scope, in);
  if (!out.ok()) {
    const Status error = AsLambdaError(out.status());
    return states::TaskOutcome::Failure("Lambda." + error.aws_code(), ServiceCause(error));
  }
  if (!out->function_error.empty()) {
    json err = UsableResultText(out->payload) ? json::parse(out->payload, nullptr, false) : json();
    std::string type = err.is_object() && err.contains("errorType") && err["errorType"].is_string()
                           ? err["errorType"].get<std::string>()
                           : "Lambda.Unknown";
    return states::TaskOutcome::Failure(type, asl::ClipUtf8(out->payload, asl::kMaxCauseBytes));
  }
  if (!UsableResultText(out->payload))
    return states::TaskOutcome::Failure(
        asl::kStatesDataLimitExceeded,
        out->payload.size() > asl::kMaxPayloadBytes
            ? "The Lambda function's result of " + std::to_string(out->payload.size()) +
                  " bytes exceeds the maximum number of bytes service limit (" +
                  std::to_string(asl::kMaxPayloadBytes) + " bytes)."
            : "The Lambda function's result nests deeper than the maximum depth of " +
                  std::to_string(asl::kMaxPayloadDepth) + " levels.");
  json payload = out->payload.empty() ? json() : json::parse(out->payload, nullptr, false);
  if (payload.is_discarded()) payload = out->payload;  // not JSON: passed on as a string
  if (call.action == "function") return states::TaskOutcome::Success(payload);
  const std::string date = Iso8601(NowMillis());
  json headers = {{"Connection", "keep-alive"},
                  {"Content-Length", std::to_string(out->payload.size())},
                  {"Content-Type", "application/json"},
                  {"Date", date},
                  {"X-Amz-Executed-Version", out->executed_version},
                  {"x-amzn-Remapped-Content-Length", "0"},
                  {"x-amzn-RequestId", out->request_id}};
  json result = {{"ExecutedVersion", out->executed_version},
                 {"Payload", out->status_code == 200 ? payload : json("")},
                 {"StatusCode", out->status_code}};
  states::AddSdkMetadata(result, headers, out->status_code, out->request_id);
  return states::TaskOutcome::Success(result);
}

}  // namespace lathe::lambda
