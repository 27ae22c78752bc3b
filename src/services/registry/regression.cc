// The registry's side of "a post-promotion evaluation regresses" (issue #15's automatic rollback).
#include <cstdio>

#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {

std::string EvaluationRegression(const ModelVersion& holder, int64_t held_since_ms) {
  const EvaluationRecord* newest = nullptr;
  for (const EvaluationRecord& e : holder.evaluations) {
    // Strictly after the move: the evaluation the gate promoted it on is recorded before it.
    if (e.created_ms > held_since_ms && (!newest || e.created_ms >= newest->created_ms)) newest = &e;
  }
  if (!newest || newest->verdict != "worse") return "";
  char score[32];
  std::snprintf(score, sizeof score, "%.4g", newest->overall_score);
  return "evaluation " + newest->evaluation + " of " + rows::VersionName(holder.group, holder.version) +
         " is worse than " + (newest->baseline.empty() ? "its baseline" : newest->baseline) + " (overallScore " + score + ")";
}

Result<std::string> Registry::AliasRegression(const std::string& group, const std::string& alias, int version) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("alias", alias, kMaxAliasBytes));
  Result<store::ResourceRow> row = db_->Find(rows::kAliasKind, group + "/" + alias);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? Result<std::string>(std::string()) : row.status();
  if (row->doc.value("version", 0) != version) return std::string();
  Result<ModelVersion> holder = GetVersion(group, version);
  if (!holder.ok()) return holder.status();
  return EvaluationRegression(*holder, row->doc.value("lastMoveMs", int64_t{0}));
}

}  // namespace lathe::registry
