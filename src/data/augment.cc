#include "data/augment.h"

#include <cctype>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "data/convert.h"
#include "data/dedup.h"
#include "data/example_reader.h"

namespace lathe::data {

const std::vector<std::pair<std::string, std::string>>& AugmentRules() {
  static const std::vector<std::pair<std::string, std::string>> kRules = {
      {"How do I", "How can I"},    // the tutorial's three
      {"What is", "What's"},
      {"Can you", "Could you"},
      {"Can I", "Could I"},         // and the same kind of rewording
      {"How can I", "How do I"},
      {"What's", "What is"},
      {"Where can I", "Where do I"},
  };
  return kRules;
}

std::vector<std::string> RewritePrompt(const std::string& prompt) {
  std::vector<std::string> out;
  for (const auto& [from, to] : AugmentRules()) {
    if (prompt.size() < from.size()) continue;
    bool match = true;
    for (size_t i = 0; i < from.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(prompt[i])) == std::tolower(static_cast<unsigned char>(from[i]));
    // Whole words only: "Can I" must not match "Can Iceland ...".
    if (!match || (prompt.size() > from.size() && std::isalnum(static_cast<unsigned char>(prompt[from.size()]))))
      continue;
    std::string r = to + prompt.substr(from.size());
    if (std::islower(static_cast<unsigned char>(prompt[0]))) r[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(r[0])));
    out.push_back(std::move(r));
  }
  return out;
}

Result<AugmentResult> AugmentFile(Env* env, const std::string& in, const std::string& out) {
  LATHE_RETURN_IF_ERROR(CheckNotSameFile(in, out));
  std::vector<OwnedRecord> records;
  Format format = Format::kAuto;
  LATHE_RETURN_IF_ERROR(ReadAllRecords(env, in, Format::kAuto, &records, &format));
  if (format != Format::kPromptCompletion && format != Format::kChat && format != Format::kConversation)
    return Status::InvalidArgument(in + " is a " + std::string(FormatName(format)) +
                                   " file; augment rewords prompts of prompt-completion and chat records");
  std::unordered_set<uint64_t> seen;  // normalized prompts already in the output
  for (const auto& r : records) seen.insert(Fnv1a64(NormalizeText(r.example.Prompt())));
  std::unique_ptr<AtomicFileWriter> w;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, out, &w));
  AugmentResult result;
  for (const auto& r : records) {
    result.original++;
    LATHE_RETURN_IF_ERROR(w->Append(r.raw));
    LATHE_RETURN_IF_ERROR(w->Append("\n"));
    for (const std::string& prompt : RewritePrompt(std::string(r.example.Prompt()))) {
      if (!seen.insert(Fnv1a64(NormalizeText(prompt))).second) {
        result.skipped_duplicates++;
        continue;
      }
      Example e = r.example;
      for (Turn& t : e.turns)
        if (t.role == Role::kUser) {
          t.text = prompt;
          break;
        }
      auto j = ExampleToJson(e, format, false);
      if (!j.ok()) return j.status();
      LATHE_RETURN_IF_ERROR(w->Append(j->dump() + "\n"));
      result.added++;
    }
  }
  LATHE_RETURN_IF_ERROR(w->Commit());
  return result;
}

}  // namespace lathe::data
