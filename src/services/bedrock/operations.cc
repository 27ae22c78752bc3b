#include "services/bedrock/operations.h"

#include "services/bedrock/runtime_streaming.h"

namespace lathe::bedrock {
using aws::RestInput;
using aws::RestOutput;
using nlohmann::json;

namespace {

Result<RestOutput> From(Result<json> r, int status = 200) {
  if (!r.ok()) return r.status();
  RestOutput out;
  out.status = status;
  out.body = std::move(*r);
  return out;
}

Result<RestOutput> Done(const Status& s) {
  if (!s.ok()) return s;
  return RestOutput{};
}

// A runtime answer with its headers (a deployment's x-lathe-*).
Result<RestOutput> Answer(Result<service::RuntimeAnswer> r) {
  if (!r.ok()) return r.status();
  RestOutput out;
  out.body = std::move(r->body);
  for (auto& [name, value] : r->headers) out.headers.push_back({std::move(name), std::move(value)});
  return out;
}

std::string UserId(const RestInput& in) {
  const std::string* user = in.request ? in.request->header("x-lathe-user-id") : nullptr;
  return user ? *user : "";
}

}  // namespace

size_t BedrockOperations::BodyLimit(const http::Request& request) const {
  return request.path().substr(0, 7) == "/model/" ? 16u << 20 : 1u << 20;
}

BedrockOperations::BedrockOperations(service::BedrockService* backend) : backend_(backend) {
  service::BedrockService* svc = backend_;
  SetAccessRules([lookup = BedrockArns(svc)](const aws::OperationView& op) { return BedrockAccess(op, lookup); });
  AddDeploymentExtensions(svc);
  // Control plane.
  Add("POST", "/model-customization-jobs", "CreateModelCustomizationJob", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From(svc->jobs().Create(*body, in.context->region), 201);
  });
  Add("GET", "/model-customization-jobs", "ListModelCustomizationJobs",
      [svc](const RestInput& in) { return From(svc->jobs().List(in.query)); });
  Add("POST", "/model-customization-jobs/{jobIdentifier}/stop", "StopModelCustomizationJob",
      [svc](const RestInput& in) { return Done(svc->jobs().Stop(in.labels.at("jobIdentifier"))); });
  Add("GET", "/model-customization-jobs/{jobIdentifier+}", "GetModelCustomizationJob",
      [svc](const RestInput& in) { return From(svc->jobs().Get(in.labels.at("jobIdentifier"))); });

  // Evaluation jobs (service/evaluation_jobs.h). Create and BatchDelete answer 202, as Bedrock does.
  Add("POST", "/evaluation-jobs", "CreateEvaluationJob", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From(svc->evaluations().Create(*body, in.context->region), 202);
  });
  Add("GET", "/evaluation-jobs", "ListEvaluationJobs",
      [svc](const RestInput& in) { return From(svc->evaluations().List(in.query)); });
  Add("POST", "/evaluation-jobs/batch-delete", "BatchDeleteEvaluationJob", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From(svc->evaluations().BatchDelete(*body), 202);
  });
  Add("GET", "/evaluation-jobs/{jobIdentifier}", "GetEvaluationJob",
      [svc](const RestInput& in) { return From(svc->evaluations().Get(in.labels.at("jobIdentifier"))); });
  Add("POST", "/evaluation-job/{jobIdentifier}/stop", "StopEvaluationJob",
      [svc](const RestInput& in) { return Done(svc->evaluations().Stop(in.labels.at("jobIdentifier"))); });

  Add("GET", "/foundation-models", "ListFoundationModels",
      [svc](const RestInput& in) { return From(svc->ListFoundationModels(in.query, in.context->region)); });
  Add("GET", "/foundation-models/{modelIdentifier+}", "GetFoundationModel",
      [svc](const RestInput& in) {
        return From(svc->GetFoundationModel(in.labels.at("modelIdentifier"), in.context->region));
      });

  Add("GET", "/custom-models", "ListCustomModels",
      [svc](const RestInput& in) { return From(svc->custom_models().List(in.query)); });
  Add("GET", "/custom-models/{modelIdentifier+}", "GetCustomModel",
      [svc](const RestInput& in) { return From(svc->custom_models().Get(in.labels.at("modelIdentifier"))); });
  Add("DELETE", "/custom-models/{modelIdentifier+}", "DeleteCustomModel", [svc](const RestInput& in) {
    return Done(svc->custom_models().Delete(in.labels.at("modelIdentifier"),
                                            [svc](const std::string& arn) { return svc->ModelInUse(arn); }));
  });

  // Custom Model Import (service/model_import_jobs.h, service/imported_models.h).
  Add("POST", "/model-import-jobs", "CreateModelImportJob", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From(svc->import_jobs().Create(*body, in.context->region), 201);
  });
  Add("GET", "/model-import-jobs", "ListModelImportJobs",
      [svc](const RestInput& in) { return From(svc->import_jobs().List(in.query)); });
  Add("GET", "/model-import-jobs/{jobIdentifier+}", "GetModelImportJob",
      [svc](const RestInput& in) { return From(svc->import_jobs().Get(in.labels.at("jobIdentifier"))); });
  Add("GET", "/imported-models", "ListImportedModels",
      [svc](const RestInput& in) { return From(svc->imported_models().List(in.query)); });
  Add("GET", "/imported-models/{modelIdentifier+}", "GetImportedModel",
      [svc](const RestInput& in) { return From(svc->imported_models().Get(in.labels.at("modelIdentifier"))); });
  Add("DELETE", "/imported-models/{modelIdentifier+}", "DeleteImportedModel", [svc](const RestInput& in) {
    return Done(svc->imported_models().Delete(in.labels.at("modelIdentifier"),
                                              [svc](const std::string& arn) { return svc->ModelInUse(arn); }));
  });

  Add("POST", "/provisioned-model-throughput", "CreateProvisionedModelThroughput",
      [svc](const RestInput& in) -> Result<RestOutput> {
        auto body = in.Json();
        if (!body.ok()) return body.status();
        return From(svc->throughput().Create(*body, in.context->region), 201);
      });
  Add("GET", "/provisioned-model-throughputs", "ListProvisionedModelThroughputs",
      [svc](const RestInput& in) { return From(svc->throughput().List(in.query)); });
  Add("GET", "/provisioned-model-throughput/{provisionedModelId+}", "GetProvisionedModelThroughput",
      [svc](const RestInput& in) { return From(svc->throughput().Get(in.labels.at("provisionedModelId"))); });
  Add("PATCH", "/provisioned-model-throughput/{provisionedModelId+}", "UpdateProvisionedModelThroughput",
      [svc](const RestInput& in) -> Result<RestOutput> {
        auto body = in.Json();
        if (!body.ok()) return body.status();
        return Done(svc->throughput().Update(in.labels.at("provisionedModelId"), *body));
      });
  Add("DELETE", "/provisioned-model-throughput/{provisionedModelId+}", "DeleteProvisionedModelThroughput",
      [svc](const RestInput& in) { return Done(svc->throughput().Delete(in.labels.at("provisionedModelId"))); });

  // Custom model deployments (service/deployment_service.h). Create and Update answer 202.
  Add("POST", "/model-customization/custom-model-deployments", "CreateCustomModelDeployment",
      [svc](const RestInput& in) -> Result<RestOutput> {
        auto body = in.Json();
        if (!body.ok()) return body.status();
        return From(svc->deployments().Create(*body, in.context->region), 202);
      });
  Add("GET", "/model-customization/custom-model-deployments", "ListCustomModelDeployments",
      [svc](const RestInput& in) { return From(svc->deployments().List(in.query)); });
  Add("GET", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier+}",
      "GetCustomModelDeployment", [svc](const RestInput& in) {
        return From(svc->deployments().Get(in.labels.at("customModelDeploymentIdentifier")));
      });
  Add("PATCH", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier+}",
      "UpdateCustomModelDeployment", [svc](const RestInput& in) -> Result<RestOutput> {
        auto body = in.Json();
        if (!body.ok()) return body.status();
        return From(svc->deployments().Update(in.labels.at("customModelDeploymentIdentifier"), *body), 202);
      });
  Add("DELETE", "/model-customization/custom-model-deployments/{customModelDeploymentIdentifier+}",
      "DeleteCustomModelDeployment", [svc](const RestInput& in) {
        return Done(svc->deployments().Delete(in.labels.at("customModelDeploymentIdentifier")));
      });

  // The tag operations check their members themselves (service/request_fields).
  Add("POST", "/tagResource", "TagResource", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return Done(svc->TagResource(*body));
  });
  Add("POST", "/untagResource", "UntagResource", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return Done(svc->UntagResource(*body));
  });
  Add("POST", "/listTagsForResource", "ListTagsForResource", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From(svc->ListTagsForResource(*body));
  });

  // lathe's extension: retention cleanup through the server that holds the data directory.
  Add("POST", "/lathe/cleanup", "LatheCleanup", [cleanup = cleanup_](const RestInput& in) -> Result<RestOutput> {
    if (!*cleanup) return Status::NotFound("cleanup is not available on this server");
    auto body = in.Json();
    if (!body.ok()) return body.status();
    return From((*cleanup)(*body));
  });

  // Runtime. The model id arrives percent-encoded (an ARN's ':' and '/'); labels are decoded.
  // x-lathe-user-id: the caller's key for a deployment's sticky traffic split.
  Add("POST", "/model/{modelId}/invoke", "InvokeModel", [svc](const RestInput& in) {
    return Answer(svc->runtime().Invoke(in.labels.at("modelId"), std::string(in.body), UserId(in)));
  });
  Add("POST", "/model/{modelId}/converse", "Converse", [svc](const RestInput& in) {
    return Answer(svc->runtime().Converse(in.labels.at("modelId"), std::string(in.body), UserId(in)));
  });
  // The streaming variants (runtime_streaming.h): event-stream bodies generated as they are sent.
  Add("POST", "/model/{modelId}/invoke-with-response-stream", "InvokeModelWithResponseStream",
      [svc](const RestInput& in) {
        const std::string& model_id = in.labels.at("modelId");
        return EventStreamAnswer(svc->runtime().InvokeStream(model_id, in.body, UserId(in)), model_id);
      });
  Add("POST", "/model/{modelId}/converse-stream", "ConverseStream", [svc](const RestInput& in) {
    const std::string& model_id = in.labels.at("modelId");
    return EventStreamAnswer(svc->runtime().ConverseStream(model_id, in.body, UserId(in)), model_id);
  });
}

}  // namespace lathe::bedrock
