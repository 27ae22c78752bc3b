// The retention planner: given a snapshot of lathe.db's rows (and the sizes of the folders they
// name), what a RetentionPolicy deletes, why, and how many bytes of disk that frees. Pure: no
// store, no file system, no clock (the snapshot carries `now`), so every rule is a unit test.
//
// Never deleted: the custom model of an aliased registry version, or of one of the newest N
// versions of its group; a model in use (served by a provisioned throughput or a deployment that
// stays, the base of a job in progress, evaluated by an evaluation job in progress); a model
// younger than modelMaxAge. Idle: no request for the threshold (lastInvokedMs, or the creation
// time when never invoked); a throughput or deployment still loading is not idle.
//
// Registry versions whose custom model goes stay in the registry (lineage is history): the
// executor marks them Archived with lathe:modelDeleted metadata. The plan also lists versions
// whose model is already gone (deleted by DeleteCustomModel) but not marked yet.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "service/retention_policy.h"
#include "services/registry/registry.h"
#include "store/metadata_store.h"

namespace lathe::cleanup {

// Metadata the executor sets on a version whose model it deleted (the registry's own prefix).
inline constexpr const char* kModelDeletedKey = "lathe:modelDeleted";        // ISO time
inline constexpr const char* kModelDeletedReasonKey = "lathe:modelDeletedReason";

struct Snapshot {
  int64_t now_ms = 0;
  std::string data_dir;  // folders outside it are never lathe's to delete
  ArnScope scope;        // this server's region and account: only its custom model ARNs are marked
  std::vector<store::ResourceRow> custom_models, throughputs, deployments, jobs, evaluation_jobs;
  // Every group's; custom_model_arn resolved to the model row's ARN where a row answers to it
  // (versions may name a model by name, id or ARN), the raw reference otherwise.
  std::vector<registry::ModelVersion> versions;
  std::map<std::string, std::map<std::string, int>> aliases;  // group -> alias -> version
  // A deployment's newest request (deployment id -> ms) where its stats know one newer than the
  // row's lastInvokedMs.
  std::map<std::string, int64_t> deployment_last_request;
  // Bytes under each folder the plan may delete (filled by whoever takes the snapshot).
  std::map<std::string, uint64_t> folder_bytes;
};

enum class ItemKind { kThroughput, kDeployment, kCustomModel, kVersionMark };
const char* ItemKindName(ItemKind k);  // "provisioned-throughput", "deployment", "custom-model", "registry-version"

struct PlanItem {
  ItemKind kind = ItemKind::kCustomModel;
  std::string name, arn, id;
  std::string reason;                  // why it goes, in words
  uint64_t bytes = 0;                  // disk freed
  std::vector<std::string> folders;    // what to remove (custom models: the job's work folder)
  std::vector<std::string> versions;   // "<group>/<version>" to mark (custom models, version marks)
  // Custom models: the idle throughput / deployments (ARNs) serving it, planned before it; it may
  // go only once each of them was actually deleted in the same run.
  std::vector<std::string> after;
};

struct Kept {
  ItemKind kind = ItemKind::kCustomModel;
  std::string name, arn, reason;  // why it stays ("aliased production in group g", ...)
};

struct Plan {
  std::vector<PlanItem> items;  // in execution order: throughput, deployments, models, marks
  std::vector<Kept> kept;       // candidates the policy spared, and why (at most kMaxKeptListed)
  size_t kept_unlisted = 0;     // spared beyond those
  uint64_t total_bytes = 0;
};

Plan MakePlan(const service::RetentionPolicy& policy, const Snapshot& snapshot);

// The models (ARNs, names or ids as written, and the custom models of registry references as
// resolved in `snapshot`) a throughput or deployment row serves, will serve, or is loading.
std::set<std::string> ServedModels(const store::ResourceRow& row, const Snapshot& snapshot);

// At most this many kept candidates are listed in a report (the rest are counted).
inline constexpr size_t kMaxKeptListed = 1000;

// The folders a custom model's deletion removes: its job's work folder (DATA_DIR/jobs/<job id>,
// which holds the model, checkpoints and logs) when the model lies inside it, or its folder under
// DATA_DIR/custom-models/; none otherwise (files lathe did not make).
std::vector<std::string> ModelFolders(const store::ResourceRow& model, const std::string& data_dir);

// When a throughput or deployment row was last used: its last request (lastInvokedMs, or
// _lastInvokedMs for provisioned throughput; stats_last_ms from the deployment's stats), else its
// creation time.
int64_t LastUse(const store::ResourceRow& row, int64_t stats_last_ms);

nlohmann::json PlanToJson(const Plan& plan);

}  // namespace lathe::cleanup
