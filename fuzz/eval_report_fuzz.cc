// Feeds arbitrary bytes to what `lathe eval report` and `lathe eval review` do with a report.json
// a person may have edited: the nesting check, the parse, RunFromJson's checks; then, for what it
// accepts, the three renderers, the blind order and (small runs) Summarize. None may crash, leak,
// hang or allocate without bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/json_nesting.h"
#include "eval/report.h"
#include "eval/review.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!lathe::JsonNestingWithin(bytes, lathe::eval::kMaxReportJsonDepth)) return 0;
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto run = lathe::eval::RunFromJson(j);
  if (!run.ok()) return 0;
  (void)lathe::eval::RunToJson(*run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)lathe::eval::ReportMarkdown(*run);
  (void)lathe::eval::ReportHtml(*run, "/* chart */");
  for (size_t i = 0; i < std::min<size_t>(run->test_set.cases.size(), 8); ++i) (void)lathe::eval::BlindOrder(*run, i);
  // Bootstrap resampling is linear in the cases: only small runs, so one input stays quick.
  if (run->test_set.cases.size() <= 16 && run->models.size() <= 4) {
    lathe::eval::Summarize(&*run);
    (void)lathe::eval::ReportHtml(*run, "");
  }
  return 0;
}
