#include "services/sns/task_integration.h"

#include <array>
#include <cctype>
#include <set>
#include <spdlog/spdlog.h>
#include <string_view>
#include <variant>

#include "aws/wire.h"
#include "core/arn.h"
#include "services/s3/http_date.h"
#include "services/sns/errors.h"
#include "services/sns/shapes.h"
#include "services/states/sdk_result.h"

namespace lathe::sns {
namespace {

using nlohmann::json;
using states::MemberNamed;
using states::TaskOutcome;
using states::UnsupportedField;

// Publish's request members (botocore's PublishInput).
constexpr std::array<std::string_view, 9> kPublishMembers = {
    "TopicArn", "TargetArn", "PhoneNumber", "Message", "Subject", "MessageStructure",
    "MessageAttributes", "MessageGroupId", "MessageDeduplicationId"};
constexpr std::array<std::string_view, 3> kAttributeValueMembers = {"DataType", "StringValue", "BinaryValue"};

// A string member's value as the SDK sends it: a string as it is, anything else as its JSON text.
std::string AsString(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void AppendEncoded(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

void AppendParam(std::string* form, std::string_view name, std::string_view value) {
  if (!form->empty()) form->push_back('&');
  AppendEncoded(form, name);
  form->push_back('=');
  AppendEncoded(form, value);
}

TaskOutcome SnsFailure(const Status& s) {
  auto [code, http] = aws::ErrorCodeFor(aws::Protocol::kQuery, s);
  // As the AWS SDK for Java words a service's error, which is what Step Functions shows.
  return TaskOutcome::Failure(SnsTaskErrorName(s), states::SdkErrorCause(s.message(), "AmazonSNS", http, code));
}

// The Task's Parameters written as Publish's query parameters (`MessageAttributes.entry.N.Name`,
// `.Value.DataType` ...), so that Publish's own parsers read them. An outcome instead when the
// parameters cannot be written so.
std::variant<std::string, TaskOutcome> PublishForm(const json& parameters) {
  if (!parameters.is_object())
    return TaskOutcome::Failure("States.Runtime", "The Parameters of sns:publish must be a JSON object");
  std::string form;
  std::set<std::string_view> seen;
  for (const auto& [key, value] : parameters.items()) {
    std::string_view member = MemberNamed(key, kPublishMembers);
    if (member.empty()) return UnsupportedField(key);
    if (!seen.insert(member).second)
      return TaskOutcome::Failure("States.Runtime", "The field \"" + std::string(member) + "\" is given twice");
    if (value.is_null()) continue;  // as if absent
    if (member != "MessageAttributes") {
      AppendParam(&form, member, AsString(value));
      continue;
    }
    if (!value.is_object())
      return SnsFailure(InvalidParameter("MessageAttributes", "must be a map of attribute names to values"));
    if (value.size() > kMaxMessageAttributes)
      return SnsFailure(InvalidParameter("MessageAttributes", "Number of message attributes [" +
                                                                  std::to_string(value.size()) +
                                                                  "] exceeds the allowed maximum [10]."));
    size_t n = 0;
    for (const auto& [name, attribute] : value.items()) {
      const std::string entry = "MessageAttributes.entry." + std::to_string(++n);
      AppendParam(&form, entry + ".Name", name);
      if (!attribute.is_object())
        return SnsFailure(ParameterValueInvalid("The message attribute '" + name.substr(0, 256) +
                                                "' must be an object with DataType and StringValue or BinaryValue."));
      std::set<std::string_view> fields;
      for (const auto& [field, v] : attribute.items()) {
        std::string_view f = MemberNamed(field, kAttributeValueMembers);
        if (f.empty()) return UnsupportedField("MessageAttributes." + name.substr(0, 256) + "." + field);
        if (!fields.insert(f).second)
          return TaskOutcome::Failure("States.Runtime", "The field \"MessageAttributes." + name.substr(0, 256) + "." +
                                                            std::string(f) + "\" is given twice");
        if (!v.is_null()) AppendParam(&form, entry + ".Value." + std::string(f), AsString(v));
      }
    }
  }
  return form;
}

// Step Functions' result: the Publish response as the AWS SDK for Java gives it, metadata included.
json PublishResult(const std::string& message_id) {
  const std::string request_id = aws::NewRequestId();
  const std::string body = "<PublishResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>"
                           "<MessageId>" + message_id + "</MessageId></PublishResult><ResponseMetadata><RequestId>" +
                           request_id + "</RequestId></ResponseMetadata></PublishResponse>";
  const json headers = {{"x-amzn-RequestId", request_id},
                        {"Content-Length", std::to_string(body.size())},
                        {"Date", s3::FormatHttpDate(NowMillis())},
                        {"Content-Type", "text/xml"}};
  json result = {{"MessageId", message_id}};
  states::AddSdkMetadata(result, headers, 200, request_id);
  return result;
}

}  // namespace

std::string SnsTaskErrorName(const Status& status) {
  const std::string& code = status.aws_code().empty() ? aws::ErrorCodeFor(aws::Protocol::kQuery, status).first
                                                      : status.aws_code();
  // botocore's sns/2010-03-31 error shapes: "<code>Exception" but for these.
  if (code == "ParameterValueInvalid") return "SNS.InvalidParameterValueException";
  if (code == "ValidationException" || code == "KMSOptInRequired") return "SNS." + code;
  static const std::set<std::string> kDeclared = {
      "AuthorizationError", "BatchEntryIdsNotDistinct", "BatchRequestTooLong", "ConcurrentAccess",
      "EmptyBatchRequest", "EndpointDisabled", "FilterPolicyLimitExceeded", "InternalError", "InvalidBatchEntryId",
      "InvalidParameter", "InvalidSecurity", "InvalidState", "KMSAccessDenied", "KMSDisabled", "KMSInvalidState",
      "KMSNotFound", "KMSThrottling", "NotFound", "OptedOut", "PlatformApplicationDisabled", "ReplayLimitExceeded",
      "ResourceNotFound", "StaleTag", "SubscriptionLimitExceeded", "TagLimitExceeded", "TagPolicy", "Throttled",
      "TooManyEntriesInBatchRequest", "TopicLimitExceeded", "UserError"};
  if (kDeclared.count(code)) return "SNS." + code + "Exception";
  return "SNS.AmazonSNSException";
}

bool SnsTaskIntegration::Supports(const std::string& action, const std::string& pattern) const {
  return action == "publish" && (pattern.empty() || pattern == "waitForTaskToken");
}

TaskOutcome SnsTaskIntegration::Start(const states::TaskCall& call) {
  std::variant<std::string, TaskOutcome> form = PublishForm(call.parameters);
  if (auto* failed = std::get_if<TaskOutcome>(&form)) return *failed;
  Result<aws::QueryParams> params = aws::QueryParams::Parse(std::get<std::string>(form));
  if (!params.ok()) return SnsFailure(params.status());
  Result<std::string> arn = PublishTargetFromParams(*params);
  if (!arn.ok()) return SnsFailure(arn.status());
  Result<PublishInput> in = PublishFieldsFromParams(*params, "");
  if (!in.ok()) return SnsFailure(in.status());
  in->topic_arn = *arn;
  Result<std::string> id = backend_->Publish(*in);
  if (!id.ok()) return SnsFailure(id.status());
  spdlog::info("sns: {} (state {}) published message {} to {}", call.execution_arn, call.state_name, *id, *arn);
  return TaskOutcome::Success(PublishResult(*id));
}

}  // namespace lathe::sns
