// What every service's Task integration writes as Step Functions does: a Task's result and error
// cause as the AWS SDK for Java (behind Step Functions) words them, and the checks of a Task's
// Parameters. One place, so that sns, events, bedrock and lambda cannot drift apart.
#pragma once

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/wire.h"
#include "services/states/integration.h"

namespace lathe::states {

// The member of `members` that `name` spells with either case of its first letter, or "" (Step
// Functions takes `message` for `Message`, as the SDK's field names are matched).
template <size_t N>
std::string_view MemberNamed(std::string_view name, const std::array<std::string_view, N>& members) {
  if (name.empty()) return {};
  for (std::string_view m : members)
    if (m.size() == name.size() && m.substr(1) == name.substr(1) &&
        std::toupper(static_cast<unsigned char>(name[0])) == m[0])
      return m;
  return {};
}

// A Parameters field the service's request has no member for; `why` is appended as it is.
inline TaskOutcome UnsupportedField(const std::string& name, const std::string& why = "") {
  return TaskOutcome::Failure("States.Runtime",
                              "The field \"" + name.substr(0, 256) + "\" is not supported by Step Functions" + why);
}

// A service error's cause as the Java SDK words it: "<message> (Service: AmazonSNS; Status Code:
// 404; Error Code: NotFound; Request ID: <id>; Proxy: null)".
inline std::string SdkErrorCause(const std::string& message, const std::string& service_id, int http_status,
                                 const std::string& error_code) {
  return message + " (Service: " + service_id + "; Status Code: " + std::to_string(http_status) +
         "; Error Code: " + error_code + "; Request ID: " + aws::NewRequestId() + "; Proxy: null)";
}

// The SDK's response metadata beside a result's members: SdkHttpMetadata (the headers, each also
// as a one-element list in AllHttpHeaders, and the status) and SdkResponseMetadata.
inline void AddSdkMetadata(nlohmann::json& result, const nlohmann::json& headers, int http_status,
                           const std::string& request_id) {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& [k, v] : headers.items()) all[k] = nlohmann::json::array({v});
  result["SdkHttpMetadata"] = {{"AllHttpHeaders", all}, {"HttpHeaders", headers}, {"HttpStatusCode", http_status}};
  result["SdkResponseMetadata"] = {{"RequestId", request_id}};
}

}  // namespace lathe::states
