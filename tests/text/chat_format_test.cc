#include "text/chat_format.h"

#include <gtest/gtest.h>

namespace lathe::text {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Rates?"}};

TEST(ChatFormat, PlainIsTitansUserBotStyle) {
  auto r = RenderChat(ChatTemplate::kPlain, kConversation, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "Be brief.\n\nUser: Hi\nBot: Hello!\nUser: Rates?\nBot:");
}

TEST(ChatFormat, ChatML) {
  auto r = RenderChat(ChatTemplate::kChatML, kConversation, true);
  EXPECT_EQ(*r,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nRates?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatFormat, Llama2PutsTheSystemPromptInTheFirstInstruction) {
  auto r = RenderChat(ChatTemplate::kLlama2, kConversation, true);
  EXPECT_EQ(*r, "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! [INST] Rates? [/INST]");
}

TEST(ChatFormat, Llama3) {
  auto r = RenderChat(ChatTemplate::kLlama3, {{"user", "Hi"}}, true);
  EXPECT_EQ(*r, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatFormat, RejectsBadConversations) {
  EXPECT_FALSE(RenderChat(ChatTemplate::kPlain, {{"assistant", "x"}}, true).ok());
  EXPECT_FALSE(RenderChat(ChatTemplate::kPlain, {{"user", "a"}, {"system", "s"}}, true).ok());
  EXPECT_FALSE(RenderChat(ChatTemplate::kPlain, {{"tool", "a"}}, true).ok());
}

TEST(ChatFormat, DetectsTheFamilyFromTemplateMarkersOrArchitecture) {
  EXPECT_EQ(DetectChatTemplate("{% ... '<|start_header_id|>' ... %}", "LlamaForCausalLM"), ChatTemplate::kLlama3);
  EXPECT_EQ(DetectChatTemplate("{{'<|im_start|>' + message['role']}}", "LlamaForCausalLM"), ChatTemplate::kChatML);
  EXPECT_EQ(DetectChatTemplate("{{ '[INST] ' + content }}", "LlamaForCausalLM"), ChatTemplate::kLlama2);
  EXPECT_EQ(DetectChatTemplate("", "Qwen2ForCausalLM"), ChatTemplate::kChatML);
  EXPECT_EQ(DetectChatTemplate("", "LlamaForCausalLM"), ChatTemplate::kPlain);
  EXPECT_EQ(*ParseChatTemplate("llama3"), ChatTemplate::kLlama3);
  EXPECT_FALSE(ParseChatTemplate("jinja").ok());
  EXPECT_EQ(ChatStopSequences(ChatTemplate::kChatML), std::vector<std::string>{"<|im_end|>"});
}

}  // namespace
}  // namespace lathe::text

namespace lathe::text {
namespace {

TEST(ChatFormat, SegmentsMarkWhatTheModelLearnsAndConcatenateToTheText) {
  for (ChatTemplate t : {ChatTemplate::kPlain, ChatTemplate::kChatML, ChatTemplate::kLlama2, ChatTemplate::kLlama3}) {
    std::vector<ChatMessage> conv = {{"system", "S."}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"},
                                     {"assistant", "A2"}};
    auto segs = RenderChatSegments(t, conv);
    ASSERT_TRUE(segs.ok());
    std::string joined;
    int assistant = 0;
    for (const auto& s : *segs) {
      joined += s.text;
      if (s.assistant) {
        ++assistant;
        EXPECT_NE(s.text.find(assistant == 1 ? "A1" : "A2"), std::string::npos) << ChatTemplateName(t);
        EXPECT_EQ(s.text.find("Q"), std::string::npos) << ChatTemplateName(t);
      }
    }
    EXPECT_EQ(assistant, 2);
    EXPECT_EQ(joined, *RenderChat(t, conv, false)) << ChatTemplateName(t);
    // The generation prompt is exactly the context before an assistant piece.
    std::vector<ChatMessage> head(conv.begin(), conv.begin() + 2);
    EXPECT_EQ((*segs)[0].text, *RenderChat(t, head, true)) << ChatTemplateName(t);
  }
}

}  // namespace
}  // namespace lathe::text
