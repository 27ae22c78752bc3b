// What IAM must allow for each Bedrock operation (AWS's Service Authorization Reference for
// Amazon Bedrock): the action is the operation's name, except that Converse is
// bedrock:InvokeModel and the streaming calls bedrock:InvokeModelWithResponseStream; the resource
// is the ARN the request names (a model id that is not an ARN is the foundation model's ARN),
// "*" when it names none; jobs that act with a role also need iam:PassRole on it, passed to
// bedrock.amazonaws.com; tags in a request are aws:RequestTag/<key> and aws:TagKeys.
#include <nlohmann/json.hpp>

#include "aws/rest_json.h"
#include "core/arn.h"
#include "services/bedrock/operations.h"

namespace lathe::bedrock {
namespace {

using aws::AccessContext;
using aws::AccessRequest;
using aws::OperationView;
using nlohmann::json;

constexpr std::string_view kBedrockPrincipal = "bedrock.amazonaws.com";

// Tags in Bedrock's shape: [{"key": k, "value": v}, ...] under each of `members`.
void AddTags(const json& body, std::initializer_list<const char*> members, AccessContext* context) {
  std::vector<std::pair<std::string, std::string>> tags;
  for (const char* member : members) {
    if (!body.contains(member) || !body[member].is_array()) continue;
    for (const json& t : body[member])
      if (t.is_object() && t.value("key", json()).is_string() && t.value("value", json()).is_string())
        tags.emplace_back(t["key"].get<std::string>(), t["value"].get<std::string>());
  }
  aws::AddRequestTags(tags, context);
}

std::string StringMember(const json& body, const char* member) {
  return body.contains(member) && body[member].is_string() ? body[member].get<std::string>() : "";
}

// The ARN a path label names, or "*".
std::string LabelArn(const OperationView& op) {
  if (op.labels)
    for (const auto& [name, value] : *op.labels)
      if (value.compare(0, 4, "arn:") == 0) return value;
  return "*";
}

AccessRequest Invoke(const OperationView& op, const char* action) {
  std::string model = op.Label("modelId");
  if (model.compare(0, 4, "arn:") != 0)
    model = "arn:aws:bedrock:" + op.context->region + "::foundation-model/" + model;
  return aws::Require(action, {model});
}

}  // namespace

AccessRequest BedrockAccess(const OperationView& op) {
  if (op.operation == "InvokeModel" || op.operation == "Converse") return Invoke(op, "bedrock:InvokeModel");
  if (op.operation == "InvokeModelWithResponseStream" || op.operation == "ConverseStream")
    return Invoke(op, "bedrock:InvokeModelWithResponseStream");
  const bool creates_with_role = op.operation == "CreateModelCustomizationJob" ||
                                 op.operation == "CreateEvaluationJob" || op.operation == "CreateModelImportJob";
  const bool tags = op.operation == "TagResource" || op.operation == "UntagResource" ||
                    op.operation == "ListTagsForResource";
  if (!creates_with_role && !tags && op.operation.substr(0, 6) != "Create") {
    AccessRequest r = op.Default();
    r.resources = r.checks[0].resources = {LabelArn(op)};
    // Cleanup deletes every job's, model's and deployment's leftovers server-wide, whoever
    // owns them: no Bedrock permission (bedrock:* in a FullAccess policy) should grant that.
    if (op.operation == "LatheCleanup") r.administrator_only = "cleanup acts on the whole server's data";
    return r;
  }
  Result<json> body = aws::ParseJsonObjectBody(op.body);
  if (!body.ok()) return op.Default();  // the operation refuses it
  AccessContext context;
  AddTags(*body, {"jobTags", "customModelTags", "tags", "modelTags", "importedModelTags"}, &context);
  if (op.operation == "UntagResource" && body->contains("tagKeys") && (*body)["tagKeys"].is_array())
    for (const json& k : (*body)["tagKeys"])
      if (k.is_string()) context["aws:tagkeys"].push_back(k.get<std::string>());
  std::string resource = tags ? StringMember(*body, "resourceARN") : "*";
  AccessRequest r = aws::Require("bedrock:" + std::string(op.operation), {resource.empty() ? "*" : resource},
                                 std::move(context));
  const std::string role = StringMember(*body, "roleArn");
  if (creates_with_role && !role.empty()) r.checks.push_back(aws::PassRole(role, kBedrockPrincipal));
  return r;
}

}  // namespace lathe::bedrock
