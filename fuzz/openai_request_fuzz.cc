// Feeds arbitrary bytes to the OpenAI-compatible wire's parsers: chat and completion bodies,
// embeddings and fine-tuning job bodies (the latter with a file lookup that knows one id), and
// multipart uploads. None may crash, hang or allocate without bound; every refusal must render
// as OpenAI's error JSON, and every accepted request must keep its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/openai/job_mapping.h"
#include "services/openai/limits.h"
#include "services/openai/multipart.h"
#include "services/openai/sampling_request.h"

using namespace lathe;
using namespace lathe::openai;

namespace {

void CheckSampling(const ParsedSampling& parsed) {
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    if (!ErrorBody(*e).contains("error")) std::abort();
    return;
  }
  const SamplingRequest& r = std::get<SamplingRequest>(parsed);
  if (r.n < 1 || r.n > kMaxChoices || ChoiceCount(r) == 0 || ChoiceCount(r) > static_cast<size_t>(kMaxPrompts) * kMaxChoices)
    std::abort();
  for (size_t i = 0; i < ChoiceCount(r); ++i) {
    service::RuntimeRequest choice = ChoiceRequest(r, i);
    if (choice.options.stop_sequences.size() > kMaxStopSequences || choice.options.max_tokens < 1) std::abort();
    if (choice.kind == service::BodyKind::kConverse && choice.messages.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckSampling(ParseChatRequest(bytes, 1));
  CheckSampling(ParseCompletionRequest(bytes, 2));
  JobNames names{"123456789012", "s3://b/fine-tuning/", "arn:aws:iam::123456789012:role/r", "abc123"};
  auto uri = [](const std::string& id, const char* param) -> std::variant<std::string, ApiError> {
    if (id == "file-a") return std::string("s3://b/files/file-a");
    return ApiError{ErrorKind::kInvalidRequest, "no such file", param};
  };
  auto job = BedrockJobRequest(bytes, names, uri);
  if (auto* e = std::get_if<ApiError>(&job); e && !ErrorBody(*e).contains("error")) std::abort();
  // The first line is the Content-Type, the rest the multipart body.
  const size_t eol = bytes.find('\n');
  if (eol != std::string_view::npos) {
    auto parts = ParseMultipart(bytes.substr(0, eol), bytes.substr(eol + 1));
    if (parts.ok()) {
      if (parts->size() > kMaxFormParts) std::abort();
      for (const auto& p : *parts)
        if (p.data.data() < bytes.data() || p.data.data() + p.data.size() > bytes.data() + bytes.size()) std::abort();
    }
  }
  return 0;
}
