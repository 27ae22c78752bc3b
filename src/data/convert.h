// Record conversion behind `lathe data convert`: prompt/completion <-> chat, and CSV -> JSONL.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/env.h"
#include "data/example.h"

namespace lathe::data {

// The JSON record of an example in a given format (the inverse of DecodeExample).
// Fails when the example cannot be expressed in that format (e.g. multi-turn as prompt/completion).
Result<nlohmann::ordered_json> ExampleToJson(const Example& e, Format format, bool drop_system);

struct ConvertOptions {
  Format to = Format::kChat;
  std::string system;        // added to every chat record (replacing none)
  bool drop_system = false;  // allow losing system prompts when converting to prompt/completion
};
struct ConvertResult {
  uint64_t records = 0;
  Format from = Format::kAuto;
};
Result<ConvertResult> ConvertFile(Env* env, const std::string& in, const std::string& out, const ConvertOptions& o);

struct CsvOptions {
  std::string prompt_column = "prompt";
  std::string completion_column = "completion";
  std::string input_column;  // set: write continued pre-training {"input"} records instead
};
Result<ConvertResult> ConvertCsv(Env* env, const std::string& in, const std::string& out, const CsvOptions& o);

}  // namespace lathe::data
