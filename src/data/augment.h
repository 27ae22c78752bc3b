// Rule-based augmentation behind `lathe data augment`: the tutorial's rewrites of question
// openings ("How do I" -> "How can I", ...). It rewords; it adds no new information, so it helps
// a model tolerate phrasing, not learn more. Never emits a prompt that already exists.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/env.h"

namespace lathe::data {

// (from, to) pairs, matched case-insensitively at the start of the prompt.
const std::vector<std::pair<std::string, std::string>>& AugmentRules();
// The rewrites of one prompt, in rule order (capitalisation of the first letter kept).
std::vector<std::string> RewritePrompt(const std::string& prompt);

struct AugmentResult {
  uint64_t original = 0, added = 0, skipped_duplicates = 0;
};
// Prompt/completion and chat files (chat: the first user message is reworded).
Result<AugmentResult> AugmentFile(Env* env, const std::string& in, const std::string& out);

}  // namespace lathe::data
