// What IAM must allow for each Bedrock operation (AWS's Service Authorization Reference for
// Amazon Bedrock): the action is the operation's name, except that Converse is
// bedrock:InvokeModel and the streaming calls bedrock:InvokeModelWithResponseStream; the resource
// is the ARN the request names (a job or model given by name is looked up for its ARN; a model
// id that names no custom or imported model is the foundation model's ARN), "*" when it names
// none or nothing is found; jobs that act with a role also need iam:PassRole on it, passed to
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

// What kind of job or model an operation's identifier label names ("" when not one of those).
std::string_view IdentifierKind(std::string_view operation) {
  auto has = [&](std::string_view part) { return operation.find(part) != std::string_view::npos; };
  if (has("ModelCustomizationJob")) return "model-customization-job";
  if (has("EvaluationJob")) return "evaluation-job";
  if (has("ModelImportJob")) return "model-import-job";
  if (has("CustomModel")) return "custom-model";
  if (has("ImportedModel")) return "imported-model";
  return "";
}

// The ARN a path label names: a job or model by its stored ARN (a name spelled otherwise than
// an ARN must not escape a Deny on it), another ARN as given, or "*".
std::string LabelArn(const OperationView& op, const BedrockArnLookup& lookup) {
  const std::string_view kind = IdentifierKind(op.operation);
  for (const char* label : {"jobIdentifier", "modelIdentifier"})
    if (std::string id = op.Label(label); !id.empty() && !kind.empty() && lookup) {
      std::string arn = lookup(kind, id);
      return arn.empty() ? "*" : arn;
    }
  if (op.labels)
    for (const auto& [name, value] : *op.labels)
      if (value.compare(0, 4, "arn:") == 0) return value;
  return "*";
}

// A model id that is not an ARN: a custom or imported model by name, else a foundation model.
AccessRequest Invoke(const OperationView& op, const char* action, const BedrockArnLookup& lookup) {
  std::string model = op.Label("modelId");
  if (model.compare(0, 4, "arn:") != 0) {
    std::string stored;
    if (lookup) stored = lookup("custom-model", model);
    if (lookup && stored.empty()) stored = lookup("imported-model", model);
    model = stored.empty() ? "arn:aws:bedrock:" + op.context->region + "::foundation-model/" + model : stored;
  }
  return aws::Require(action, {model});
}

}  // namespace

BedrockArnLookup BedrockArns(service::BedrockService* backend) {
  return [backend](std::string_view kind, const std::string& id) -> std::string {
    Result<json> found = kind == "model-customization-job" ? backend->jobs().Get(id)
                         : kind == "evaluation-job"       ? backend->evaluations().Get(id)
                         : kind == "model-import-job"     ? backend->import_jobs().Get(id)
                         : kind == "custom-model"         ? backend->custom_models().Get(id)
                         : kind == "imported-model"       ? backend->imported_models().Get(id)
                                                          : Result<json>(Status::NotFound("no such kind"));
    if (!found.ok() || !found->is_object()) return "";
    const char* member = kind.ends_with("job") ? "jobArn" : "modelArn";
    return found->contains(member) && (*found)[member].is_string() ? (*found)[member].get<std::string>() : "";
  };
}

AccessRequest BedrockAccess(const OperationView& op, const BedrockArnLookup& lookup) {
  if (op.operation == "InvokeModel" || op.operation == "Converse") return Invoke(op, "bedrock:InvokeModel", lookup);
  if (op.operation == "InvokeModelWithResponseStream" || op.operation == "ConverseStream")
    return Invoke(op, "bedrock:InvokeModelWithResponseStream", lookup);
  const bool creates_with_role = op.operation == "CreateModelCustomizationJob" ||
                                 op.operation == "CreateEvaluationJob" || op.operation == "CreateModelImportJob";
  const bool tags = op.operation == "TagResource" || op.operation == "UntagResource" ||
                    op.operation == "ListTagsForResource";
  if (!creates_with_role && !tags && op.operation.substr(0, 6) != "Create") {
    AccessRequest r = op.Default();
    r.resources = r.checks[0].resources = {LabelArn(op, lookup)};
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
