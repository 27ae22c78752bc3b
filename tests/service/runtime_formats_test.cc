#include "service/runtime_formats.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::service {
namespace {

using engine::GenerationResult;
using engine::StopReason;
using nlohmann::json;
using text::ChatTemplate;

// The message of a request that must fail, or a note that it did not.
std::string InvokeError(const std::string& body) {
  auto r = ParseInvokeBody(body);
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << body;
  return r.status().message();
}
std::string ConverseError(const std::string& body) {
  auto r = ParseConverseBody(body);
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << body;
  return r.status().message();
}

GenerationResult Gen(std::string text, int prompt_tokens, int n_tokens, StopReason reason, std::string stop = "") {
  GenerationResult g;
  g.text = std::move(text);
  g.prompt_tokens = prompt_tokens;
  g.tokens.assign(static_cast<size_t>(n_tokens), 7);
  g.reason = reason;
  g.stop_sequence = std::move(stop);
  return g;
}

// ---- InvokeModel: Anthropic Messages ----

TEST(RuntimeFormats, ParsesTheTutorialsAnthropicBody) {
  auto r = ParseInvokeBody(
      R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 500, "messages": [{"role": "user", "content": "How do I track my order?"}], "temperature": 0.7})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, BodyKind::kAnthropicMessages);
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].role, "user");
  EXPECT_EQ(r->messages[0].content, "How do I track my order?");
  EXPECT_EQ(r->system, "");
  EXPECT_EQ(r->options.max_tokens, 500);
  EXPECT_FLOAT_EQ(r->options.temperature, 0.7f);
  EXPECT_FLOAT_EQ(r->options.top_p, 0.999f);  // Bedrock's documented default
  EXPECT_EQ(r->options.top_k, 0);
  EXPECT_TRUE(r->options.stop_sequences.empty());
}

TEST(RuntimeFormats, AnthropicTextBlocksSystemAndSampling) {
  auto r = ParseInvokeBody(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
      "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
                   {"role": "assistant", "content": "Hello!"},
                   {"role": "user", "content": "Rates?"}],
      "top_p": 0.5, "top_k": 40, "stop_sequences": ["END", "\n\nHuman:"], "metadata": {"user_id": "u1"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->system, "Be brief.\nBe kind.");
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0].content, "Hi\nthere");
  EXPECT_EQ(r->messages[1].role, "assistant");
  EXPECT_EQ(r->messages[1].content, "Hello!");
  EXPECT_EQ(r->messages[2].content, "Rates?");
  EXPECT_FLOAT_EQ(r->options.temperature, 1.0f);  // default
  EXPECT_FLOAT_EQ(r->options.top_p, 0.5f);
  EXPECT_EQ(r->options.top_k, 40);
  EXPECT_EQ(r->options.stop_sequences, (std::vector<std::string>{"END", "\n\nHuman:"}));

  auto s = ParseInvokeBody(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "system": "Plain system.",
      "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": ""}]})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->system, "Plain system.");
  ASSERT_EQ(s->messages.size(), 1u);  // an empty final assistant turn prefills nothing
}

TEST(RuntimeFormats, AnthropicErrorsNameTheField) {
  const std::string v = R"("anthropic_version": "bedrock-2023-05-31")";
  const std::string msgs = R"("messages": [{"role": "user", "content": "Hi"}])";
  EXPECT_EQ(
      InvokeError("{" + v + ", " + msgs + "}"),
      "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.");
  EXPECT_EQ(InvokeError(R"({"max_tokens": 5, )" + msgs + "}"),
            "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and "
            "try again.");
  EXPECT_EQ(
      InvokeError(R"({"anthropic_version": "2023-06-01", "max_tokens": 5, )" + msgs + "}"),
      "Malformed input request: #/anthropic_version: must be \"bedrock-2023-05-31\" (got \"2023-06-01\"), please "
      "reformat your input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": "500", )" + msgs + "}"),
            "Malformed input request: #/max_tokens: must be an integer (found string), please reformat your input "
            "and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 0, )" + msgs + "}"),
            "Malformed input request: #/max_tokens: must be between 1 and 2147483647 (got 0), please reformat your "
            "input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "temperature": 1.5, )" + msgs + "}"),
            "Malformed input request: #/temperature: must be between 0.0 and 1.0 (got 1.5), please reformat your "
            "input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "top_k": 501, )" + msgs + "}"),
            "Malformed input request: #/top_k: must be between 0 and 500 (got 501), please reformat your input and "
            "try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "stop_sequences": "END", )" + msgs + "}"),
            "Malformed input request: #/stop_sequences: must be an array of strings (found string), please reformat "
            "your input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "tools": [], )" + msgs + "}"),
            "Malformed input request: #: extraneous key [tools] is not permitted (lathe accepts anthropic_version, "
            "max_tokens, messages, system, temperature, top_p, top_k, stop_sequences, metadata), please reformat "
            "your input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": []})"),
            "Malformed input request: #/messages: must be a non-empty array of messages, please reformat your input "
            "and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "assistant", "content": "Hi"}]})"),
            "messages: first message must use the \"user\" role");
  EXPECT_EQ(
      InvokeError(
          "{" + v +
          R"(, "max_tokens": 5, "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})"),
      "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row "
      "(message 1)");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "system", "content": "a"}]})"),
            "Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as "
            "an input message role.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "tool", "content": "a"}]})"),
            "Malformed input request: #/messages/0/role: must be \"user\" or \"assistant\" (got \"tool\"), please "
            "reformat your input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "user"}]})"),
            "Malformed input request: #/messages/0: required key [content] not found, please reformat your input and "
            "try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "user", "content": 42}]})"),
            "Malformed input request: #/messages/0/content: must be a string or an array of text blocks (found "
            "number 42), please "
            "reformat your input and try again.");
  EXPECT_EQ(
      InvokeError(
          "{" + v +
          R"(, "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]})"),
      "Malformed input request: #/messages/0/content/0: must be a {\"type\": \"text\"} block: lathe's models read "
      "text only (got type \"image\"), please reformat your input and try again.");
  EXPECT_EQ(InvokeError("{" + v + R"(, "max_tokens": 5, "messages": [{"role": "user", "content": ""}]})"),
            "messages: all messages must have non-empty content except for the optional final assistant message "
            "(message 0)");
}

// ---- InvokeModel: Titan Text ----

TEST(RuntimeFormats, ParsesTheTutorialsTitanBody) {
  auto r = ParseInvokeBody(R"({"inputText": "Customer: Where is my parcel?\nAgent:",
      "textGenerationConfig": {"maxTokenCount": 300, "temperature": 0.1, "topP": 0.9, "stopSequences": ["|"]}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, BodyKind::kTitanText);
  EXPECT_EQ(r->input_text, "Customer: Where is my parcel?\nAgent:");
  EXPECT_TRUE(r->messages.empty());
  EXPECT_EQ(r->options.max_tokens, 300);
  EXPECT_FLOAT_EQ(r->options.temperature, 0.1f);
  EXPECT_FLOAT_EQ(r->options.top_p, 0.9f);
  EXPECT_EQ(r->options.stop_sequences, std::vector<std::string>{"|"});
}

TEST(RuntimeFormats, TitanDefaultsAreTheDocumentedOnes) {
  for (const char* body : {R"({"inputText": "Hello"})", R"({"inputText": "Hello", "textGenerationConfig": {}})",
                           R"({"inputText": "Hello", "textGenerationConfig": null})"}) {
    auto r = ParseInvokeBody(body);
    ASSERT_TRUE(r.ok()) << body << ": " << r.status().message();
    EXPECT_EQ(r->options.max_tokens, 512);
    EXPECT_FLOAT_EQ(r->options.temperature, 0.7f);
    EXPECT_FLOAT_EQ(r->options.top_p, 0.9f);
    EXPECT_EQ(r->options.top_k, 0);
  }
  auto edge = ParseInvokeBody(
      R"({"inputText": "x", "textGenerationConfig": {"maxTokenCount": 8192, "temperature": 0, "topP": 1}})");
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->options.max_tokens, 8192);
  EXPECT_FLOAT_EQ(edge->options.temperature, 0.0f);
  EXPECT_FLOAT_EQ(edge->options.top_p, 1.0f);
}

TEST(RuntimeFormats, TitanErrorsNameTheField) {
  auto cfg = [](const std::string& inner) {
    return R"({"inputText": "Hi", "textGenerationConfig": {)" + inner + "}}";
  };
  const std::string tail = ", please reformat your input and try again.";
  EXPECT_EQ(
      InvokeError(R"({"textGenerationConfig": {}})"),
      "Malformed input request: #: required key [inputText] not found, please reformat your input and try again.");
  EXPECT_EQ(InvokeError(R"({"inputText": 3})"),
            "Malformed input request: #/inputText: must be a non-empty string (found number 3)" + tail);
  EXPECT_EQ(InvokeError(R"({"inputText": ""})"),
            "Malformed input request: #/inputText: must be a non-empty string (found an empty string)" + tail);
  EXPECT_EQ(InvokeError(cfg(R"("temperature": "hot")")),
            "Malformed input request: #/textGenerationConfig/temperature: must be a number (found string)" + tail);
  EXPECT_EQ(
      InvokeError(cfg(R"("temperature": 1.01)")),
      "Malformed input request: #/textGenerationConfig/temperature: must be between 0.0 and 1.0 (got 1.01)" + tail);
  EXPECT_EQ(InvokeError(cfg(R"("topP": -0.5)")),
            "Malformed input request: #/textGenerationConfig/topP: must be between 0.0 and 1.0 (got -0.5)" + tail);
  EXPECT_EQ(InvokeError(cfg(R"("maxTokenCount": 100.5)")),
            "Malformed input request: #/textGenerationConfig/maxTokenCount: must be an integer (found number 100.5)" +
                tail);
  EXPECT_EQ(
      InvokeError(cfg(R"("maxTokenCount": 8193)")),
      "Malformed input request: #/textGenerationConfig/maxTokenCount: must be between 0 and 8192 (got 8193)" + tail);
  EXPECT_EQ(
      InvokeError(cfg(R"("maxTokenCount": -1)")),
      "Malformed input request: #/textGenerationConfig/maxTokenCount: must be between 0 and 8192 (got -1)" + tail);
  EXPECT_EQ(InvokeError(cfg(R"("maxTokenCount": 18446744073709551615)")),
            "Malformed input request: #/textGenerationConfig/maxTokenCount: must be between 0 and 8192 (got "
            "18446744073709551615)" +
                tail);
  EXPECT_EQ(InvokeError(cfg(R"("stopSequences": ["ok", ""])")),
            "Malformed input request: #/textGenerationConfig/stopSequences/1: must be a non-empty string (found an "
            "empty string)" +
                tail);
  EXPECT_EQ(
      InvokeError(cfg(R"("stopSequences": [1])")),
      "Malformed input request: #/textGenerationConfig/stopSequences/0: must be a non-empty string (found number 1)" +
          tail);
  EXPECT_EQ(
      InvokeError(cfg(R"("max_tokens": 5)")),
      "Malformed input request: #/textGenerationConfig: extraneous key [max_tokens] is not permitted (lathe accepts "
      "maxTokenCount, temperature, topP, stopSequences)" +
          tail);
  EXPECT_EQ(InvokeError(R"({"inputText": "Hi", "textGenerationConfig": [1]})"),
            "Malformed input request: #/textGenerationConfig: must be an object (found array)" + tail);
}

TEST(RuntimeFormats, InvokeBodiesThatAreNotJsonObjects) {
  EXPECT_EQ(
      InvokeError("[1, 2]"),
      "Malformed input request: #: must be a JSON object (found array), please reformat your input and try again.");
  EXPECT_EQ(InvokeError(R"({"inputText": "Hi",})"),
            "Malformed input request: invalid JSON: syntax error while parsing object key - unexpected '}'; expected "
            "string literal (byte 20)");
  EXPECT_EQ(InvokeError(std::string(100, '[') + std::string(100, ']')),
            "Malformed input request: JSON nests deeper than 64 levels");
  EXPECT_EQ(InvokeError(R"({"prompt": "\n\nHuman: Hi\n\nAssistant:", "max_tokens_to_sample": 50})")
                .rfind("Malformed input request: #: required key [inputText] not found: \"prompt\" bodies (Anthropic "
                       "Text Completions",
                       0),
            0u);
}

// ---- Converse ----

TEST(RuntimeFormats, ParsesAConverseBody) {
  auto r = ParseConverseBody(R"({"messages": [{"role": "user", "content": [{"text": "How do I track my order?"}]},
                                              {"role": "assistant", "content": [{"text": "With the link."}]},
                                              {"role": "user", "content": [{"text": "Which link?"},
                                                                           {"text": "Thanks"}]}],
      "system": [{"text": "You are a support agent."}],
      "inferenceConfig": {"maxTokens": 200, "temperature": 0.2, "topP": 0.8, "stopSequences": ["###"]},
      "additionalModelRequestFields": {"top_k": 25}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, BodyKind::kConverse);
  EXPECT_EQ(r->system, "You are a support agent.");
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[2].content, "Which link?\nThanks");
  EXPECT_EQ(r->options.max_tokens, 200);
  EXPECT_FLOAT_EQ(r->options.temperature, 0.2f);
  EXPECT_FLOAT_EQ(r->options.top_p, 0.8f);
  EXPECT_EQ(r->options.top_k, 25);
  EXPECT_EQ(r->options.stop_sequences, std::vector<std::string>{"###"});

  auto d = ParseConverseBody(R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->options.max_tokens, 512);
  EXPECT_FLOAT_EQ(d->options.temperature, 0.7f);
  EXPECT_FLOAT_EQ(d->options.top_p, 0.9f);
}

TEST(RuntimeFormats, ConverseErrorsNameTheMember) {
  const std::string user = R"("messages": [{"role": "user", "content": [{"text": "Hi"}]}])";
  EXPECT_EQ(
      ConverseError(R"({"inferenceConfig": {"temperature": 1.5}, )" + user + "}"),
      "1 validation error detected: Value at 'inferenceConfig.temperature' failed to satisfy constraint: Member must "
      "be between 0.0 and 1.0 (got 1.5)");
  EXPECT_EQ(
      ConverseError(R"({"inferenceConfig": {"maxTokens": 0}, )" + user + "}"),
      "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must "
      "be between 1 and 2147483647 (got 0)");
  EXPECT_EQ(
      ConverseError(R"({"inferenceConfig": {"stopSequences": [""]}, )" + user + "}"),
      "1 validation error detected: Value at 'inferenceConfig.stopSequences.0' failed to satisfy constraint: Member "
      "must be a non-empty string (found an empty string)");
  EXPECT_EQ(ConverseError(R"({"inferenceConfig": {"max_tokens": 5}, )" + user + "}"),
            "Unknown parameter in inferenceConfig: \"max_tokens\", must be one of: maxTokens, temperature, topP, "
            "stopSequences");
  EXPECT_EQ(ConverseError(R"({"system": [{"text": "s"}]})"),
            "1 validation error detected: Value at 'messages' failed to satisfy constraint: Member must not be null");
  EXPECT_EQ(ConverseError(R"({"messages": [{"role": "assistant", "content": [{"text": "Hi"}]}]})"),
            "A conversation must start with a user message. Try again with a conversation that starts with a user "
            "message.");
  EXPECT_EQ(
      ConverseError(
          R"({"messages": [{"role": "user", "content": [{"text": "a"}]},
                           {"role": "user", "content": [{"text": "b"}]}]})"),
      "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between "
      "user and assistant roles and try again. (messages.1 is a second user turn)");
  EXPECT_EQ(
      ConverseError(R"({"messages": [{"role": "user", "content": "Hi"}]})"),
      "1 validation error detected: Value at 'messages.0.content' failed to satisfy constraint: Member must be an "
      "array of content blocks (found string)");
  EXPECT_EQ(
      ConverseError(R"({"messages": [{"role": "user", "content": [{"image": {"format": "png"}}]}]})"),
      "1 validation error detected: Value at 'messages.0.content.0' failed to satisfy constraint: Member must be a "
      "{\"text\": ...} block: lathe's models read text only (got \"image\")");
  EXPECT_EQ(ConverseError(R"({"toolConfig": {"tools": []}, )" + user + "}"),
            "1 validation error detected: Value at 'toolConfig' failed to satisfy constraint: Member is not "
            "supported by lathe's models");
  EXPECT_EQ(
      ConverseError(R"({"additionalModelRequestFields": {"top_k": 900}, )" + user + "}"),
      "1 validation error detected: Value at 'additionalModelRequestFields.top_k' failed to satisfy constraint: "
      "Member must be between 0 and 500 (got 900)");
  EXPECT_EQ(ConverseError("\"hello\""),
            "1 validation error detected: Value at 'body' failed to satisfy constraint: Member must be a JSON object "
            "(found string)");
}

// ---- Rendering ----

TEST(RuntimeFormats, TitanPromptIsTheInputTextVerbatim) {
  auto r = ParseInvokeBody(R"({"inputText": "User: Hi\nBot:", "textGenerationConfig": {"stopSequences": ["|"]}})");
  ASSERT_TRUE(r.ok());
  for (ChatTemplate t : {ChatTemplate::kPlain, ChatTemplate::kChatML}) {
    auto p = RenderPrompt(*r, t);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->text, "User: Hi\nBot:");
    EXPECT_EQ(p->options.stop_sequences, std::vector<std::string>{"|"});
    EXPECT_EQ(p->options.max_tokens, 512);
  }
}

TEST(RuntimeFormats, ChatPromptsRenderThroughTheModelsTemplate) {
  auto r = ParseInvokeBody(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "system": "Be brief.",
      "stop_sequences": ["END"], "messages": [{"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Rates?"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto plain = RenderPrompt(*r, ChatTemplate::kPlain);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->text, "Be brief.\n\nUser: Hi\nBot: Hello!\nUser: Rates?\nBot:");
  EXPECT_EQ(plain->options.stop_sequences, (std::vector<std::string>{"END", "\nUser:"}));
  EXPECT_EQ(plain->options.max_tokens, 50);

  auto chatml = RenderPrompt(*r, ChatTemplate::kChatML);
  ASSERT_TRUE(chatml.ok());
  EXPECT_EQ(chatml->text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nRates?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(chatml->options.stop_sequences, (std::vector<std::string>{"END", "<|im_end|>"}));
  // The request keeps only the caller's stop sequences (responses tell them apart by it).
  EXPECT_EQ(r->options.stop_sequences, std::vector<std::string>{"END"});
}

TEST(RuntimeFormats, AFinalAssistantTurnIsContinuedNotClosed) {
  auto r = ParseConverseBody(R"({"messages": [{"role": "user", "content": [{"text": "2+2?"}]},
                                              {"role": "assistant", "content": [{"text": "The answer is"}]}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto chatml = RenderPrompt(*r, ChatTemplate::kChatML);
  ASSERT_TRUE(chatml.ok()) << chatml.status().message();
  EXPECT_EQ(chatml->text, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\nThe answer is");
  auto plain = RenderPrompt(*r, ChatTemplate::kPlain);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->text, "User: 2+2?\nBot: The answer is");
  EXPECT_EQ(plain->options.stop_sequences, std::vector<std::string>{"\nUser:"});
}

// ---- Responses ----

TEST(RuntimeFormats, TitanResponseAndCompletionReasons) {
  json body = TitanResponse(Gen("\nTrack it online.", 12, 5, StopReason::kEndToken));
  EXPECT_EQ(body, json::parse(R"({"inputTextTokenCount": 12,
      "results": [{"tokenCount": 5, "outputText": "\nTrack it online.", "completionReason": "FINISH"}]})"));
  EXPECT_EQ(TitanResponse(Gen("a", 1, 300, StopReason::kLength))["results"][0]["completionReason"], "LENGTH");
  EXPECT_EQ(TitanResponse(Gen("a", 1, 2, StopReason::kStopSequence, "|"))["results"][0]["completionReason"],
            "STOP_CRITERIA_MET");
  EXPECT_EQ(TitanResponse(Gen("a", 1, 2, StopReason::kCancelled))["results"][0]["completionReason"], "LENGTH");
}

TEST(RuntimeFormats, AnthropicResponseShapeAndStopReasons) {
  auto req =
      ParseInvokeBody(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 500, "stop_sequences": ["END"],
      "messages": [{"role": "user", "content": "How do I track my order?"}]})");
  ASSERT_TRUE(req.ok());
  // Stopped at the chat format's end-of-turn marker: end_turn, and the format's spacing is trimmed.
  json body = AnthropicResponse(*req, Gen(" Use the tracking link.\n", 9, 6, StopReason::kStopSequence, "<|im_end|>"),
                                "arn:aws:bedrock:us-east-1:123456789012:custom-model/support", "msg_bdrk_01");
  EXPECT_EQ(body, json::parse(R"({"id": "msg_bdrk_01", "type": "message", "role": "assistant",
      "model": "arn:aws:bedrock:us-east-1:123456789012:custom-model/support",
      "content": [{"type": "text", "text": "Use the tracking link."}],
      "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 9, "output_tokens": 6}})"));
  json own = AnthropicResponse(*req, Gen("Use the link ", 9, 4, StopReason::kStopSequence, "END"), "m", "id");
  EXPECT_EQ(own["stop_reason"], "stop_sequence");
  EXPECT_EQ(own["stop_sequence"], "END");
  EXPECT_EQ(own["content"][0]["text"], "Use the link ");  // cut by the caller: kept as generated after the front
  json eos = AnthropicResponse(*req, Gen("Done.", 9, 3, StopReason::kEndToken), "m", "id");
  EXPECT_EQ(eos["stop_reason"], "end_turn");
  json len = AnthropicResponse(*req, Gen(" Use the", 9, 500, StopReason::kLength), "m", "id");
  EXPECT_EQ(len["stop_reason"], "max_tokens");
  EXPECT_EQ(len["content"][0]["text"], "Use the");
  EXPECT_EQ(len["usage"]["output_tokens"], 500);
  EXPECT_EQ(InvokeResponse(*req, Gen("Done.", 9, 3, StopReason::kEndToken), "m", "id"), eos);
}

TEST(RuntimeFormats, APrefillsContinuationKeepsItsLeadingSpace) {
  auto req = ParseInvokeBody(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
      "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "The answer is"}]})");
  ASSERT_TRUE(req.ok());
  json body = AnthropicResponse(*req, Gen(" 4.", 10, 3, StopReason::kEndToken), "m", "id");
  EXPECT_EQ(body["content"][0]["text"], " 4.");
  EXPECT_EQ(InvokeError(R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5,
      "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "The answer is "}]})"),
            "messages: final assistant content cannot end with trailing whitespace");
}

TEST(RuntimeFormats, ConverseResponseShape) {
  auto req = ParseConverseBody(R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
                                   "inferenceConfig": {"stopSequences": ["###"]}})");
  ASSERT_TRUE(req.ok());
  json body = ConverseResponse(*req, Gen("\nHello there!", 4, 5, StopReason::kStopSequence, "\nUser:"), 1234);
  EXPECT_EQ(body, json::parse(R"({"output": {"message": {"role": "assistant", "content": [{"text": "Hello there!"}]}},
      "stopReason": "end_turn", "usage": {"inputTokens": 4, "outputTokens": 5, "totalTokens": 9},
      "metrics": {"latencyMs": 1234}})"));
  EXPECT_EQ(ConverseResponse(*req, Gen("a", 4, 2, StopReason::kStopSequence, "###"), 1)["stopReason"],
            "stop_sequence");
  EXPECT_EQ(ConverseResponse(*req, Gen("a", 4, 512, StopReason::kLength), 1)["stopReason"], "max_tokens");
  EXPECT_EQ(ConverseResponse(*req, Gen("a", 4, 2, StopReason::kEndToken), 1)["stopReason"], "end_turn");
  EXPECT_TRUE(body["metrics"]["latencyMs"].is_number_integer());
}

}  // namespace
}  // namespace lathe::service
