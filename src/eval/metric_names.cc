// What each metric key means for judging: direction, and whether it is a quality score.
#include <string_view>

#include "eval/metrics.h"
#include "eval/statistics.h"

namespace lathe::eval {

bool HigherIsBetter(std::string_view metric) {
  return !(metric == kRefusal || metric == kLatencyMs || metric == kReferenceLoss || metric == kReferencePerplexity);
}

bool IsQualityMetric(std::string_view metric) {
  return !(metric == kAnswerWords || metric == kLatencyMs || metric == kTokensPerSecond);
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kBetter: return "better";
    case Verdict::kWorse: return "worse";
    case Verdict::kNoSignificantDifference: break;
  }
  return "no significant difference";
}

}  // namespace lathe::eval
