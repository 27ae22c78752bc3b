// The OpenAI-compatible HTTP API on lathe's one endpoint (docs/openai.md): requests whose path
// starts with /v1/ and that carry no SigV4 signature and no x-amz-* header (AWS has no /v1/
// route; an S3 bucket named "v1" is reached with them). Authentication is a Bedrock API key sent as
// OpenAI's `Authorization: Bearer <key>` (the gateway verifies it; --no-auth accepts any request);
// every error, the gateway's refusals included, is in OpenAI's shape (errors.h).
//   GET  /v1/models, /v1/models/{model}
//   POST /v1/chat/completions, /v1/completions, /v1/embeddings
//   POST /v1/files (multipart), GET /v1/files, GET|DELETE /v1/files/{id}, GET /v1/files/{id}/content
//   POST /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs/{id},
//   POST /v1/fine_tuning/jobs/{id}/cancel, GET /v1/fine_tuning/jobs/{id}/events|checkpoints
#pragma once

#include <memory>

#include "aws/service.h"
#include "services/openai/backend.h"

namespace lathe::openai {

class OpenAIService : public aws::Service {
 public:
  explicit OpenAIService(OpenAIBackend* backend) : backend_(backend) {}
  std::string_view signing_name() const override { return "openai"; }
  // Its errors are its own (WriteOwnError); rest-json only for the gateway's bookkeeping.
  aws::Protocol protocol() const override { return aws::Protocol::kRestJson; }
  size_t BodyLimit(const http::Request& request) const override;
  bool Claims(const http::Request& request, std::string_view body) const override;
  bool WriteOwnError(const Status& error, const aws::RequestContext& context, http::Response* response) const override;
  void Serve(const aws::RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override;
  // What IAM must allow: Bedrock's actions for what Bedrock does (authz.cc).
  aws::AccessRequest Access(const aws::RequestContext& context, const http::Request& request,
                            std::string_view body) const override;

 private:
  // Chat or text completion: a JSON answer, or (stream: true) server-sent events.
  void Sample(const ParsedSampling& parsed, bool chat, http::Response& response);

  OpenAIBackend* backend_;
};

}  // namespace lathe::openai
