// What IAM must allow for the OpenAI-compatible wire (a lathe extension): what Bedrock does for
// it is Bedrock's action — sampling and embeddings are bedrock:InvokeModel on the model's ARN
// (a custom or imported model's by name, else a foundation model's), listing models bedrock:ListFoundationModels,
// fine-tuning jobs the model customization actions; files, which Bedrock has not, are
// openai:<Operation> (UploadFile, ListFiles, RetrieveFile, DeleteFile, RetrieveFileContent).
// Its callers are Bedrock API keys, which act as the administrator today; the declarations name
// the calls in the audit trail and hold if a key ever belongs to a user.
#include "aws/rest_json.h"
#include "aws/rest_path.h"
#include "services/openai/service.h"

namespace lathe::openai {

aws::AccessRequest OpenAIService::Access(const aws::RequestContext& context, const http::Request& request,
                                         std::string_view body) const {
  std::string_view path = request.path();
  path.remove_prefix(std::min<size_t>(4, path.size()));  // "/v1/"
  std::vector<std::string> s;
  while (!path.empty() && s.size() < 5) {
    const size_t slash = path.find('/');
    s.push_back(aws::PercentDecode(path.substr(0, slash), false));
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
  }
  const std::string& m = request.method;
  const size_t n = s.size();
  auto require = [](const char* operation, const std::string& action, std::vector<std::string> resources = {}) {
    aws::AccessRequest r = aws::Require(action, std::move(resources));
    r.operation = operation;
    return r;
  };
  if (n >= 1 && (s[0] == "completions" || s[0] == "embeddings" || s[0] == "chat") && m == "POST") {
    aws::OperationView view;
    view.body = body;
    std::string model = view.BodyMember("model");
    if (model.empty()) model = "*";
    else if (model.compare(0, 4, "arn:") != 0) {
      // A custom or imported model by name is its own ARN (a Deny on it must apply), else a
      // foundation model's.
      std::string stored = backend_ ? backend_->StoredModelArn(model) : "";
      model = stored.empty() ? "arn:aws:bedrock:" + context.region + "::foundation-model/" + model : stored;
    }
    return require(s[0] == "embeddings" ? "CreateEmbedding" : s[0] == "chat" ? "CreateChatCompletion" : "CreateCompletion",
                   "bedrock:InvokeModel", {model});
  }
  if (n >= 1 && s[0] == "models") return require(n == 1 ? "ListModels" : "RetrieveModel", "bedrock:ListFoundationModels");
  if (n >= 1 && s[0] == "files") {
    const char* op = n == 1 ? (m == "POST" ? "UploadFile" : "ListFiles")
                     : n == 2 ? (m == "DELETE" ? "DeleteFile" : "RetrieveFile")
                              : "RetrieveFileContent";
    return require(op, std::string("openai:") + op);
  }
  if (n >= 2 && s[0] == "fine_tuning") {
    if (n == 2) return m == "POST" ? require("CreateFineTuningJob", "bedrock:CreateModelCustomizationJob")
                                   : require("ListFineTuningJobs", "bedrock:ListModelCustomizationJobs");
    if (n == 4 && s[3] == "cancel") return require("CancelFineTuningJob", "bedrock:StopModelCustomizationJob");
    return require("RetrieveFineTuningJob", "bedrock:GetModelCustomizationJob");
  }
  return {};  // Serve refuses it
}

}  // namespace lathe::openai
