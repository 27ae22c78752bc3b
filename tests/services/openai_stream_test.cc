// The /v1/ wire's chat and completions on the real stories260K model, without sockets: the
// streamed chunks joined are the non-streaming answer for the same request and seed, the usage
// chunk counts what the plain answer counts, and a response dropped mid-stream (the client went
// away) stops generating and frees the model's one slot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "services/openai/service.h"
#include "test_util.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;
using lathe::testing::SharedDir;
using lathe::testing::TempDir;

constexpr const char* kModel = "test.stories";

class OpenAIStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    const std::string stories = SharedDir() + "/models/stories260K";
    auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_.File("stories"));
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    config_.data_dir = dir_.path() + "/data";
    config_.models = {{kModel, dir_.File("stories")}};
    auto opened = service::BedrockService::Open(config_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    backend_ = std::make_unique<OpenAIBackend>(bedrock_.get(), nullptr, "000000000000");
    service_ = std::make_unique<OpenAIService>(backend_.get());
  }

  http::Response Post(const std::string& path, const json& body) {
    http::StringBodyReader reader(body.dump());
    http::Request request;
    request.method = "POST";
    request.target = path;
    request.body = &reader;
    http::Response response;
    service_->Serve(aws::RequestContext{}, request, body.dump(), response);
    return response;
  }

  // Every SSE event's data until [DONE], parsed.
  static std::vector<json> Events(http::Response& response) {
    std::string all, chunk;
    while (true) {
      chunk.clear();
      Result<bool> more = response.body_stream(&chunk);
      EXPECT_TRUE(more.ok());
      all += chunk;
      if (!more.ok() || !*more) break;
    }
    std::vector<json> events;
    for (size_t pos = 0; (pos = all.find("data: ", pos)) != std::string::npos;) {
      const size_t end = all.find("\n\n", pos);
      const std::string data = all.substr(pos + 6, end - pos - 6);
      if (data == "[DONE]") return events;
      events.push_back(json::parse(data));
      pos = end;
    }
    ADD_FAILURE() << "no [DONE]: " << all.substr(0, 300);
    return events;
  }

  TempDir dir_;
  service::ServiceConfig config_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<OpenAIBackend> backend_;
  std::unique_ptr<OpenAIService> service_;
};

TEST_F(OpenAIStreamTest, ChatChunksJoinedAreThePlainAnswer) {
  for (double temperature : {0.0, 1.0}) {
    json body = {{"model", kModel}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                 {"max_tokens", 40}, {"temperature", temperature}, {"seed", 5}};
    http::Response plain = Post("/v1/chat/completions", body);
    ASSERT_EQ(plain.status, 200) << plain.body;
    const json answer = json::parse(plain.body);
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    http::Response streamed = Post("/v1/chat/completions", body);
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    EXPECT_EQ(*streamed.header("Content-Type"), "text/event-stream; charset=utf-8");
    std::vector<json> events = Events(streamed);
    std::string text;
    json usage, finish;
    for (const auto& e : events) {
      if (!e["usage"].is_null()) usage = e["usage"];
      for (const auto& c : e["choices"]) {
        if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
        if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
      }
    }
    EXPECT_EQ(text, answer["choices"][0]["message"]["content"]) << "temperature " << temperature;
    EXPECT_EQ(finish, answer["choices"][0]["finish_reason"]);
    EXPECT_EQ(usage, answer["usage"]);
  }
}

TEST_F(OpenAIStreamTest, CompletionChunksJoinedAreThePlainAnswer) {
  json body = {{"model", kModel}, {"prompt", "Once upon a time"}, {"max_tokens", 30}, {"temperature", 0}};
  http::Response plain = Post("/v1/completions", body);
  ASSERT_EQ(plain.status, 200) << plain.body;
  body["stream"] = true;
  http::Response streamed = Post("/v1/completions", body);
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  std::string text;
  for (const auto& e : Events(streamed))
    for (const auto& c : e["choices"]) text += c["text"].get<std::string>();
  EXPECT_EQ(text, json::parse(plain.body)["choices"][0]["text"]);
}

TEST_F(OpenAIStreamTest, ADroppedResponseStopsGeneratingAndFreesTheSlot) {
  ASSERT_EQ(config_.on_demand_slots, 1);  // a second request waits for the first one's slot
  const json body = {{"model", kModel}, {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                     {"max_tokens", 400}, {"stream", true}};
  for (int round = 0; round < 3; ++round) {
    http::Response streamed = Post("/v1/chat/completions", body);
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    std::string chunk;
    ASSERT_TRUE(streamed.body_stream(&chunk).ok());  // the role
    chunk.clear();
    ASSERT_TRUE(streamed.body_stream(&chunk).ok());  // the first text
    EXPECT_NE(chunk.find("\"content\""), std::string::npos) << chunk;
  }  // each response goes here, as the server drops it when the client has gone
  // Would wait forever behind a stream still holding the slot.
  http::Response next = Post("/v1/chat/completions", {{"model", kModel},
                                                       {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                                       {"max_tokens", 4}});
  EXPECT_EQ(next.status, 200) << next.body;
}

TEST_F(OpenAIStreamTest, ErrorsBeforeTheFirstByteAreOrdinaryAnswers) {
  http::Response unknown = Post("/v1/chat/completions", {{"model", "no-such-model"},
                                                         {"messages", {{{"role", "user"}, {"content", "x"}}}},
                                                         {"stream", true}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(unknown.body_stream);
  EXPECT_EQ(json::parse(unknown.body)["error"]["code"], "model_not_found");
  http::Response many = Post("/v1/chat/completions", {{"model", kModel},
                                                      {"messages", {{{"role", "user"}, {"content", "x"}}}},
                                                      {"stream", true}, {"n", 2}});
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(json::parse(many.body)["error"]["param"], "n");
  http::Response too_long = Post("/v1/chat/completions",
                                 {{"model", kModel},
                                  {"messages", {{{"role", "user"}, {"content", std::string(20000, 'a')}}}},
                                  {"stream", true}});
  EXPECT_EQ(too_long.status, 400) << too_long.body;  // longer than the model's context
  EXPECT_FALSE(too_long.body_stream);
}

}  // namespace
}  // namespace lathe::openai
