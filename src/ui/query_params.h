// Checks on the API's path and query values, lengths before anything else (docs/serve.md, Limits).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::ui {

// An integer query parameter in [min, max]; `fallback` when absent. InvalidArgument names it.
Result<int64_t> IntParam(const std::map<std::string, std::string>& query, const std::string& name, int64_t fallback,
                         int64_t min, int64_t max);
// A path or query value of 1..max_bytes without control characters.
Status CheckName(const std::string& what, const std::string& value, size_t max_bytes);
// 503 naming the part of the server that is not there (its storage did not open, or a test).
Status Unavailable(const std::string& what);
}  // namespace lathe::ui

namespace lathe::store {
struct ResourceRow;
struct ExecutionRecord;
}
namespace lathe::registry {
struct ModelVersion;
}

namespace lathe::ui {
// The summary of a customization job's row (Overview, Jobs): id, name, status, progress, ...
nlohmann::json JobSummary(const store::ResourceRow& row);
// An execution's summary: arn, name, stateMachineArn, status, startDate, stopDate.
nlohmann::json ExecutionSummaryJson(const store::ExecutionRecord& e);
// A registry version (the group page, and a job's page for the versions it made): its status,
// lineage and data manifest (each object as the job read it: sha256, records, S3's etag/version).
nlohmann::json VersionJson(const registry::ModelVersion& v);
}  // namespace lathe::ui
