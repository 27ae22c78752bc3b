#include "services/bedrock/task_integration.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <spdlog/spdlog.h>
#include <string_view>

#include "aws/wire.h"
#include "core/checksum.h"
#include "services/states/sdk_result.h"

namespace lathe::bedrock {
namespace {

using nlohmann::json;
using states::TaskOutcome;
using states::UnsupportedField;

// botocore's CreateModelCustomizationJobRequest members.
constexpr std::array<std::string_view, 15> kCreateJobMembers = {
    "jobName",        "customModelName",    "roleArn",          "clientRequestToken",   "baseModelIdentifier",
    "customizationType", "customModelKmsKeyId", "jobTags",      "customModelTags",      "trainingDataConfig",
    "validationDataConfig", "outputDataConfig", "hyperParameters", "vpcConfig",         "customizationConfig"};
// Maps whose keys are the user's (hyperparameter names), not members: left as written.
constexpr std::string_view kUserKeyedMap = "hyperParameters";

std::string WithFirst(std::string s, bool upper) {
  if (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    s[0] = static_cast<char>(upper ? std::toupper(c) : std::tolower(c));
  }
  return s;
}

// `v` with every member name's first letter lowered (upper = false: Bedrock's wire spelling) or
// raised (upper = true: Step Functions' spelling), except the keys of user-keyed maps. `clash`
// gets a name two members of one object share once recased ("" when none).
json Recased(const json& v, bool upper, std::string* clash) {
  if (v.is_array()) {
    json out = json::array();
    for (const json& item : v) out.push_back(Recased(item, upper, clash));
    return out;
  }
  if (!v.is_object()) return v;
  json out = json::object();
  for (const auto& [key, value] : v.items()) {
    const std::string name = WithFirst(key, upper);
    if (out.contains(name) && clash->empty()) *clash = name;
    out[name] = WithFirst(key, false) == kUserKeyedMap ? value : Recased(value, upper, clash);
  }
  return out;
}

TaskOutcome Failure(const Status& s, const char* service_id) {
  auto [code, http] = aws::ErrorCodeFor(aws::Protocol::kRestJson, s);
  // As the AWS SDK for Java words a service's error, which is what Step Functions shows.
  return TaskOutcome::Failure("Bedrock." + code, states::SdkErrorCause(s.message(), service_id, http, code));
}

TaskOutcome NotAnObject(const char* action) {
  return TaskOutcome::Failure("States.Runtime",
                              std::string("The Parameters of bedrock:") + action + " must be a JSON object");
}

// The job's description as Step Functions gives it: GetModelCustomizationJob's members,
// capitalized; lathe's own progress member (for `lathe jobs watch`) left out.
json TaskDescription(json description) {
  description.erase("latheProgress");
  std::string unused;
  return Recased(description, /*upper=*/true, &unused);
}

std::string StartedJobArn(const json& started) {
  for (const char* key : {"JobArn", "jobArn"})
    if (started.is_object() && started.contains(key) && started[key].is_string()) return started[key];
  return "";
}

}  // namespace

bool BedrockTaskIntegration::Supports(const std::string& action, const std::string& pattern) const {
  if (action == "createModelCustomizationJob") return pattern.empty() || pattern == "sync";
  if (action == "invokeModel") return pattern.empty();
  return false;
}

TaskOutcome BedrockTaskIntegration::Start(const states::TaskCall& call) {
  if (call.action == "createModelCustomizationJob") return CreateJob(call);
  if (call.action == "invokeModel") return InvokeModel(call);
  return TaskOutcome::Failure("States.Runtime", "bedrock:" + call.action.substr(0, 128) + " is not supported");
}

TaskOutcome BedrockTaskIntegration::CreateJob(const states::TaskCall& call) {
  if (!call.parameters.is_object()) return NotAnObject("createModelCustomizationJob");
  std::string clash;
  json request = Recased(call.parameters, /*upper=*/false, &clash);
  if (!clash.empty()) return TaskOutcome::Failure("States.Runtime", "The field \"" + WithFirst(clash, true) +
                                                                        "\" is given twice");
  for (const auto& [key, value] : request.items())
    if (std::find(kCreateJobMembers.begin(), kCreateJobMembers.end(), key) == kCreateJobMembers.end())
      return UnsupportedField(WithFirst(key, true));
  // Started again after a crash before its answer was recorded, the task gets the job it created
  // then (JobService answers a repeated token with that job) instead of a name conflict.
  if (!request.contains("clientRequestToken") && !call.execution_arn.empty())
    request["clientRequestToken"] =
        HexEncode(ChecksumOf(ChecksumAlgorithm::kSha256, call.execution_arn + "\n" + call.state_name));
  Result<json> created = jobs_->Create(request, call.region);
  if (!created.ok()) return Failure(created.status(), "AmazonBedrock");
  spdlog::info("bedrock: {} (state {}) started job {}", call.execution_arn, call.state_name,
               created->value("jobArn", ""));
  std::string unused;
  return TaskOutcome::Success(Recased(*created, /*upper=*/true, &unused));
}

std::optional<TaskOutcome> BedrockTaskIntegration::Poll(const states::TaskCall& call, const json& started) {
  if (call.action != "createModelCustomizationJob") return TaskIntegration::Poll(call, started);
  const std::string arn = StartedJobArn(started);
  if (arn.empty()) return TaskOutcome::Failure("States.Runtime", "the started job's JobArn is missing");
  Result<json> job = jobs_->Get(arn);
  if (!job.ok()) return Failure(job.status(), "AmazonBedrock");
  const std::string status = job->value("status", "");
  if (status == "InProgress" || status == "Stopping") return std::nullopt;
  json description = TaskDescription(*job);
  if (status == "Completed") return TaskOutcome::Success(std::move(description));
  return TaskOutcome::Failure("States.TaskFailed", description.dump());
}

void BedrockTaskIntegration::Cancel(const states::TaskCall& call, const json& started) {
  if (call.action != "createModelCustomizationJob") return;
  const std::string arn = StartedJobArn(started);
  if (arn.empty()) return;
  Status s = jobs_->Stop(arn);
  if (!s.ok()) spdlog::info("bedrock: stopping {} for {}: {}", arn, call.execution_arn, s.ToString());
}

TaskOutcome BedrockTaskIntegration::InvokeModel(const states::TaskCall& call) {
  if (!call.parameters.is_object()) return NotAnObject("invokeModel");
  std::string model_id, content_type = "application/json", accept = "application/json";
  const json* body = nullptr;
  for (const auto& [key, value] : call.parameters.items()) {
    const std::string name = WithFirst(key, true);
    if (name == "Input" || name == "Output")
      return UnsupportedField(name, " in lathe: the Body is given inline (docs/compatibility.md)");
    std::string* text = name == "ModelId" ? &model_id : name == "ContentType" ? &content_type
                        : name == "Accept" ? &accept : nullptr;
    if (name == "Body") {
      body = &value;
    } else if (text) {
      if (!value.is_string())
        return Failure(Status::InvalidArgument(name + " must be a string"), "AmazonBedrockRuntime");
      *text = value.get<std::string>();
    } else if (name != "Trace") {  // tracing is accepted and has nothing to do
      return UnsupportedField(name);
    }
  }
  if (model_id.empty())
    return Failure(Status::InvalidArgument("1 validation error detected: Value null at 'modelId' failed to satisfy "
                                           "constraint: Member must not be null"),
                   "AmazonBedrockRuntime");
  if (!body || body->is_null())
    return TaskOutcome::Failure("States.Runtime", "The field \"Body\" is required by bedrock:invokeModel");
  // lathe's models read and write JSON bodies (Titan text and Anthropic messages).
  if (content_type.rfind("application/json", 0) != 0)
    return Failure(Status::InvalidArgument("ContentType " + content_type.substr(0, 128) +
                                           " is not supported: lathe's models take application/json"),
                   "AmazonBedrockRuntime");
  if (accept != "application/json" && accept != "*/*")
    return Failure(Status::InvalidArgument("Accept " + accept.substr(0, 128) +
                                           " is not supported: lathe's models answer application/json"),
                   "AmazonBedrockRuntime");
  const std::string text = body->is_string() ? body->get<std::string>() : body->dump();
  if (text.size() > kMaxTaskInvokeBodyBytes)
    return Failure(Status::InvalidArgument("The Body is " + std::to_string(text.size()) +
                                           " bytes; Step Functions takes at most 262144 inline"),
                   "AmazonBedrockRuntime");
  Result<service::RuntimeAnswer> answer = runtime_->Invoke(model_id, text);
  if (!answer.ok()) return Failure(answer.status(), "AmazonBedrockRuntime");
  return TaskOutcome::Success({{"Body", std::move(answer->body)}, {"ContentType", "application/json"}});
}

}  // namespace lathe::bedrock
