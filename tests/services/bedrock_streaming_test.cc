// The streaming operations' answers (services/bedrock/runtime_streaming.h) without sockets: the
// event-stream body pulled as the server pulls it, decoded here, on the real stories260K model.
#include "services/bedrock/runtime_streaming.h"

#include <gtest/gtest.h>

#include "core/checksum.h"
#include "service/stories_service_fixture.h"

namespace lathe::bedrock {
namespace {

using nlohmann::json;

struct Message {
  std::map<std::string, std::string> headers;
  json payload;
};

uint32_t U32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Splits an event-stream body into messages, checking both CRCs (string headers only).
std::vector<Message> Decode(const std::string& body) {
  std::vector<Message> out;
  for (size_t at = 0; at < body.size();) {
    const uint32_t total = U32(body, at), headers_len = U32(body, at + 4);
    EXPECT_LE(at + total, body.size());
    EXPECT_EQ(U32(body, at + 8), Crc32(0, std::string_view(body).substr(at, 8)));
    EXPECT_EQ(U32(body, at + total - 4), Crc32(0, std::string_view(body).substr(at, total - 4)));
    Message m;
    for (size_t h = at + 12; h < at + 12 + headers_len;) {
      const size_t name_len = static_cast<unsigned char>(body[h]);
      const std::string name = body.substr(h + 1, name_len);
      EXPECT_EQ(body[h + 1 + name_len], 7);
      const size_t value_len = (static_cast<unsigned char>(body[h + 2 + name_len]) << 8) |
                               static_cast<unsigned char>(body[h + 3 + name_len]);
      m.headers[name] = body.substr(h + 4 + name_len, value_len);
      h += 4 + name_len + value_len;
    }
    m.payload = json::parse(body.substr(at + 12 + headers_len, total - 16 - headers_len));
    out.push_back(std::move(m));
    at += total;
  }
  return out;
}

class BedrockStreamingTest : public service::StoriesServiceTest {
 protected:
  // Pulls the whole body as the HTTP server does.
  static std::string Pull(aws::RestOutput& out) {
    std::string body, chunk;
    for (bool more = true; more;) {
      chunk.clear();
      auto r = out.body_stream(&chunk);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      more = *r;
      body += chunk;
    }
    return body;
  }
  static std::string Header(const aws::RestOutput& out, const std::string& name) {
    for (const auto& h : out.headers)
      if (h.name == name) return h.value;
    return "";
  }
};

TEST_F(BedrockStreamingTest, ConverseStreamEventsCarryTheAnswer) {
  const std::string body = R"({"messages": [{"role": "user", "content": [{"text": "Tell me a story"}]}],
      "inferenceConfig": {"maxTokens": 30, "temperature": 0}})";
  auto whole = bedrock_->runtime().Converse(kModel, body);
  ASSERT_TRUE(whole.ok());
  auto out = EventStreamAnswer(bedrock_->runtime().ConverseStream(kModel, body), kModel);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Header(*out, "Content-Type"), "application/vnd.amazon.eventstream");
  EXPECT_EQ(Header(*out, "X-Amzn-Bedrock-Content-Type"), "");  // InvokeModelWithResponseStream's only
  std::vector<Message> events = Decode(Pull(*out));
  ASSERT_GE(events.size(), 5u);
  std::vector<std::string> types;
  std::string text;
  for (const Message& m : events) {
    EXPECT_EQ(m.headers.at(":message-type"), "event");
    EXPECT_EQ(m.headers.at(":content-type"), "application/json");
    types.push_back(m.headers.at(":event-type"));
    if (types.back() == "contentBlockDelta") text += m.payload["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(types.front(), "messageStart");
  EXPECT_EQ(std::vector<std::string>(types.end() - 3, types.end()),
            (std::vector<std::string>{"contentBlockStop", "messageStop", "metadata"}));
  EXPECT_EQ(text, whole->body["output"]["message"]["content"][0]["text"]);
  EXPECT_EQ(events.back().payload["usage"], whole->body["usage"]);
  EXPECT_EQ(events[events.size() - 2].payload["stopReason"], whole->body["stopReason"]);
}

TEST_F(BedrockStreamingTest, InvokeChunksAreBase64OfTheModelsJson) {
  const std::string body = R"({"inputText": "Once upon a time", "textGenerationConfig": {"maxTokenCount": 30, "temperature": 0}})";
  auto whole = bedrock_->runtime().Invoke(kModel, body);
  ASSERT_TRUE(whole.ok());
  auto out = EventStreamAnswer(bedrock_->runtime().InvokeStream(kModel, body), kModel);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Header(*out, "X-Amzn-Bedrock-Content-Type"), "application/json");
  std::string text;
  json last;
  for (const Message& m : Decode(Pull(*out))) {
    EXPECT_EQ(m.headers.at(":event-type"), "chunk");
    auto bytes = Base64Decode(m.payload["bytes"].get<std::string>());
    ASSERT_TRUE(bytes.has_value());
    last = json::parse(*bytes);
    text += last["outputText"].get<std::string>();
  }
  EXPECT_EQ(text, whole->body["results"][0]["outputText"]);
  EXPECT_EQ(last["completionReason"], whole->body["results"][0]["completionReason"]);
  EXPECT_EQ(last["totalOutputTextTokenCount"], whole->body["results"][0]["tokenCount"]);
  EXPECT_EQ(last["amazon-bedrock-invocationMetrics"]["inputTokenCount"], whole->body["inputTextTokenCount"]);
}

TEST_F(BedrockStreamingTest, ErrorsBeforeTheStreamAreOrdinaryAndADroppedBodyFreesTheSlot) {
  auto bad = EventStreamAnswer(bedrock_->runtime().InvokeStream(kModel, R"({"inputText": 1})"), kModel);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  {
    auto out = EventStreamAnswer(
        bedrock_->runtime().InvokeStream(kModel, R"({"inputText": "Once", "textGenerationConfig": {"maxTokenCount": 400}})"),
        kModel);
    ASSERT_TRUE(out.ok());
    std::string chunk;
    ASSERT_TRUE(out->body_stream(&chunk).ok());
    EXPECT_FALSE(chunk.empty());
  }  // the connection closed: the body is dropped mid-stream
  auto next = bedrock_->runtime().Invoke(kModel, R"({"inputText": "Once", "textGenerationConfig": {"maxTokenCount": 4}})");
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

TEST_F(BedrockStreamingTest, AFailureDuringGenerationEndsTheStreamWithAnExceptionEvent) {
  // A stream whose prompt the engine refuses once running (a token id outside the vocabulary):
  // what an engine failure after the first event looks like on the wire.
  auto pool = service::ModelPool::Load(dir_.File("stories"), 1, 1);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto lease = (*pool)->Acquire();
  ASSERT_TRUE(lease.ok());
  service::RuntimeRequest request;
  request.input_text = "x";
  auto stream = std::make_unique<service::RuntimeStream>(request, *pool, std::move(*lease), std::vector<int>{1, 1 << 30},
                                                         request.options, service::RuntimeStream::Headers{}, nullptr,
                                                         std::chrono::steady_clock::now());
  auto out = EventStreamAnswer(std::move(stream), kModel);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Message> events = Decode(Pull(*out));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].headers[":message-type"], "exception");
  EXPECT_EQ(events[0].headers[":exception-type"], "validationException");
  EXPECT_NE(events[0].payload["message"].get<std::string>().find("vocabulary"), std::string::npos) << events[0].payload;
}

TEST(BedrockStreaming, ExceptionTypesAreTheStreamUnionsMembers) {
  EXPECT_EQ(StreamExceptionType(Status::Throttled("busy")), "throttlingException");
  EXPECT_EQ(StreamExceptionType(Status::InvalidArgument("bad")), "validationException");
  EXPECT_EQ(StreamExceptionType(Status::Internal("oom")), "modelStreamErrorException");
}

}  // namespace
}  // namespace lathe::bedrock
