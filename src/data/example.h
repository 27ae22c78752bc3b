// The dataset formats lathe reads, and Example: one record of any of them in a common shape.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::data {

enum class Format {
  kAuto,              // detect per file from its first record
  kPromptCompletion,  // {"prompt": str, "completion": str}
  kChat,              // {"system"?: str, "messages": [{"role", "content": str}...]} (Bedrock or
                      // OpenAI style, where the first message may have role "system")
  kConversation,      // {"schemaVersion": "bedrock-conversation-2024", "system"?: [{"text"}],
                      //  "messages": [{"role", "content": [{"text"}...]}...]}
  kPretraining,       // {"input": str} (continued pre-training)
};

const char* FormatName(Format f);  // "prompt-completion", "chat", ...
Result<Format> ParseFormat(std::string_view name);

enum class Role { kUser, kAssistant };
const char* RoleName(Role r);

struct Turn {
  Role role;
  std::string text;
};

struct Example {
  Format format = Format::kPromptCompletion;
  std::string system;       // empty when the record has none
  std::vector<Turn> turns;  // user/assistant, alternating, first user, last assistant
  std::string input;        // pre-training text (kPretraining only)

  // The first user turn ("" for pre-training records).
  std::string_view Prompt() const;
  // The last assistant turn ("" for pre-training records).
  std::string_view Completion() const;
  // Every text of the record joined with "\n": what the model reads, for counting tokens.
  std::string AllText() const;
  // Character count of AllText() without building it.
  size_t TextBytes() const;
};

}  // namespace lathe::data
