// What `lathe registry` prints: the registry's records as JSON (--json) and as tables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "services/registry/registry.h"

namespace lathe::cli {

nlohmann::json GroupJson(const registry::ModelGroup& g);
nlohmann::json VersionJson(const registry::ModelVersion& v);
nlohmann::json MoveJson(const registry::AliasMove& m);

void PrintPolicy(const std::string& group, const registry::PromotionPolicy& p);
void PrintGroups(const std::vector<registry::ModelGroup>& groups);
// One row per version; the aliases pointing at each in the last column.
void PrintVersions(const std::vector<registry::ModelVersion>& versions, const std::map<std::string, int>& aliases);
void PrintVersion(const registry::ModelVersion& v);  // with its lineage
void PrintHistory(const std::vector<registry::AliasMove>& moves);

// Rows {"field", "a", "b", "changed"} comparing two versions: model, base model, job, every
// hyperparameter, data objects, status, and every score of their latest evaluations.
nlohmann::json DiffRows(const registry::ModelVersion& a, const registry::ModelVersion& b);
void PrintDiff(const registry::ModelVersion& a, const registry::ModelVersion& b, const nlohmann::json& rows);

// ISO 8601 UTC ("2026-12-01T10:00:00Z", fractions optional) or seconds since the epoch -> ms.
Result<int64_t> ParseTime(const std::string& text);

}  // namespace lathe::cli
