#include "data/example.h"

namespace lathe::data {

const char* FormatName(Format f) {
  switch (f) {
    case Format::kAuto: return "auto";
    case Format::kPromptCompletion: return "prompt-completion";
    case Format::kChat: return "chat";
    case Format::kConversation: return "conversation";
    case Format::kPretraining: return "pretraining";
  }
  return "?";
}

Result<Format> ParseFormat(std::string_view name) {
  for (Format f : {Format::kAuto, Format::kPromptCompletion, Format::kChat, Format::kConversation,
                   Format::kPretraining})
    if (name == FormatName(f)) return f;
  return Status::InvalidArgument(
      "unknown format '" + std::string(name) +
      "' (expected auto, prompt-completion, chat, conversation or pretraining)");
}

const char* RoleName(Role r) { return r == Role::kUser ? "user" : "assistant"; }

std::string_view Example::Prompt() const {
  for (const Turn& t : turns)
    if (t.role == Role::kUser) return t.text;
  return {};
}

std::string_view Example::Completion() const {
  for (auto it = turns.rbegin(); it != turns.rend(); ++it)
    if (it->role == Role::kAssistant) return it->text;
  return {};
}

std::string Example::AllText() const {
  if (format == Format::kPretraining) return input;
  std::string out = system;
  for (const Turn& t : turns) {
    if (!out.empty()) out += '\n';
    out += t.text;
  }
  return out;
}

size_t Example::TextBytes() const {
  if (format == Format::kPretraining) return input.size();
  size_t n = system.size();
  for (const Turn& t : turns) n += t.text.size() + (n > 0 ? 1 : 0);
  return n;
}

}  // namespace lathe::data
