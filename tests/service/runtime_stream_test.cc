// RuntimeService's streaming hook (runtime_stream.h) on the real stories260K model: the pieces
// joined are the non-streaming answer (greedy and sampled with the same seed), stop sequences
// never leak, a sink that refuses stops generation and frees the slot, every error of
// Invoke/Converse comes back from the start call, and tokens are metered as for Invoke.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "service/usage_meter.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;
using nlohmann::json;

constexpr const char* kModel = "test.stories";

class RuntimeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    const std::string stories = SharedDir() + "/models/stories260K";
    auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_.File("stories"));
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    config_.data_dir = dir_.path() + "/data";
    config_.models = {{kModel, dir_.File("stories")}};
    auto opened = BedrockService::Open(config_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
  }
  RuntimeService& runtime() { return bedrock_->runtime(); }

  // Runs a started stream to its end, keeping the pieces.
  static StreamEnd Drain(Result<std::unique_ptr<RuntimeStream>> started, std::vector<std::string>* pieces) {
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return {};
    auto end = (*started)->Run([&](std::string_view piece) {
      pieces->emplace_back(piece);
      return true;
    });
    EXPECT_TRUE(end.ok()) << end.status().ToString();
    return end.ok() ? *end : StreamEnd{};
  }
  static std::string Joined(const std::vector<std::string>& pieces) {
    std::string all;
    for (const auto& p : pieces) all += p;
    return all;
  }

  TempDir dir_;
  ServiceConfig config_;
  std::unique_ptr<BedrockService> bedrock_;
};

std::string Titan(int max_tokens, double temperature, const json& stops = json::array()) {
  return json{{"inputText", "Once upon a time"},
              {"textGenerationConfig",
               {{"maxTokenCount", max_tokens}, {"temperature", temperature}, {"stopSequences", stops}}}}
      .dump();
}

TEST_F(RuntimeStreamTest, TitanPiecesJoinedAreInvokesAnswer) {
  for (double temperature : {0.0, 1.0}) {  // greedy, and sampled with the same (default) seed
    auto answer = runtime().Invoke(kModel, Titan(48, temperature));
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    std::vector<std::string> pieces;
    StreamEnd end = Drain(runtime().InvokeStream(kModel, Titan(48, temperature)), &pieces);
    const json& one = answer->body["results"][0];
    EXPECT_GT(pieces.size(), 1u) << "the answer came in one piece, not streamed";
    EXPECT_EQ(Joined(pieces), one["outputText"].get<std::string>()) << "temperature " << temperature;
    EXPECT_EQ(end.text, Joined(pieces));
    EXPECT_EQ(json(end.result.tokens.size()), one["tokenCount"]);
    EXPECT_EQ(end.result.prompt_tokens, answer->body["inputTextTokenCount"].get<int>());
    EXPECT_EQ(TitanResponse(end.result)["results"][0]["completionReason"], one["completionReason"]);
    EXPECT_GE(end.first_text_ms, 0);
    EXPECT_LE(end.first_text_ms, end.latency_ms);
  }
}

TEST_F(RuntimeStreamTest, ChatKindsMatchTheirNonStreamingAnswers) {
  const std::string converse = R"({"messages": [{"role": "user", "content": [{"text": "Tell me a story"}]}],
      "inferenceConfig": {"maxTokens": 40, "temperature": 0}})";
  auto answer = runtime().Converse(kModel, converse);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  std::vector<std::string> pieces;
  StreamEnd end = Drain(runtime().ConverseStream(kModel, converse), &pieces);
  EXPECT_EQ(Joined(pieces), answer->body["output"]["message"]["content"][0]["text"].get<std::string>());
  RuntimeRequest converse_kind;
  converse_kind.kind = BodyKind::kConverse;
  EXPECT_EQ(ChatStopReason(converse_kind, end.result), answer->body["stopReason"]);
  EXPECT_EQ(end.result.prompt_tokens, answer->body["usage"]["inputTokens"].get<int>());

  // Anthropic Messages, with a prefill: its continuation keeps its leading space.
  for (const char* messages : {R"([{"role": "user", "content": "Tell me a story"}])",
                               R"([{"role": "user", "content": "Tell me a story"},
                                   {"role": "assistant", "content": "Once upon a"}])"}) {
    const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "temperature": 0,
        "messages": )" + std::string(messages) + "}";
    auto invoked = runtime().Invoke(kModel, body);
    ASSERT_TRUE(invoked.ok()) << invoked.status().ToString();
    pieces.clear();
    end = Drain(runtime().InvokeStream(kModel, body), &pieces);
    EXPECT_EQ(Joined(pieces), invoked->body["content"][0]["text"].get<std::string>()) << messages;
    EXPECT_EQ(end.result.tokens.size(), invoked->body["usage"]["output_tokens"].get<size_t>());
  }
}

TEST_F(RuntimeStreamTest, AStopSequenceIsNeverStreamedInPart) {
  auto free_run = runtime().Invoke(kModel, Titan(60, 0));
  ASSERT_TRUE(free_run.ok());
  const std::string text = free_run->body["results"][0]["outputText"];
  // A stop made of two words from the middle of the answer: it spans tokens, so its start is
  // generated (and must be held back) before the engine can know it matches.
  const size_t space = text.find(' ', text.size() / 3);
  const size_t after = text.find(' ', space + 1);
  ASSERT_NE(after, std::string::npos) << text;
  const size_t end_of_stop = text.find(' ', after + 1);
  const std::string stop = text.substr(space, (end_of_stop == std::string::npos ? text.size() : end_of_stop) - space);

  auto stopped = runtime().Invoke(kModel, Titan(60, 0, {stop}));
  ASSERT_TRUE(stopped.ok());
  std::vector<std::string> pieces;
  StreamEnd end = Drain(runtime().InvokeStream(kModel, Titan(60, 0, {stop})), &pieces);
  EXPECT_EQ(Joined(pieces), stopped->body["results"][0]["outputText"].get<std::string>());
  EXPECT_EQ(Joined(pieces), text.substr(0, space));
  EXPECT_EQ(end.result.reason, engine::StopReason::kStopSequence);
  EXPECT_EQ(end.result.stop_sequence, stop);
  EXPECT_EQ(TitanResponse(end.result)["results"][0]["completionReason"], "STOP_CRITERIA_MET");
}

TEST_F(RuntimeStreamTest, ASinkThatRefusesStopsGenerationAndFreesTheSlot) {
  // One on-demand slot (ServiceConfig's default): a second request waits for the first's.
  ASSERT_EQ(config_.on_demand_slots, 1);
  auto started = runtime().InvokeStream(kModel, Titan(400, 0));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  int pieces = 0;
  auto end = (*started)->Run([&](std::string_view) { return ++pieces < 2; });
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(pieces, 2);
  EXPECT_EQ(end->result.reason, engine::StopReason::kCancelled);
  EXPECT_LT(end->result.tokens.size(), 20u) << "generation went on after the client left";
  auto next = runtime().Invoke(kModel, Titan(4, 0));  // would wait forever on a held slot
  EXPECT_TRUE(next.ok()) << next.status().ToString();

  // The pump: destroyed after the first pull (a closed connection), it stops generating.
  {
    StreamPump pump(*runtime().InvokeStream(kModel, Titan(400, 0)));
    auto first = pump.Next();
    ASSERT_TRUE(first.has_value());
    EXPECT_FALSE(first->empty());
  }
  next = runtime().Invoke(kModel, Titan(4, 0));
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

TEST_F(RuntimeStreamTest, APumpHandsOutEverythingThenTheEnd) {
  auto answer = runtime().Invoke(kModel, Titan(30, 0));
  ASSERT_TRUE(answer.ok());
  StreamPump pump(*runtime().InvokeStream(kModel, Titan(30, 0)));
  std::string all;
  while (auto piece = pump.Next()) all += *piece;
  ASSERT_TRUE(pump.end().ok()) << pump.end().status().ToString();
  EXPECT_EQ(all, answer->body["results"][0]["outputText"].get<std::string>());
  EXPECT_EQ(pump.end()->text, all);
  EXPECT_FALSE(pump.Next().has_value());  // the end stays the end
}

void ExpectSameError(const Status& plain, const Status& streamed) {
  EXPECT_FALSE(plain.ok());
  EXPECT_EQ(plain.code(), streamed.code()) << plain.ToString() << " vs " << streamed.ToString();
  EXPECT_EQ(plain.message(), streamed.message());
}

TEST_F(RuntimeStreamTest, BadInputGivesInvokesAndConversesErrors) {
  const std::string good = Titan(4, 0);
  const std::string long_prompt = json{{"inputText", std::string(20000, 'a') + " once upon a time"}}.dump();
  const std::vector<std::pair<std::string, std::string>> invokes = {
      {"no.such-model", good},
      {std::string(2049, 'm'), good},
      {"arn:aws:bedrock:us-east-1:000000000000:provisioned-model/forged", good},
      {kModel, R"({"inputText": "hi", "textGenerationConfig": {"temperature": "hot"}})"},
      {kModel, R"({"inputText": 7})"},
      {kModel, R"({"prompt": "hi"})"},
      {kModel, std::string(100000, '[')},
      {kModel, "not json"},
      {kModel, long_prompt},  // longer than the model's context
      {kModel, R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 0, "messages": []})"},
  };
  for (const auto& [model, body] : invokes) {
    auto plain = runtime().Invoke(model, body);
    auto streamed = runtime().InvokeStream(model, body);
    ASSERT_FALSE(streamed.ok()) << body.substr(0, 80);
    ExpectSameError(plain.status(), streamed.status());
    if (body == long_prompt) {
      EXPECT_NE(streamed.status().message().find("context"), std::string::npos);
    }
  }
  const std::vector<std::string> converses = {
      R"({"messages": []})",
      R"({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]})",
      R"({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"topP": 2}})",
      R"({"messages": [{"role": "user", "content": [{"image": {}}]}]})",
      R"({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "toolConfig": {}})",
  };
  for (const std::string& body : converses) {
    auto plain = runtime().Converse(kModel, body);
    auto streamed = runtime().ConverseStream(kModel, body);
    ASSERT_FALSE(streamed.ok()) << body;
    ExpectSameError(plain.status(), streamed.status());
  }
  auto unknown = runtime().ConverseStream("no.such-model", R"({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(RuntimeStreamTest, StreamedTokensAreMeteredAsInvokesAre) {
  auto answer = runtime().Invoke(kModel, Titan(12, 0));
  ASSERT_TRUE(answer.ok());
  std::vector<std::string> pieces;
  StreamEnd end = Drain(runtime().InvokeStream(kModel, Titan(12, 0)), &pieces);
  bedrock_.reset();  // closing flushes the usage meter
  auto db = store::MetadataStore::Open(config_.data_dir + "/lathe.db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto row = (*db)->Find(kUsageKind, "on-demand/" + Iso8601(NowMillis()).substr(0, 10) + "/" + kModel);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->doc["requests"], 2);
  EXPECT_EQ(row->doc["inputTokens"], 2 * answer->body["inputTextTokenCount"].get<int64_t>());
  EXPECT_EQ(row->doc["outputTokens"], answer->body["results"][0]["tokenCount"].get<int64_t>() +
                                          static_cast<int64_t>(end.result.tokens.size()));
}

}  // namespace
}  // namespace lathe::service
