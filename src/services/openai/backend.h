// The OpenAI-compatible API's semantics without HTTP: models, chat and text completions,
// embeddings, files and fine-tuning jobs, over the same services Bedrock's API uses. Chat and
// completions go through RuntimeService (every model address Converse takes, plus registry
// references), files live in lathe's S3 store, and a fine-tuning job is a Bedrock model
// customization job, so each is visible through both APIs with the same status and model.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "service/bedrock_service.h"
#include "service/model_reference.h"
#include "service/runtime_stream.h"
#include "services/openai/errors.h"
#include "services/openai/file_objects.h"
#include "services/openai/sampling_request.h"

namespace lathe::openai {

using Query = std::map<std::string, std::string>;

class OpenAIBackend {
 public:
  // `bedrock` and `files` outlive this; `files` may be null (no /v1/files then).
  OpenAIBackend(service::BedrockService* bedrock, FileObjects* files, std::string account)
      : bedrock_(bedrock), files_(files), account_(std::move(account)) {}
  // The stored ARN of the custom or imported model `name` names, "" when none (authz.cc).
  std::string StoredModelArn(const std::string& name) const;
  // Registry references ("group:alias", "group/version") through the registry; unset: refused.
  void set_registry_resolver(service::ModelResolver resolver) { resolver_ = std::move(resolver); }

  // Models.
  Answer ListModels();
  Answer RetrieveModel(const std::string& name);
  // What RuntimeService is asked for a model name: the name itself when a deployment,
  // provisioned throughput, custom, imported or foundation model answers to it, else the model
  // a registry reference resolves to; model_not_found otherwise.
  std::variant<std::string, ApiError> ServedModel(const std::string& name);

  // Chat (chat: true) and text completions of a parsed request, whole; one generation per choice.
  Answer Complete(const SamplingRequest& request, bool chat);
  // The generations of a parsed request, in choice order.
  std::variant<std::vector<engine::GenerationResult>, ApiError> Generate(const SamplingRequest& request);
  // stream: true: the stream of the request's one choice, started (routed, a slot taken, the
  // prompt checked): every error comes back here, before the first byte is sent.
  std::variant<std::unique_ptr<service::RuntimeStream>, ApiError> StartStream(const SamplingRequest& request);
  // Mean-pooled last hidden states (RuntimeService::Embed), one vector per input.
  Answer Embeddings(std::string_view body);

  // Files (purpose "fine-tune").
  Answer UploadFile(std::string_view content_type, std::string_view body);
  Answer ListFiles(const Query& query);
  Answer RetrieveFile(const std::string& id);
  Answer DeleteFile(const std::string& id);
  // The file's bytes into *bytes; the JSON answer is null on success.
  Answer FileContent(const std::string& id, std::string* bytes);

  // Fine-tuning jobs: Bedrock model customization jobs seen through OpenAI's shapes.
  Answer CreateJob(std::string_view body);
  Answer ListJobs(const Query& query);
  Answer RetrieveJob(const std::string& id);
  Answer CancelJob(const std::string& id);
  Answer JobEvents(const std::string& id, const Query& query);
  Answer JobCheckpoints(const std::string& id, const Query& query);

 private:
  // The file row's public object, and its S3 key.
  std::variant<store::ResourceRow, ApiError> FindFile(const std::string& id);
  // The Bedrock job behind an ftjob- id (its public JSON).
  std::variant<nlohmann::json, ApiError> FindJob(const std::string& id);
  // The job's step-wise training metrics rows (step, epoch, loss) from its published outputs.
  std::vector<std::vector<std::string>> StepMetrics(const nlohmann::json& job);

  service::BedrockService* bedrock_;
  FileObjects* files_;
  std::string account_;
  service::ModelResolver resolver_;
};

}  // namespace lathe::openai
