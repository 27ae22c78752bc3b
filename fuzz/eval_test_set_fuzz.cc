// Feeds arbitrary bytes to the test-set parser, then scores answers against whatever cases it
// accepted (their format rules included): neither may crash, leak, hang or allocate without
// bound, and every problem must print and serialise (valid UTF-8).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "eval/test_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lathe::eval::TestSet set = lathe::eval::ParseTestSet(bytes, "fuzz.jsonl");
  for (const auto& p : set.problems) {
    (void)lathe::data::FormatProblem(p);
    (void)lathe::data::ProblemToJson(p).dump();
  }
  (void)set.ok();
  (void)set.Categories();
  // A few cases, so one input stays quick: each answered by its own reference, its prompt, and
  // the raw input (hostile bytes, deep JSON, long runs) as a model's answer.
  const size_t n = std::min<size_t>(set.cases.size(), 4);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = set.cases[i];
    (void)c.DisplayPrompt();
    (void)lathe::eval::ScoreAnswer(c, c.reference);
    (void)lathe::eval::ScoreAnswer(c, c.prompt);
    (void)lathe::eval::ScoreAnswer(c, bytes);
  }
  return 0;
}
