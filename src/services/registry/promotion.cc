// Gated promotion (registry.h): the group's policy, the pure gate DecidePromotion, and
// PromoteIfBetter, which records the evaluation and moves the alias when the gate passes.
#include <cmath>
#include <cstdio>

#include "eval/metrics.h"
#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {
namespace {

using nlohmann::json;

using rows::IsMetricName;
using rows::kMaxMetricNameBytes;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string Signed(double v) { return (v >= 0 ? "+" : "") + Num(v); }

// The comparison's mean difference (candidate - holder, in the metric's own units) of one
// metric, or nullopt when the evaluation has none.
std::optional<double> MeanDiff(const json& comparison, const std::string& metric) {
  auto it = comparison.find(metric);
  if (it == comparison.end() || !it->is_object()) return std::nullopt;
  auto d = it->find("meanDiff");
  if (d == it->end() || !d->is_number() || !std::isfinite(d->get<double>())) return std::nullopt;
  return d->get<double>();
}

// How much better the candidate is on `metric` (negative: worse), whichever way the metric points.
double Improvement(const std::string& metric, double mean_diff) {
  return eval::HigherIsBetter(metric) ? mean_diff : -mean_diff;
}


// A metric's drop in the units max_regression is given in (a 0..1 score): 0..1 metrics as they
// are; judgeScore (1..5) over its range; referenceLoss and referencePerplexity, which have no
// fixed scale, as a fraction of the holder's value (candidate mean - meanDiff). nullopt when the
// holder's value is unknown or 0 (such a metric cannot be judged, so it does not block).
std::optional<double> RegressionInScoreUnits(const std::string& metric, double drop, const EvaluationRecord& e) {
  if (metric == eval::kJudgeScore) return drop / 4.0;
  if (metric != eval::kReferenceLoss && metric != "referencePerplexity") return drop;
  auto m = e.metrics.find(metric);
  std::optional<double> diff = MeanDiff(e.comparison, metric);
  if (m == e.metrics.end() || !m->is_number() || !diff) return std::nullopt;
  const double holder = m->get<double>() - *diff;
  if (!std::isfinite(holder) || holder == 0) return std::nullopt;
  return drop / std::fabs(holder);
}

// At most max_bytes of s, cut on a UTF-8 character boundary.
std::string Truncated(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

json PolicyToJson(const PromotionPolicy& p) {
  return {{"referenceTestSet", p.reference_test_set},
          {"primaryMetric", p.primary_metric},
          {"minMargin", p.min_margin},
          {"requireSignificance", p.require_significance},
          {"maxRegression", p.max_regression}};
}

Result<PromotionPolicy> PolicyFromJson(const json& j) {
  if (!j.is_object()) return rows::Invalid("policy", "must be a JSON object");
  PromotionPolicy p;
  for (const auto& [key, value] : j.items()) {
    if (key == "referenceTestSet") {
      if (!value.is_string()) return rows::Invalid("policy.referenceTestSet", "must be a string");
      p.reference_test_set = value.get<std::string>();
      LATHE_RETURN_IF_ERROR(rows::CheckToken("policy.referenceTestSet", p.reference_test_set, rows::kMaxArnBytes, false));
    } else if (key == "primaryMetric") {
      if (!value.is_string() || !IsMetricName(value.get<std::string>()))
        return rows::Invalid("policy.primaryMetric", "must be a metric name (letters, digits, _ - .; at most " +
                                                         std::to_string(kMaxMetricNameBytes) + ")");
      p.primary_metric = value.get<std::string>();
    } else if (key == "minMargin" || key == "maxRegression") {
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0)
        return rows::Invalid("policy." + key, "must be a number >= 0");
      (key == "minMargin" ? p.min_margin : p.max_regression) = value.get<double>();
    } else if (key == "requireSignificance") {
      if (!value.is_boolean()) return rows::Invalid("policy.requireSignificance", "must be true or false");
      p.require_significance = value.get<bool>();
    } else {
      return rows::Invalid("policy", "unknown key '" + key.substr(0, 64) + "'");
    }
  }
  return p;
}

PromotionDecision DecidePromotion(const PromotionPolicy& policy, int holder_version,
                                  const EvaluationRecord& candidate_vs_holder) {
  PromotionDecision d;
  d.holder_version = holder_version;
  const std::string holder = "version " + std::to_string(holder_version);
  if (holder_version == 0) {
    d.promote = true;
    d.reason = "first version for the alias: nothing to beat";
    return d;
  }
  const EvaluationRecord& e = candidate_vs_holder;
  if (!policy.reference_test_set.empty() && e.test_set != policy.reference_test_set) {
    d.reason = "not promoted: evaluated on '" + e.test_set + "', not the group's reference test set '" +
               policy.reference_test_set + "'";
    return d;
  }
  const std::string& primary = policy.primary_metric;
  std::optional<double> diff = MeanDiff(e.comparison, primary);
  if (!diff) {
    d.reason = "not promoted: the evaluation has no comparison of " + primary + " against " + holder;
    return d;
  }
  const double gain = Improvement(primary, *diff);
  if (!(gain > policy.min_margin)) {
    d.reason = "not promoted: " + primary + " changed by " + Signed(gain) + " against " + holder +
               ", not more than the margin " + Num(policy.min_margin);
    return d;
  }
  // Significance of the primary metric's own paired comparison; the record's overall verdict may
  // be on another metric, so it is never used in its place.
  std::string verdict;
  if (auto it = e.comparison.find(primary); it != e.comparison.end() && it->contains("verdict") &&
                                            (*it)["verdict"].is_string())
    verdict = (*it)["verdict"].get<std::string>();
  if (policy.require_significance && verdict != "better") {
    d.reason = "not promoted: " + primary + " " + Signed(gain) + " against " + holder +
               " is not significant (verdict: " + (verdict.empty() ? "none" : verdict) + ")";
    return d;
  }
  // No other quality metric may fall by more than max_regression (in its own good direction).
  std::string worst_metric;
  double worst = 0;
  for (const auto& [metric, c] : e.comparison.items()) {
    if (metric == primary || !eval::IsQualityMetric(metric)) continue;
    std::optional<double> md = MeanDiff(e.comparison, metric);
    if (!md) continue;
    std::optional<double> drop_or = RegressionInScoreUnits(metric, -Improvement(metric, *md), e);
    if (!drop_or) continue;
    const double drop = *drop_or;
    if (drop > worst) {
      worst = drop;
      worst_metric = metric;
    }
  }
  if (worst > policy.max_regression) {
    d.reason = "not promoted: " + worst_metric + " regressed by " + Num(worst) + " against " + holder +
               ", more than the allowed " + Num(policy.max_regression) + (eval::HigherIsBetter(worst_metric) ? "" :
               " (lower is better)") + (worst_metric == eval::kReferenceLoss || worst_metric == "referencePerplexity"
                                            ? " (as a fraction of the holder's value)"
                                            : worst_metric == eval::kJudgeScore ? " (over judgeScore's range 1..5)" : "");
    return d;
  }
  d.promote = true;
  d.reason = "promoted: " + primary + " " + Signed(gain) + " against " + holder + " (margin " +
             Num(policy.min_margin) + (policy.require_significance ? ", verdict better" : "") + "); " +
             (worst_metric.empty() ? "no metric regressed"
                                   : "largest regression " + worst_metric + " " + Num(worst) + " within " +
                                         Num(policy.max_regression));
  return d;
}

Result<PromotionDecision> Registry::PromoteIfBetter(const std::string& group, int version, const std::string& alias,
                                                    const EvaluationRecord& candidate_vs_holder,
                                                    const std::string& actor) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("alias", alias, kMaxAliasBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckToken("actor", actor, rows::kMaxActorBytes, false));
  Result<ModelGroup> g = GetGroup(group);
  if (!g.ok()) return g.status();
  const std::string& name = g->name;  // `group` may be the group's ARN
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::map<std::string, int>> aliases = rows::AliasesOf(db_, name);
  if (!aliases.ok()) return aliases.status();
  auto at = aliases->find(alias);
  const int holder = at == aliases->end() ? 0 : at->second;
  if (holder == version) {
    // Nothing to decide; a retry of a promotion that went through lands here and records nothing.
    PromotionDecision same;
    same.holder_version = holder;
    same.reason = "version " + std::to_string(version) + " already holds " + alias;
    return same;
  }
  // The evaluation is recorded once: a retry with the same evaluation id does not add it again.
  Result<ModelVersion> candidate = GetVersion(name, version);
  if (!candidate.ok()) return candidate.status();
  bool recorded = false;
  for (const EvaluationRecord& r : candidate->evaluations)
    recorded = recorded || (!candidate_vs_holder.evaluation.empty() && r.evaluation == candidate_vs_holder.evaluation &&
                            r.baseline == candidate_vs_holder.baseline);
  if (!recorded) LATHE_RETURN_IF_ERROR(AddEvaluationLocked(name, version, candidate_vs_holder));
  EvaluationRecord e = candidate_vs_holder;
  const std::string& primary = g->policy.primary_metric;
  if (holder > 0) {
    // The comparison must be against the version that holds the alias now, named by its model
    // package ARN or its custom model ARN; one against anything else says nothing about it.
    Result<ModelVersion> held = GetVersion(name, holder);
    if (!held.ok()) return held.status();
    if (e.baseline.empty() || (e.baseline != held->arn && e.baseline != held->custom_model_arn &&
                               e.baseline != rows::VersionName(name, holder))) {
      PromotionDecision d;
      d.holder_version = holder;
      d.reason = "not promoted: the evaluation was compared with '" + Truncated(e.baseline, 256) +
                 "', not with version " + std::to_string(holder) + " that holds " + alias;
      return d;
    }
    // overallScore (a mean of means) is compared here from the holder's own latest evaluation on
    // the same test set when the caller did not supply it.
    if (primary == "overallScore" && !e.comparison.contains(primary))
      for (auto it = held->evaluations.rbegin(); it != held->evaluations.rend(); ++it)
        if (it->test_set == e.test_set) {
          // A difference of two means, not a paired test: it carries no verdict, so a policy
          // that requires significance is not satisfied by it.
          e.comparison[primary] = {{"meanDiff", e.overall_score - it->overall_score}};
          break;
        }
  }
  PromotionDecision d = DecidePromotion(g->policy, holder, e);
  if (!d.promote) return d;
  Result<AliasMove> moved =
      MoveAliasLocked(name, alias, version, actor, Truncated(d.reason, kMaxReasonBytes), false, holder);
  if (!moved.ok()) return moved.status();
  return d;
}

}  // namespace lathe::registry
