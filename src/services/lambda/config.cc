// Lambda's function configuration as requests give it: CreateFunction's and
// UpdateFunctionConfiguration's members checked as Lambda checks them, and the code's zip decoded.
#include <string_view>
#include <vector>

#include "core/arn.h"
#include "core/checksum.h"
#include "services/lambda/backend.h"
#include "services/lambda/config.h"
#include "service/request_fields.h"
#include "services/lambda/errors.h"
#include "services/lambda/names.h"
#include "services/sns/names.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

const char* const kReservedVariables[] = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};

bool ValidVariableName(const std::string& k) {
  if (k.size() < 2 || !((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z'))) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool ValidRoleArn(const std::string& r) {
  // arn:aws:iam::<12 digits>:role/<name>
  if (r.size() > 2048 || r.rfind("arn:aws", 0) != 0) return false;
  size_t iam = r.find(":iam::");
  if (iam == std::string::npos || r.size() < iam + 6 + 12 + 6) return false;
  for (size_t i = iam + 6; i < iam + 18; ++i)
    if (r[i] < '0' || r[i] > '9') return false;
  if (r.compare(iam + 18, 6, ":role/") != 0 || r.size() == iam + 24) return false;
  for (size_t i = iam + 24; i < r.size(); ++i) {
    char c = r[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          std::string_view("+=,.@-_/").find(c) != std::string_view::npos))
      return false;
  }
  return true;
}

}  // namespace

Result<std::string> OptionalString(const json& req, const char* key, size_t max, const char* field) {
  if (!req.contains(key) || req[key].is_null()) return std::string();
  if (!req[key].is_string()) return InvalidParameterValue(std::string(key) + " must be a string");
  std::string v = req[key].get<std::string>();
  if (v.size() > max)
    return ValidationError("1 validation error detected: Value at '" + std::string(field) +
                           "' failed to satisfy constraint: Member must have length less than or equal to " +
                           std::to_string(max));
  return v;
}

Result<std::string> DecodeZip(const json& code_or_req, const ZipLimits& limits) {
  if (code_or_req.contains("S3Bucket") || code_or_req.contains("S3Key") || code_or_req.contains("ImageUri"))
    return InvalidParameterValue("lathe takes function code as ZipFile only (S3Bucket/S3Key and ImageUri are not supported)");
  if (!code_or_req.contains("ZipFile") || !code_or_req["ZipFile"].is_string())
    return InvalidParameterValue("Please provide a source for function code.");
  const std::string& b64 = code_or_req["ZipFile"].get_ref<const std::string&>();
  if (b64.size() / 4 * 3 > limits.max_zip_bytes + 3)
    return RequestTooLarge("Zipped size must be smaller than " + std::to_string(limits.max_zip_bytes) + " bytes");
  std::optional<std::string> zip = Base64Decode(b64);
  if (!zip) return InvalidParameterValue("ZipFile is not valid base64");
  return std::move(*zip);
}

Result<json> LambdaBackend::ApplyConfiguration(const json& req, json doc, bool creating) {
  if (req.contains("Runtime") || creating) {
    LATHE_ASSIGN_OR_RETURN(std::string runtime, OptionalString(req, "Runtime", 64, "runtime"));
    if (!runtime.empty() || creating) {
      if (runtime.empty())
        return InvalidParameterValue("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
      if (!FunctionRuntime::Supported(runtime))
        return InvalidParameterValue("The runtime parameter of " + runtime +
                                     " is not supported by lathe: use python3.x or provided, provided.al2, provided.al2023");
      doc["runtime"] = runtime;
    }
  }
  if (req.contains("Handler") || creating) {
    LATHE_ASSIGN_OR_RETURN(std::string handler, OptionalString(req, "Handler", 128, "handler"));
    if (handler.empty() && creating)
      return InvalidParameterValue("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
    for (char c : handler)
      if (static_cast<unsigned char>(c) <= 0x20)
        return ValidationError("1 validation error detected: Value '" + handler +
                               "' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+");
    if (!handler.empty()) doc["handler"] = handler;
  }
  if (req.contains("Role") || creating) {
    LATHE_ASSIGN_OR_RETURN(std::string role, OptionalString(req, "Role", 2048, "role"));
    if (!ValidRoleArn(role))
      return ValidationError("1 validation error detected: Value '" + role.substr(0, 256) +
                             "' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                             "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    doc["role"] = role;
  }
  if (req.contains("Description")) {
    LATHE_ASSIGN_OR_RETURN(std::string d, OptionalString(req, "Description", 256, "description"));
    doc["description"] = d;
  }
  if (req.contains("Timeout") && !req["Timeout"].is_null()) {
    if (!req["Timeout"].is_number_integer()) return InvalidParameterValue("Timeout must be an integer");
    int64_t t = req["Timeout"].get<int64_t>();
    if (t < 1)
      return ValidationError("1 validation error detected: Value '" + std::to_string(t) +
                             "' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1");
    if (t > kMaxTimeoutSeconds)
      return InvalidParameterValue("Timeout value " + std::to_string(t) + " exceeds the maximum of 900 seconds");
    doc["timeout"] = t;
  }
  if (req.contains("MemorySize") && !req["MemorySize"].is_null()) {
    if (!req["MemorySize"].is_number_integer()) return InvalidParameterValue("MemorySize must be an integer");
    int64_t m = req["MemorySize"].get<int64_t>();
    if (m < kMinMemoryMb)
      return ValidationError("1 validation error detected: Value '" + std::to_string(m) +
                             "' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128");
    if (m > kMaxMemoryMb)
      return InvalidParameterValue("'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240");
    doc["memory"] = m;
  }
  if (req.contains("Environment") && !req["Environment"].is_null()) {
    const json& e = req["Environment"];
    if (!e.is_object()) return InvalidParameterValue("Environment must be an object");
    json vars = json::object();
    if (e.contains("Variables") && !e["Variables"].is_null()) {
      if (!e["Variables"].is_object()) return InvalidParameterValue("Environment.Variables must be a map of strings");
      size_t bytes = 0;
      std::vector<std::string> reserved;
      for (const auto& [k, v] : e["Variables"].items()) {
        if (!v.is_string()) return InvalidParameterValue("Environment.Variables." + k.substr(0, 128) + " must be a string");
        bytes += k.size() + v.get_ref<const std::string&>().size();
        if (bytes > kMaxEnvironmentBytes)
          return InvalidParameterValue("Lambda was unable to configure your environment variables because the "
                                       "environment variables you have provided exceeded the 4KB limit.");
        if (!ValidVariableName(k))
          return ValidationError("1 validation error detected: Value at 'environment.variables' failed to satisfy "
                                 "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
                                 "pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
        if (v.get_ref<const std::string&>().find('\0') != std::string::npos)
          return InvalidParameterValue("Environment variable " + k + " holds a NUL character");
        for (const char* r : kReservedVariables)
          if (k == r) reserved.push_back(k);
        vars[k] = v;
      }
      if (!reserved.empty()) {
        std::string list;
        for (const auto& r : reserved) list += (list.empty() ? "" : ",") + r;
        return InvalidParameterValue("Lambda was unable to configure your environment variables because the environment "
                                     "variables you have provided contains reserved keys that are currently not "
                                     "supported for modification. Reserved keys used in this request: " + list);
      }
    }
    doc["environment"] = vars;
  }
  doc["revision_id"] = sns::NewUuid();
  doc["last_modified_ms"] = NowMillis();
  return doc;
}

}  // namespace lathe::lambda
