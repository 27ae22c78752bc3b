// `lathe cleanup`'s executor: takes the snapshot the planner reads (plan.h), then deletes what the
// plan says through the services' own Delete (each re-checks that the model is not in use, and a
// provisioned throughput's Delete unloads its model in a running server).
//
// Safe to interrupt (SIGKILL anywhere leaves lathe.db consistent; the next run finishes the job):
// a custom model's deletion first records an intent row (kind "cleanup-intent": the folders to
// remove and the registry versions to mark), then deletes the model's row (the service's Delete,
// in-use check inside), then renames each folder into DATA_DIR/trash/ and removes it there, marks
// the versions, and drops the intent. Every run first finishes the intents an interrupted run
// left (or drops those whose model row still exists: the crash came before the delete) and
// empties trash/. So a custom model row always has its folder, and a version whose model is gone
// is marked or named by a pending intent.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/bedrock_service.h"
#include "service/retention_policy.h"
#include "services/cleanup/plan.h"
#include "services/registry/registry.h"

namespace lathe::cleanup {

inline constexpr const char* kIntentKind = "cleanup-intent";
inline constexpr const char* kTrashFolder = "trash";  // under the data dir
inline constexpr size_t kMaxFolderEntries = 1000000;    // files counted per folder when sizing it
inline constexpr size_t kMaxSnapshotEntries = 10000000; // files counted over all folders of one snapshot

// What lives above BedrockService: custom model deployments (the server's DeploymentService).
// Unset: deployment rows are deleted from lathe.db directly (no server holds them loaded), what
// they serve is read from their rows, and their last request from their stats rows.
struct CleanupHooks {
  std::function<Status(const std::string& arn)> delete_deployment;
  std::function<bool(const std::string& model_arn)> deployment_serves;
  std::function<int64_t(const std::string& deployment_id)> deployment_last_request;  // 0: never
  // Test seam: called after each step that changes lathe.db or the disk (the SIGKILL test).
  std::function<void(const std::string& step)> on_step;
};

struct ItemResult {
  PlanItem item;
  bool done = false;    // deleted (or marked)
  std::string outcome;  // "deleted", "marked", "skipped: <why>", "failed: <why>"
};

struct RunReport {
  bool dry_run = true;
  service::RetentionPolicy policy;
  Plan plan;
  std::vector<ItemResult> results;  // real runs only, in plan order
  uint64_t freed_bytes = 0;
  size_t recovered = 0;             // intents an interrupted run left, finished first
};
nlohmann::json RunReportToJson(const RunReport& report);

class Cleaner {
 public:
  Cleaner(service::BedrockService* bedrock, registry::Registry* registry, CleanupHooks hooks = {});

  // `size_folders`: count the bytes under each model's folders (only a policy with modelMaxAge
  // deletes models; the walk is bounded by kMaxFolderEntries / kMaxSnapshotEntries).
  Result<Snapshot> TakeSnapshot(int64_t now_ms, bool size_folders = true);
  const std::string& data_dir() const { return data_dir_; }
  // One run at a time (concurrent callers wait). `progress` is called after each item.
  Result<RunReport> Run(const service::RetentionPolicy& policy, bool dry_run,
                        const std::function<void(const ItemResult&)>& progress = {}, int64_t now_ms = -1);

 private:
  Result<size_t> Recover();
  Status FinishIntent(const store::ResourceRow& intent);
  void EmptyTrash();
  ItemResult DeleteIdle(const PlanItem& item, const service::RetentionPolicy& policy, int64_t now_ms);
  ItemResult DeleteModel(const PlanItem& item, const Snapshot& snapshot, int keep_versions);
  Status MarkVersions(const std::vector<std::string>& versions, const std::string& reason);
  // Served, a job's base, under evaluation, or (read fresh: an alias may have been set since the
  // snapshot) protected by a registry version naming it that holds an alias or is among the
  // newest `keep_versions` of its group.
  bool ModelInUse(const std::string& arn, const Snapshot& snapshot, int keep_versions);
  bool DeploymentServes(const store::ResourceRow& model, const Snapshot& snapshot);
  bool RegistryProtects(const store::ResourceRow& model, int keep_versions);
  // A version's custom model reference (ARN, name or id) -> the model row's ARN, else itself.
  std::string ResolveModel(const std::string& reference);
  int64_t DeploymentLastRequest(const std::string& deployment_id);
  void Step(const std::string& name) {
    if (hooks_.on_step) hooks_.on_step(name);
  }

  service::BedrockService* bedrock_;
  registry::Registry* registry_;
  CleanupHooks hooks_;
  std::string data_dir_;
  std::mutex mu_;
};

}  // namespace lathe::cleanup
