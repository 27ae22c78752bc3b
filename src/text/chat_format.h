// Chat formats: how a conversation becomes the single text a model reads. lathe ships named
// templates for the common families and picks one from the model's files; it does NOT execute
// arbitrary Jinja chat_template programs (see docs/engine.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::text {

enum class ChatTemplate {
  kPlain,   // "User: ...\nBot: ..." (Amazon Titan's documented style; lathe's own small models)
  kChatML,  // <|im_start|>role\n...<|im_end|> (Qwen, many fine-tunes)
  kLlama2,  // [INST] <<SYS>>...<</SYS>> ... [/INST]
  kLlama3,  // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
};

const char* ChatTemplateName(ChatTemplate t);  // "plain", "chatml", "llama2", "llama3"
Result<ChatTemplate> ParseChatTemplate(std::string_view name);

// Recognises the family from tokenizer_config.json's chat_template text (by its markers), else
// from the architecture (Qwen2 -> ChatML), else plain.
ChatTemplate DetectChatTemplate(std::string_view jinja_template, std::string_view architecture);

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// The rules every format renders by: an optional system message first, then user and assistant
// messages alternating from a user message; known roles only. What RenderChat refuses, with the
// same message, so a validator can report it before anything is rendered.
Status CheckConversation(const std::vector<ChatMessage>& messages);

// The conversation as text. With add_generation_prompt the text ends where the assistant's next
// answer starts. BOS is not written: the engine adds the BOS token itself.
Result<std::string> RenderChat(ChatTemplate t, const std::vector<ChatMessage>& messages,
                               bool add_generation_prompt);

// The conversation as consecutive pieces of text, each either what the model must learn to write
// (an assistant message with its end marker) or context. Concatenated, they are RenderChat's text
// without a generation prompt; training masks the loss to the assistant pieces.
struct ChatSegment {
  std::string text;
  bool assistant = false;
};
Result<std::vector<ChatSegment>> RenderChatSegments(ChatTemplate t, const std::vector<ChatMessage>& messages);

// Text that marks the end of an assistant turn in this format: generation stops there.
std::vector<std::string> ChatStopSequences(ChatTemplate t);

}  // namespace lathe::text
