#include "services/openai/service.h"

#include <chrono>
#include <random>

#include "aws/rest_path.h"
#include "aws/wire.h"
#include "core/arn.h"
#include "services/openai/event_stream.h"
#include "services/openai/limits.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

// The path's segments after "/v1/", percent-decoded ("models/group%3Aalias" -> {"models", "group:alias"}).
// A model name may hold '/' (a registry version, an ARN): /v1/models/ keeps the rest as one.
std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  path.remove_prefix(4);
  while (!path.empty()) {
    if (out.size() == 1 && out[0] == "models") {
      out.push_back(aws::PercentDecode(path, false));
      break;
    }
    const size_t slash = path.find('/');
    out.push_back(aws::PercentDecode(path.substr(0, slash), false));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

size_t OpenAIService::BodyLimit(const http::Request& request) const {
  return request.method == "POST" && request.path() == "/v1/files" ? kMaxFileBytes : kMaxJsonBodyBytes;
}

bool OpenAIService::Claims(const http::Request& request, std::string_view) const {
  // Never a request another protocol sends to an S3 bucket named "v1": those carry x-amz-* headers.
  for (const auto& h : request.headers)
    if (h.name.size() > 6 && http::HeaderNameEquals(h.name.substr(0, 6), "x-amz-")) return false;
  return request.path().substr(0, 4) == "/v1/";
}

bool OpenAIService::WriteOwnError(const Status& error, const aws::RequestContext& context,
                                  http::Response* response) const {
  ApiError e = FromStatus(error);
  // Only the gateway's refusals come here: any 400-403 but an unreadable body is about the key
  // (a malformed or unknown one, another Authorization scheme).
  const std::string& code = error.aws_code();
  if (error.http_status() >= 400 && error.http_status() <= 403 && code != "ValidationException" &&
      code != "IncompleteBody")
    e.kind = ErrorKind::kInvalidApiKey;
  if (e.kind == ErrorKind::kInvalidApiKey && !context.signature && code == "MissingAuthenticationTokenException")
    e.message = "You didn't provide an API key. Send one of the server's API keys (printed at start as "
                "OPENAI_API_KEY; docs/openai.md) as Authorization: Bearer <key>.";
  else if (e.kind == ErrorKind::kInvalidApiKey)
    e.message = "Incorrect API key provided. lathe accepts the server's API keys (printed at start as "
                "OPENAI_API_KEY; docs/openai.md) as Authorization: Bearer <key>.";
  WriteError(e, response);
  response->set_header("x-request-id", context.request_id);
  return true;
}

void OpenAIService::Sample(const ParsedSampling& parsed, bool chat, http::Response& response) {
  if (auto* e = std::get_if<ApiError>(&parsed)) return WriteError(*e, &response);
  const SamplingRequest& request = std::get<SamplingRequest>(parsed);
  if (!request.stream) {
    Answer a = backend_->Complete(request, chat);
    if (auto* e = std::get_if<ApiError>(&a)) return WriteError(*e, &response);
    return WriteJson(std::get<json>(a), &response);
  }
  auto started = backend_->StartStream(request);
  if (auto* e = std::get_if<ApiError>(&started)) return WriteError(*e, &response);
  auto& stream = std::get<std::unique_ptr<service::RuntimeStream>>(started);
  for (const auto& [name, value] : stream->headers()) response.set_header(name, value);
  // The pump generates on its own thread; when the client goes, the server drops body_stream,
  // the last owner of the pump, which cancels the generation at its next token.
  auto pump = std::make_shared<service::StreamPump>(std::move(stream));
  auto writer = std::make_shared<ChunkWriter>(
      request, chat, (chat ? "chatcmpl-" : "cmpl-") + NewResourceId(24), NowSeconds(),
      [pump] { return pump->Next(); }, [pump] { return pump->end(); });
  response.status = 200;
  response.set_header("Content-Type", "text/event-stream; charset=utf-8");
  response.set_header("Cache-Control", "no-cache");
  response.body_stream = [writer, pump](std::string* chunk) -> Result<bool> { return writer->Write(chunk); };
}

void OpenAIService::Serve(const aws::RequestContext& context, const http::Request& request, std::string_view body,
                          http::Response& response) {
  response.set_header("x-request-id", context.request_id);
  const std::vector<std::string> s = Segments(request.path());
  const std::string& m = request.method;
  const std::map<std::string, std::string> query = aws::DecodeQuery(request.query());
  auto answer = [&](const Answer& a) {
    if (auto* e = std::get_if<ApiError>(&a)) return WriteError(*e, &response);
    WriteJson(std::get<json>(a), &response);
  };
  const size_t n = s.size();
  if (n >= 1 && s[0] == "models") {
    if (n == 1 && m == "GET") return answer(backend_->ListModels());
    if (n == 2 && m == "GET") return answer(backend_->RetrieveModel(s[1]));
  } else if (n == 2 && s[0] == "chat" && s[1] == "completions" && m == "POST") {
    return Sample(ParseChatRequest(body, RandomSeed()), /*chat=*/true, response);
  } else if (n == 1 && s[0] == "completions" && m == "POST") {
    return Sample(ParseCompletionRequest(body, RandomSeed()), /*chat=*/false, response);
  } else if (n == 1 && s[0] == "embeddings" && m == "POST") {
    return answer(backend_->Embeddings(body));
  } else if (n >= 1 && s[0] == "files") {
    if (n == 1 && m == "POST") {
      const std::string* type = request.header("Content-Type");
      return answer(backend_->UploadFile(type ? *type : "", body));
    }
    if (n == 1 && m == "GET") return answer(backend_->ListFiles(query));
    if (n == 2 && m == "GET") return answer(backend_->RetrieveFile(s[1]));
    if (n == 2 && m == "DELETE") return answer(backend_->DeleteFile(s[1]));
    if (n == 3 && m == "GET" && s[2] == "content") {
      std::string bytes;
      Answer a = backend_->FileContent(s[1], &bytes);
      if (Failed(a)) return answer(a);
      response.status = 200;
      response.set_header("Content-Type", "application/octet-stream");
      response.body = std::move(bytes);
      return;
    }
  } else if (n >= 2 && s[0] == "fine_tuning" && s[1] == "jobs") {
    if (n == 2 && m == "POST") return answer(backend_->CreateJob(body));
    if (n == 2 && m == "GET") return answer(backend_->ListJobs(query));
    if (n == 3 && m == "GET") return answer(backend_->RetrieveJob(s[2]));
    if (n == 4 && m == "POST" && s[3] == "cancel") return answer(backend_->CancelJob(s[2]));
    if (n == 4 && m == "GET" && s[3] == "events") return answer(backend_->JobEvents(s[2], query));
    if (n == 4 && m == "GET" && s[3] == "checkpoints") return answer(backend_->JobCheckpoints(s[2], query));
  }
  WriteError(ApiError{ErrorKind::kUnknownUrl,
                      "Invalid URL (" + aws::Printable(m, 16) + " " + aws::Printable(request.path(), 200) + ")", ""},
             &response);
}

}  // namespace lathe::openai
