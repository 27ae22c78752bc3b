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

namespace {

// Checks roles and order; returns the system text and the user/assistant turns.
Status SplitConversation(const std::vector<ChatMessage>& messages, std::string* system,
                         std::vector<const ChatMessage*>* turns) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "system") {
      if (i != 0) return Status::InvalidArgument("a system message must come first");
      *system = m.content;
    } else if (m.role == "user" || m.role == "assistant") {
      bool want_user = turns->size() % 2 == 0;
      if ((m.role == "user") != want_user)
        return Status::InvalidArgument("messages must alternate user, assistant, ... starting with user (message " +
                                       std::to_string(i) + " is " + m.role + ")");
      turns->push_back(&m);
    } else {
      return Status::InvalidArgument("unknown role \"" + m.role + "\" in message " + std::to_string(i));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckConversation(const std::vector<ChatMessage>& messages) {
  std::string system;
  std::vector<const ChatMessage*> turns;
  return SplitConversation(messages, &system, &turns);
}

namespace {

// The text that opens an assistant answer (what a generation prompt ends with).
std::string AssistantHeader(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::kPlain: return "Bot:";
    case ChatTemplate::kChatML: return "<|im_start|>assistant\n";
    case ChatTemplate::kLlama2: return "";
    case ChatTemplate::kLlama3: return "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return "";
}

}  // namespace

Result<std::vector<ChatSegment>> RenderChatSegments(ChatTemplate t, const std::vector<ChatMessage>& messages) {
  std::string system;
  std::vector<const ChatMessage*> turns;
  LATHE_RETURN_IF_ERROR(SplitConversation(messages, &system, &turns));
  std::vector<ChatSegment> out;
  std::string context;  // pending context text, flushed before each assistant piece
  auto assistant = [&](std::string text) {
    out.push_back({context, false});
    out.push_back({std::move(text), true});
    context.clear();
  };
  switch (t) {
    case ChatTemplate::kPlain:
      if (!system.empty()) context += system + "\n\n";
      for (const ChatMessage* m : turns) {
        if (m->role == "user") context += "User: " + m->content + "\n" + AssistantHeader(t);
        else assistant(" " + m->content + "\n");
      }
      break;
    case ChatTemplate::kChatML:
      if (!system.empty()) context += "<|im_start|>system\n" + system + "<|im_end|>\n";
      for (const ChatMessage* m : turns) {
        if (m->role == "user") context += "<|im_start|>user\n" + m->content + "<|im_end|>\n" + AssistantHeader(t);
        else assistant(m->content + "<|im_end|>\n");
      }
      break;
    case ChatTemplate::kLlama2:
      for (size_t i = 0; i < turns.size(); ++i) {
        const ChatMessage* m = turns[i];
        if (m->role == "user") {
          context += "[INST] ";
          if (i == 0 && !system.empty()) context += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
          context += m->content + " [/INST]";
        } else {
          assistant(" " + m->content + " ");
        }
      }
      break;
    case ChatTemplate::kLlama3:
      if (!system.empty()) context += "<|start_header_id|>system<|end_header_id|>\n\n" + system + "<|eot_id|>";
      for (const ChatMessage* m : turns) {
        if (m->role == "user")
          context += "<|start_header_id|>user<|end_header_id|>\n\n" + m->content + "<|eot_id|>" + AssistantHeader(t);
        else assistant(m->content + "<|eot_id|>");
      }
      break;
  }
  if (!context.empty()) out.push_back({context, false});
  return out;
}

Result<std::string> RenderChat(ChatTemplate t, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  auto segments = RenderChatSegments(t, messages);
  if (!segments.ok()) return segments.status();
  std::string out;
  for (const auto& s : *segments) out += s.text;
  // Segments end each user turn with the assistant header; without a generation prompt a
  // conversation that ends on a user turn must not.
  const std::string header = AssistantHeader(t);
  const bool ends_with_user = !messages.empty() && messages.back().role == "user";
  if (ends_with_user && !add_generation_prompt && !header.empty() && out.ends_with(header))
    out.resize(out.size() - header.size());
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
