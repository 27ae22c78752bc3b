#include "text/chat_format.h"

namespace lathe::text {

const char* ChatTemplateName(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::kPlain: return "plain";
    case ChatTemplate::kChatML: return "chatml";
    case ChatTemplate::kLlama2: return "llama2";
    case ChatTemplate::kLlama3: return "llama3";
  }
  return "?";
}

Result<ChatTemplate> ParseChatTemplate(std::string_view name) {
  for (ChatTemplate t : {ChatTemplate::kPlain, ChatTemplate::kChatML, ChatTemplate::kLlama2, ChatTemplate::kLlama3})
    if (name == ChatTemplateName(t)) return t;
  return Status::InvalidArgument("unknown chat template '" + std::string(name) +
                                 "' (expected plain, chatml, llama2 or llama3)");
}

ChatTemplate DetectChatTemplate(std::string_view jinja, std::string_view architecture) {
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatTemplate::kLlama3;
  if (jinja.find("<|im_start|>") != std::string_view::npos) return ChatTemplate::kChatML;
  if (jinja.find("[INST]") != std::string_view::npos) return ChatTemplate::kLlama2;
  if (architecture == "Qwen2ForCausalLM") return ChatTemplate::kChatML;
  return ChatTemplate::kPlain;
}

Result<std::string> RenderChat(ChatTemplate t, const std::vector<ChatMessage>& messages,
                               bool add_generation_prompt) {
  std::string system;
  std::vector<const ChatMessage*> turns;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "system") {
      if (i != 0) return Status::InvalidArgument("a system message must come first");
      system = m.content;
    } else if (m.role == "user" || m.role == "assistant") {
      bool want_user = turns.size() % 2 == 0;
      if ((m.role == "user") != want_user)
        return Status::InvalidArgument("messages must alternate user, assistant, ... starting with user (message " +
                                       std::to_string(i) + " is " + m.role + ")");
      turns.push_back(&m);
    } else {
      return Status::InvalidArgument("unknown role \"" + m.role + "\" in message " + std::to_string(i));
    }
  }
  std::string out;
  switch (t) {
    case ChatTemplate::kPlain:
      if (!system.empty()) out += system + "\n\n";
      for (const ChatMessage* m : turns)
        out += (m->role == "user" ? "User: " : "Bot: ") + m->content + "\n";
      if (add_generation_prompt) out += "Bot:";
      break;
    case ChatTemplate::kChatML:
      if (!system.empty()) out += "<|im_start|>system\n" + system + "<|im_end|>\n";
      for (const ChatMessage* m : turns) out += "<|im_start|>" + m->role + "\n" + m->content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      break;
    case ChatTemplate::kLlama2:
      for (size_t i = 0; i < turns.size(); ++i) {
        const ChatMessage* m = turns[i];
        if (m->role == "user") {
          out += "[INST] ";
          if (i == 0 && !system.empty()) out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
          out += m->content + " [/INST]";
        } else {
          out += " " + m->content + " ";
        }
      }
      break;
    case ChatTemplate::kLlama3:
      if (!system.empty())
        out += "<|start_header_id|>system<|end_header_id|>\n\n" + system + "<|eot_id|>";
      for (const ChatMessage* m : turns)
        out += "<|start_header_id|>" + m->role + "<|end_header_id|>\n\n" + m->content + "<|eot_id|>";
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
  }
  return out;
}

std::vector<std::string> ChatStopSequences(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::kPlain: return {"\nUser:"};
    case ChatTemplate::kChatML: return {"<|im_end|>"};
    case ChatTemplate::kLlama2: return {"[INST]"};
    case ChatTemplate::kLlama3: return {"<|eot_id|>"};
  }
  return {};
}

}  // namespace lathe::text
