// OpenAIBackend: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings.
#include <chrono>
#include <cstring>

#include "aws/wire.h"
#include "core/arn.h"
#include "core/checksum.h"
#include "services/openai/backend.h"
#include "services/openai/body_fields.h"
#include "services/openai/limits.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json ModelObject(const std::string& id, int64_t created, const std::string& owner) {
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", owner}};
}

int64_t Seconds(const json& doc, const char* key) {
  const int64_t ms = ParseIso8601(doc.value(key, ""));
  return ms > 0 ? ms / 1000 : 0;
}

// Every page of a Bedrock List, up to `max_pages` of 100.
template <typename ListFn>
std::vector<json> AllPages(ListFn list, const char* field, int max_pages = 20) {
  std::vector<json> out;
  std::string next;
  for (int page = 0; page < max_pages; ++page) {
    std::map<std::string, std::string> q = {{"maxResults", "100"}};
    if (!next.empty()) q["nextToken"] = next;
    auto r = list(q);
    if (!r.ok()) break;
    for (const auto& s : (*r)[field]) out.push_back(s);
    next = r->value("nextToken", "");
    if (next.empty()) break;
  }
  return out;
}

}  // namespace

Answer OpenAIBackend::ListModels() {
  json data = json::array();
  for (const auto& m : bedrock_->catalog().List()) data.push_back(ModelObject(m.id, 0, m.provider));
  for (const auto& s : AllPages([this](const auto& q) { return bedrock_->custom_models().List(q); }, "modelSummaries"))
    data.push_back(ModelObject(s.value("modelName", ""), Seconds(s, "creationTime"), account_));
  for (const auto& s : AllPages([this](const auto& q) { return bedrock_->imported_models().List(q); }, "modelSummaries"))
    data.push_back(ModelObject(s.value("modelName", ""), Seconds(s, "creationTime"), account_));
  for (const auto& s :
       AllPages([this](const auto& q) { return bedrock_->deployments().List(q); }, "modelDeploymentSummaries"))
    data.push_back(ModelObject(s.value("customModelDeploymentName", ""), Seconds(s, "createdAt"), account_));
  return json{{"object", "list"}, {"data", data}};
}

std::variant<std::string, ApiError> OpenAIBackend::ServedModel(const std::string& name) {
  if (name.empty() || name.size() > kMaxModelNameBytes)
    return ApiError{ErrorKind::kModelNotFound, "The model must be named by 1 to 2048 bytes", "model"};
  if (bedrock_->deployments().Get(name).ok() || bedrock_->throughput().Get(name).ok() ||
      bedrock_->custom_models().FindServable(name).ok() || bedrock_->catalog().Find(name).ok())
    return name;
  if (resolver_ && service::IsRegistryReference(name)) {
    auto resolved = resolver_(name);
    if (resolved.ok()) return resolved->model_arn;
  }
  return ApiError{ErrorKind::kModelNotFound,
                  "The model `" + aws::Printable(name, 200) + "` does not exist or you do not have access to it.", "model"};
}

Answer OpenAIBackend::RetrieveModel(const std::string& name) {
  auto served = ServedModel(name);
  if (auto* e = std::get_if<ApiError>(&served)) return *e;
  int64_t created = 0;
  std::string owner = account_;
  if (auto fm = bedrock_->catalog().Find(name); fm.ok()) owner = fm->provider;
  else if (auto cm = bedrock_->custom_models().FindServable(name); cm.ok()) created = cm->created_ms / 1000;
  return ModelObject(name, created, owner);
}

std::variant<std::vector<engine::GenerationResult>, ApiError> OpenAIBackend::Generate(const SamplingRequest& request) {
  auto served = ServedModel(request.model);
  if (auto* e = std::get_if<ApiError>(&served)) return *e;
  std::vector<engine::GenerationResult> results;
  for (size_t i = 0; i < ChoiceCount(request); ++i) {
    auto generated = bedrock_->runtime().GenerateParsed(std::get<std::string>(served), ChoiceRequest(request, i));
    if (!generated.ok()) return FromStatus(generated.status(), ErrorKind::kModelNotFound);
    results.push_back(std::move(generated->result));
  }
  return results;
}

Answer OpenAIBackend::Complete(const SamplingRequest& request, bool chat) {
  auto results = Generate(request);
  if (auto* e = std::get_if<ApiError>(&results)) return *e;
  const auto& generated = std::get<std::vector<engine::GenerationResult>>(results);
  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + NewResourceId(24);
  return chat ? ChatCompletionBody(request, generated, id, NowSeconds())
              : CompletionBody(request, generated, id, NowSeconds());
}

std::variant<std::unique_ptr<service::RuntimeStream>, ApiError> OpenAIBackend::StartStream(
    const SamplingRequest& request) {
  if (ChoiceCount(request) != 1)
    return Unsupported("n", "lathe streams one choice per request (n: 1, one prompt).");
  auto served = ServedModel(request.model);
  if (auto* e = std::get_if<ApiError>(&served)) return *e;
  const service::RuntimeRequest choice = ChoiceRequest(request, 0);
  auto stream = bedrock_->runtime().StartStream(std::get<std::string>(served), choice, choice.user_id,
                                                /*quota_is_throttling=*/true);
  if (!stream.ok()) return FromStatus(stream.status(), ErrorKind::kModelNotFound);
  return std::move(*stream);
}

Answer OpenAIBackend::Embeddings(std::string_view body) {
  json j;
  if (auto p = ParseObject(body, &j)) return *p;
  if (auto p = OnlyKeys(j, {"model", "input", "encoding_format", "dimensions", "user"})) return *p;
  std::string model, format = "float", user;
  if (auto p = String(j, "model", kMaxModelNameBytes, &model, true)) return *p;
  if (auto p = String(j, "encoding_format", 16, &format)) return *p;
  if (format != "float" && format != "base64")
    return Invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.");
  if (auto p = String(j, "user", kMaxUserBytes, &user)) return *p;
  if (j.contains("dimensions") && !j["dimensions"].is_null())
    return Unsupported("dimensions", "lathe's embeddings have the model's hidden size; 'dimensions' is not supported.");
  auto it = j.find("input");
  if (it == j.end() || it->is_null()) return Invalid("input", "Missing required parameter: 'input'.");
  json inputs = it->is_string() ? json::array({*it}) : *it;
  if (!inputs.is_array() || inputs.empty() || inputs.size() > kMaxEmbeddingInputs)
    return Invalid("input", "'input' must be a string or 1 to " + std::to_string(kMaxEmbeddingInputs) + " strings.");
  for (const auto& s : inputs)
    if (!s.is_string() || s.get_ref<const std::string&>().empty())
      return s.is_string() ? Invalid("input", "'input' must not hold empty strings.")
                           : Unsupported("input", "lathe takes embedding inputs as text, not token ids.");
  auto served = ServedModel(model);
  if (auto* e = std::get_if<ApiError>(&served)) return *e;
  json data = json::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int n = 0;
    auto vec = bedrock_->runtime().Embed(std::get<std::string>(served), inputs[i].get<std::string>(), &n);
    if (!vec.ok()) return FromStatus(vec.status(), ErrorKind::kModelNotFound);
    tokens += n;
    // base64: the little-endian float32 array's bytes, as the openai SDKs ask by default.
    json vector = *vec;
    if (format == "base64") {
      std::string bytes(vec->size() * sizeof(float), '\0');
      for (size_t k = 0; k < vec->size(); ++k) {
        uint32_t bits;
        std::memcpy(&bits, &(*vec)[k], sizeof bits);
        for (int b = 0; b < 4; ++b) bytes[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
      }
      vector = Base64Encode(bytes);
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vector}});
  }
  return json{{"object", "list"}, {"data", data}, {"model", model},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

std::string OpenAIBackend::StoredModelArn(const std::string& name) const {
  if (!bedrock_) return "";
  Result<nlohmann::json> found = bedrock_->custom_models().Get(name);
  if (!found.ok()) found = bedrock_->imported_models().Get(name);
  if (found.ok() && found->is_object() && found->contains("modelArn") && (*found)["modelArn"].is_string())
    return (*found)["modelArn"].get<std::string>();
  return "";
}

}  // namespace lathe::openai
