// The OpenAI-compatible wire's pure parts: request parsing and validation (bad input of every
// kind answered with OpenAI's error shape and status), multipart bodies, the fine-tuning job
// mapping to and from Bedrock's shapes, and the server-sent events of stream: true.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/openai/event_stream.h"
#include "services/openai/job_mapping.h"
#include "services/openai/limits.h"
#include "services/openai/multipart.h"
#include "services/openai/sampling_request.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;

ApiError ChatError(const json& body) {
  auto parsed = ParseChatRequest(body.dump(), 1);
  EXPECT_TRUE(std::holds_alternative<ApiError>(parsed)) << body.dump();
  return std::holds_alternative<ApiError>(parsed) ? std::get<ApiError>(parsed) : ApiError{};
}

json Chat(json extra = json::object()) {
  json body = {{"model", "lathe.default-v1"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  body.update(extra);
  return body;
}

TEST(OpenAIRequestTest, ChatBecomesAConverseRequest) {
  json body = {{"model", "m"},
               {"messages",
                {{{"role", "system"}, {"content", "Be brief."}},
                 {{"role", "developer"}, {"content", {{{"type", "text"}, {"text", "No lists."}}}}},
                 {{"role", "user"}, {"content", "a"}},
                 {{"role", "user"}, {"content", "b"}},
                 {{"role", "assistant"}, {"content", "c"}},
                 {{"role", "user"}, {"content", "d"}}}},
               {"temperature", 0.5}, {"top_p", 0.9}, {"max_completion_tokens", 7}, {"stop", "END"},
               {"seed", 11}, {"n", 2}, {"user", "u-1"}};
  auto parsed = ParseChatRequest(body.dump(), 99);
  ASSERT_TRUE(std::holds_alternative<SamplingRequest>(parsed));
  const auto& r = std::get<SamplingRequest>(parsed);
  ASSERT_EQ(r.prompts.size(), 1u);
  const auto& c = r.prompts[0];
  EXPECT_EQ(c.kind, service::BodyKind::kConverse);
  EXPECT_EQ(c.system, "Be brief.\nNo lists.");
  ASSERT_EQ(c.messages.size(), 3u);  // consecutive user messages joined: Converse alternates
  EXPECT_EQ(c.messages[0].content, "a\n\nb");
  EXPECT_EQ(c.messages[1].role, "assistant");
  EXPECT_FLOAT_EQ(c.options.temperature, 0.5f);
  EXPECT_FLOAT_EQ(c.options.top_p, 0.9f);
  EXPECT_EQ(c.options.max_tokens, 7);
  EXPECT_EQ(c.options.stop_sequences, std::vector<std::string>{"END"});
  EXPECT_EQ(c.user_id, "u-1");
  EXPECT_EQ(ChoiceCount(r), 2u);
  EXPECT_EQ(ChoiceRequest(r, 0).options.seed, 11u);
  EXPECT_EQ(ChoiceRequest(r, 1).options.seed, 12u);  // each choice its own sample
  // No seed: the one given for the call (OpenAI samples afresh each call).
  auto unseeded = ParseChatRequest(Chat().dump(), 99);
  EXPECT_EQ(std::get<SamplingRequest>(unseeded).seed, 99u);
}

TEST(OpenAIRequestTest, MalformedChatBodiesAreInvalidRequests) {
  EXPECT_EQ(ParseChatRequest("{not json", 1).index(), 1u);
  EXPECT_EQ(std::get<ApiError>(ParseChatRequest("[1]", 1)).kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(std::get<ApiError>(ParseChatRequest(std::string(100000, '['), 1)).kind, ErrorKind::kInvalidRequest);
  struct Case {
    json body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}}, "model"},
      {Chat({{"model", 5}}), "model"},
      {Chat({{"model", std::string(kMaxModelNameBytes + 1, 'm')}}), "model"},
      {Chat({{"messages", "hi"}}), "messages"},
      {Chat({{"messages", json::array()}}), "messages"},
      {Chat({{"messages", {5}}}), "messages[0]"},
      {Chat({{"messages", {{{"content", "x"}}}}}), "messages[0].role"},
      {Chat({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}), "messages[0].role"},
      {Chat({{"messages", {{{"role", "user"}, {"content", 5}}}}}), "messages[0].content"},
      {Chat({{"messages", {{{"role", "user"}}}}}), "messages[0].content"},
      {Chat({{"messages", {{{"role", "user"}, {"content", {{{"type", "text"}}}}}}}}), "messages[0].content[0].text"},
      {Chat({{"messages", {{{"role", "assistant"}, {"content", "x"}}}}}), "messages[0].role"},
      {Chat({{"messages", {{{"role", "system"}, {"content", "x"}}}}}), "messages"},
      {Chat({{"messages", {{{"role", "user"}, {"content", "x"}, {"mood", "happy"}}}}}), "messages[0].mood"},
      {Chat({{"temperature", "hot"}}), "temperature"},
      {Chat({{"temperature", 2.5}}), "temperature"},
      {Chat({{"top_p", -0.1}}), "top_p"},
      {Chat({{"max_tokens", 0}}), "max_tokens"},
      {Chat({{"max_tokens", 1.5}}), "max_tokens"},
      {Chat({{"max_tokens", kMaxCompletionTokens + 1}}), "max_tokens"},
      {Chat({{"n", kMaxChoices + 1}}), "n"},
      {Chat({{"seed", "7"}}), "seed"},
      {Chat({{"stop", {"a", "b", "c", "d", "e"}}}), "stop"},
      {Chat({{"stop", {""}}}), "stop"},
      {Chat({{"stop", std::string(kMaxStopBytes + 1, 's')}}), "stop"},
      {Chat({{"stream", "yes"}}), "stream"},
      {Chat({{"stream_options", {{"include_usage", true}}}}), "stream_options"},
      {Chat({{"user", std::string(kMaxUserBytes + 1, 'u')}}), "user"},
      {Chat({{"frobnicate", 1}}), "frobnicate"},
  };
  for (const auto& c : cases) {
    ApiError e = ChatError(c.body);
    EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest) << c.body.dump().substr(0, 200) << ": " << e.message;
    EXPECT_EQ(e.param, c.param) << c.body.dump().substr(0, 200);
  }
  // Too many messages, before any is looked at.
  json many = Chat();
  many["messages"] = json::array();
  for (size_t i = 0; i <= kMaxMessages; ++i) many["messages"].push_back({{"role", "user"}, {"content", "x"}});
  EXPECT_EQ(ChatError(many).param, "messages");
}

TEST(OpenAIRequestTest, WhatTheEngineCannotHonourIsRefusedNotIgnored) {
  for (const json& extra : {json{{"logprobs", true}}, json{{"top_logprobs", 2}}, json{{"presence_penalty", 0.5}},
                            json{{"logit_bias", {{"50256", -100}}}}, json{{"tools", json::array({1})}},
                            json{{"response_format", {{"type", "json_object"}}}},
                            json{{"messages", {{{"role", "tool"}, {"content", "x"}}}}},
                            json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}}) {
    ApiError e = ChatError(Chat(extra));
    EXPECT_EQ(e.kind, ErrorKind::kUnsupported) << extra.dump();
    EXPECT_EQ(RowFor(e.kind).http_status, 400);
  }
  // What costs nothing to honour is accepted.
  for (const json& extra : {json{{"logprobs", false}}, json{{"presence_penalty", 0}}, json{{"logit_bias", json::object()}},
                            json{{"response_format", {{"type", "text"}}}}})
    EXPECT_TRUE(std::holds_alternative<SamplingRequest>(ParseChatRequest(Chat(extra).dump(), 1))) << extra.dump();
}

TEST(OpenAIRequestTest, CompletionsTakeTextPromptsVerbatim) {
  auto parsed = ParseCompletionRequest(json{{"model", "m"}, {"prompt", {"a", "b"}}, {"n", 2}, {"echo", true}}.dump(), 5);
  ASSERT_TRUE(std::holds_alternative<SamplingRequest>(parsed));
  const auto& r = std::get<SamplingRequest>(parsed);
  ASSERT_EQ(ChoiceCount(r), 4u);
  EXPECT_EQ(ChoiceRequest(r, 2).input_text, "b");
  EXPECT_EQ(ChoiceRequest(r, 2).kind, service::BodyKind::kTitanText);
  auto error = [](const json& body) { return std::get<ApiError>(ParseCompletionRequest(body.dump(), 1)); };
  EXPECT_EQ(error({{"model", "m"}}).param, "prompt");
  EXPECT_EQ(error({{"model", "m"}, {"prompt", json::array()}}).param, "prompt");
  EXPECT_EQ(error({{"model", "m"}, {"prompt", {1, 2}}}).kind, ErrorKind::kUnsupported);  // token ids
  EXPECT_EQ(error({{"model", "m"}, {"prompt", "x"}, {"logprobs", 2}}).kind, ErrorKind::kUnsupported);
  EXPECT_EQ(error({{"model", "m"}, {"prompt", "x"}, {"best_of", 3}}).kind, ErrorKind::kUnsupported);
  EXPECT_EQ(error({{"model", "m"}, {"prompt", {"a", "b", "c"}}, {"n", 3}}).param, "prompt");  // 9 > kMaxPrompts
}

TEST(OpenAIRequestTest, ResponsesCountEachPromptOnce) {
  auto parsed = ParseChatRequest(Chat({{"n", 2}}).dump(), 1);
  const auto& r = std::get<SamplingRequest>(parsed);
  engine::GenerationResult a, b;
  a.text = "one";
  a.tokens = {1, 2};
  a.prompt_tokens = 5;
  a.reason = engine::StopReason::kEndToken;
  b = a;
  b.reason = engine::StopReason::kLength;
  json body = ChatCompletionBody(r, {a, b}, "chatcmpl-x", 7);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["choices"][1]["finish_reason"], "length");
  EXPECT_EQ(body["usage"], json({{"prompt_tokens", 5}, {"completion_tokens", 4}, {"total_tokens", 9}}));
}

TEST(OpenAIErrorsTest, OneTableOfStatusesAndTheShape) {
  EXPECT_EQ(RowFor(ErrorKind::kInvalidApiKey).http_status, 401);
  EXPECT_EQ(RowFor(ErrorKind::kModelNotFound).http_status, 404);
  EXPECT_EQ(RowFor(ErrorKind::kRateLimited).http_status, 429);
  json body = ErrorBody(ApiError{ErrorKind::kModelNotFound, "no such model", "model"});
  EXPECT_EQ(body, json({{"error", {{"message", "no such model"}, {"type", "invalid_request_error"},
                                   {"param", "model"}, {"code", "model_not_found"}}}}));
  EXPECT_TRUE(ErrorBody(ApiError{ErrorKind::kServer, "x", ""})["error"]["param"].is_null());
  // Lower layers' statuses.
  EXPECT_EQ(FromStatus(Status::Throttled("busy")).kind, ErrorKind::kRateLimited);
  EXPECT_EQ(FromStatus(Status::QuotaExceeded("full")).kind, ErrorKind::kInsufficientQuota);
  EXPECT_EQ(FromStatus(Status::NotFound("x"), ErrorKind::kModelNotFound).kind, ErrorKind::kModelNotFound);
  EXPECT_EQ(FromStatus(Status::Conflict("x")).kind, ErrorKind::kConflict);
  EXPECT_EQ(FromStatus(Status::IOError("disk")).kind, ErrorKind::kServer);
  EXPECT_EQ(FromStatus(Status::Aws("ValidationException", 413, "big")).kind, ErrorKind::kTooLarge);
  EXPECT_EQ(FromStatus(Status::Aws("UnrecognizedClientException", 403, "who")).kind, ErrorKind::kInvalidApiKey);
  http::Response response;
  WriteError(ApiError{ErrorKind::kTooLarge, "big", ""}, &response);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(*response.header("Content-Type"), "application/json");
}

TEST(OpenAIMultipartTest, PartsAndHostileBodies) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.jsonl\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\nline1\r\nline2\r\n--XyZ--\r\n";
  auto parts = ParseMultipart("multipart/form-data; boundary=XyZ", body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "purpose");
  EXPECT_EQ((*parts)[0].data, "fine-tune");
  EXPECT_EQ((*parts)[1].filename, "a;b.jsonl");
  EXPECT_EQ((*parts)[1].data, "line1\r\nline2");
  auto quoted = ParseMultipart("multipart/form-data; boundary=\"XyZ\"", body);
  EXPECT_TRUE(quoted.ok());
  EXPECT_FALSE(ParseMultipart("application/json", body).ok());
  EXPECT_FALSE(ParseMultipart("multipart/form-data", body).ok());
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=" + std::string(201, 'b'), body).ok());
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=XyZ", body.substr(0, body.size() - 12)).ok());
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=XyZ", "--XyZ\r\n\r\nno name\r\n--XyZ--").ok());
  std::string many;
  for (size_t i = 0; i <= kMaxFormParts; ++i) many += "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n";
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=B", many + "--B--").ok());
}

TEST(OpenAIJobMappingTest, CreateBodyBecomesABedrockRequest) {
  JobNames names{"123456789012", "s3://files/fine-tuning/", "arn:aws:iam::123456789012:role/r", "abc123"};
  auto uri = [](const std::string& id, const char* param) -> std::variant<std::string, ApiError> {
    if (id == "file-good") return std::string("s3://files/files/file-good");
    return ApiError{ErrorKind::kInvalidRequest, "no file " + id, param};
  };
  auto made = BedrockJobRequest(json{{"model", "lathe.default-v1"}, {"training_file", "file-good"},
                                     {"validation_file", "file-good"}, {"suffix", "cats"}, {"seed", 7},
                                     {"hyperparameters", {{"n_epochs", 1}, {"batch_size", "auto"},
                                                          {"learning_rate_multiplier", 2}}}}.dump(),
                                names, uri);
  ASSERT_TRUE(std::holds_alternative<json>(made));
  const json& r = std::get<json>(made);
  EXPECT_EQ(r["customModelName"], "ft-cats-abc123");
  EXPECT_EQ(r["baseModelIdentifier"], "lathe.default-v1");
  EXPECT_EQ(r["trainingDataConfig"]["s3Uri"], "s3://files/files/file-good");
  EXPECT_EQ(r["validationDataConfig"]["validators"][0]["s3Uri"], "s3://files/files/file-good");
  EXPECT_EQ(r["hyperParameters"], json({{"epochCount", "1"}, {"learningRate", "0.0002"}, {"seed", "7"}}));
  auto error = [&](const json& body) { return std::get<ApiError>(BedrockJobRequest(body.dump(), names, uri)); };
  EXPECT_EQ(error({{"model", "m"}}).param, "training_file");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-missing"}}).param, "training_file");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"suffix", "bad suffix!"}}).param, "suffix");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"suffix", std::string(19, 's')}}).param, "suffix");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"hyperparameters", {{"n_epochs", 0}}}}).param,
            "hyperparameters.n_epochs");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"hyperparameters", {{"n_epochs", "3"}}}}).param,
            "hyperparameters.n_epochs");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"hyperparameters", {{"warmup", 3}}}}).param,
            "hyperparameters.warmup");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"method", {{"type", "dpo"}}}}).kind,
            ErrorKind::kUnsupported);
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"method", {{"type", 5}}}}).param, "method.type");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"method", 5}}).param, "method");
  EXPECT_EQ(error({{"model", "m"}, {"training_file", "file-good"}, {"hyperparameters", "fast"}}).param,
            "hyperparameters");
}

TEST(OpenAIJobMappingTest, BedrockJobSeenAsAFineTuningJob) {
  json job = {{"jobArn", "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/abc123"},
              {"status", "InProgress"},
              {"statusDetails", {{"validationDetails", {{"status", "InProgress"}}}}},
              {"creationTime", "2026-12-02T10:00:00.000Z"},
              {"outputModelName", "ft-cats-abc123"},
              {"hyperParameters", {{"epochCount", "2"}, {"learningRate", "0.0002"}}},
              {"trainingDataConfig", {{"s3Uri", "s3://files/files/file-good"}}},
              {"trainingMetrics", {{"trainingLoss", 1.5}}}};
  auto file_id = [](const std::string& uri) { return uri == "s3://files/files/file-good" ? "file-good" : ""; };
  json j = OpenAIJob(job, "123456789012", file_id);
  EXPECT_EQ(j["id"], "ftjob-abc123");
  EXPECT_EQ(BedrockJobId("ftjob-abc123"), "abc123");
  EXPECT_EQ(BedrockJobId("ftjob-../x"), "");
  EXPECT_EQ(j["model"], "lathe.default-v1");
  EXPECT_EQ(j["status"], "validating_files");
  EXPECT_TRUE(j["fine_tuned_model"].is_null());  // not before it succeeded
  EXPECT_EQ(j["training_file"], "file-good");
  EXPECT_EQ(j["hyperparameters"]["n_epochs"], 2);
  EXPECT_EQ(j["hyperparameters"]["learning_rate_multiplier"], 2.0);
  EXPECT_EQ(j["hyperparameters"]["batch_size"], "auto");
  EXPECT_EQ(j["user_provided_suffix"], "cats");
  EXPECT_EQ(j["lathe_training_metrics"]["trainingLoss"], 1.5);
  job["status"] = "Completed";
  job["endTime"] = "2026-12-02T10:05:00.000Z";
  j = OpenAIJob(job, "123456789012", file_id);
  EXPECT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["fine_tuned_model"], "ft-cats-abc123");
  EXPECT_EQ(j["finished_at"].get<int64_t>() - j["created_at"].get<int64_t>(), 300);
  for (auto [bedrock, openai] : std::vector<std::pair<const char*, const char*>>{
           {"Failed", "failed"}, {"Stopping", "cancelled"}, {"Stopped", "cancelled"}}) {
    job["status"] = bedrock;
    EXPECT_EQ(JobStatus(job), openai);
  }
}

TEST(OpenAIEventStreamTest, ChunksThenUsageThenDone) {
  auto parsed = ParseChatRequest(
      Chat({{"stream", true}, {"stream_options", {{"include_usage", true}}}}).dump(), 1);
  const auto& r = std::get<SamplingRequest>(parsed);
  std::vector<std::string> pieces = {"Hel", "lo"};
  size_t at = 0;
  service::StreamEnd end;
  end.result.prompt_tokens = 3;
  end.result.tokens = {1, 2};
  end.result.reason = engine::StopReason::kEndToken;
  ChunkWriter writer(
      r, true, "chatcmpl-1", 5, [&]() -> std::optional<std::string> {
        if (at < pieces.size()) return pieces[at++];
        return std::nullopt;
      },
      [&] { return Result<service::StreamEnd>(end); });
  std::string all, chunk;
  while (writer.Write(&chunk)) {
    all += chunk;
    chunk.clear();
  }
  std::vector<json> events;
  size_t pos = 0;
  while ((pos = all.find("data: ", pos)) != std::string::npos) {
    const size_t eol = all.find("\n\n", pos);
    const std::string data = all.substr(pos + 6, eol - pos - 6);
    if (data != "[DONE]") events.push_back(json::parse(data));
    else EXPECT_EQ(eol + 2, all.size());  // [DONE] ends it
    pos = eol;
  }
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[1]["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(events[2]["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(events[3]["usage"].is_null());
  EXPECT_TRUE(events[4]["choices"].empty());
  EXPECT_EQ(events[4]["usage"]["total_tokens"], 5);
  for (const auto& e : events) EXPECT_EQ(e["object"], "chat.completion.chunk");
}

TEST(OpenAIEventStreamTest, AnEngineErrorMidStreamIsAnErrorEvent) {
  auto parsed = ParseCompletionRequest(json{{"model", "m"}, {"prompt", "x"}, {"stream", true}}.dump(), 1);
  bool given = false;
  ChunkWriter writer(
      std::get<SamplingRequest>(parsed), false, "cmpl-1", 5,
      [&]() -> std::optional<std::string> {
        if (given) return std::nullopt;
        given = true;
        return std::string("a");
      },
      [] { return Result<service::StreamEnd>(Status::Internal("the engine failed")); });
  std::string all, chunk;
  while (writer.Write(&chunk)) {
    all += chunk;
    chunk.clear();
  }
  EXPECT_NE(all.find("\"text\":\"a\""), std::string::npos);
  EXPECT_NE(all.find("\"error\":{"), std::string::npos);
  EXPECT_NE(all.find("the engine failed"), std::string::npos);
  EXPECT_EQ(all.substr(all.size() - 14), "data: [DONE]\n\n");
}

}  // namespace
}  // namespace lathe::openai
