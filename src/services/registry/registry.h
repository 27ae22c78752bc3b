// lathe's model registry (issue #15): model groups, versions numbered in order, lineage both ways
// (version -> data objects, data object -> versions), aliases with a recorded history of every
// move (time, actor, reason), rollback, and gated promotion. The backend of SageMaker's Model
// Registry subset (services/sagemaker), of the pipeline's register-model-version built-in, and of
// `lathe registry`. No wire format here.
//
// Storage: rows of lathe.db's MetadataStore (no tables of its own), so every change that touches
// several rows (a version and its lineage rows; an alias and its history row and its event) is
// one WriteBatch: all of it or none, also under SIGKILL. The registry keeps no cache: two
// processes on one data directory (lathe serve and `lathe registry`) see the same state.
//   kind "model-group"     name = group
//   kind "model-version"   name = "<group>/<version>", arn = the model package ARN
//   kind "model-alias"     name = "<group>/<alias>", doc.version = current version
//   kind "alias-move"      append-only history, doc {group, alias, from, to, timeMs, actor, reason}
//   kind "data-lineage"    one row per (data object, version), doc {uri, sha256, group, version}
// Events (the outbox; EventBridge rules can match them): source "lathe.registry", detail-types
// "Model Version Registered", "Model Alias Moved" (detail: group, alias, fromVersion, toVersion,
// actor, reason, rollback).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::registry {

// Bounds (docs/serve.md, Limits).
inline constexpr size_t kMaxGroupNameBytes = 63;   // SageMaker's EntityName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
inline constexpr size_t kMaxAliasBytes = 63;       // same character rule as group names
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxDataObjects = 100;     // per version
inline constexpr size_t kMaxEvaluations = 100;     // per version
inline constexpr size_t kMaxMetadataEntries = 50;  // CustomerMetadataProperties
inline constexpr size_t kMaxVersionDocBytes = 256 * 1024;

// SageMaker's ModelApprovalStatus plus lathe's archived.
enum class VersionStatus { kPending, kApproved, kRejected, kArchived };
const char* VersionStatusName(VersionStatus s);  // "PendingManualApproval", "Approved", "Rejected", "Archived"
Result<VersionStatus> ParseVersionStatus(const std::string& name);

// One data file a version was trained (or validated) on, as it was when the job read it.
struct DataObject {
  std::string uri;         // s3://bucket/key or file:///path
  std::string purpose;     // "training" | "validation"
  std::string etag, version_id;  // S3's, when from S3
  std::string sha256;      // of the bytes (hex)
  uint64_t records = 0;
  std::string format;      // data::Format's name ("prompt-completion", "messages", ...)
};

// An evaluation of a version (eval::RunResult in brief): the evaluation job or local run, its
// report, and the scores the promotion gate and `registry diff` read.
struct EvaluationRecord {
  std::string evaluation;      // evaluation job ARN or run id
  std::string report_uri;      // where report.json is
  std::string test_set;        // the test set's URI
  std::string baseline;        // what it was compared with ("" = none)
  double overall_score = 0;    // the version's eval overall score
  nlohmann::json metrics = nlohmann::json::object();   // metric -> mean
  nlohmann::json comparison = nlohmann::json::object();  // metric -> {meanDiff, ciLow, ciHigh, verdict}
  std::string verdict;         // vs the baseline on the primary metric ("better", ...), "" = none
  int64_t created_ms = 0;
};

struct ModelVersion {
  std::string group;
  int version = 0;             // 1, 2, ... in order of registration within the group
  std::string arn;             // arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>
  std::string custom_model_arn, base_model, training_job_arn;
  nlohmann::json hyperparameters = nlohmann::json::object();
  std::vector<DataObject> data;
  std::vector<EvaluationRecord> evaluations;
  std::string description, created_by, last_modified_by, approval_description;
  int64_t created_ms = 0, last_modified_ms = 0;
  VersionStatus status = VersionStatus::kPending;
  std::map<std::string, std::string> metadata;  // SageMaker's CustomerMetadataProperties
};

// The gate a version passes to be promoted to an alias (per group; PromoteIfBetter).
struct PromotionPolicy {
  std::string reference_test_set;        // URI of the group's reference test set ("" = use the evaluation given)
  std::string primary_metric = "overallScore";  // or a metrics.h key
  double min_margin = 0.0;               // candidate - holder on the primary metric must exceed this
  bool require_significance = true;      // and the primary metric's own paired verdict must be "better"
  // No other quality metric may drop by more than this, in 0..1 score units: 0..1 metrics as
  // they are, judgeScore over its 1..5 range, referenceLoss/referencePerplexity as a fraction of
  // the holder's value.
  double max_regression = 0.05;
};
nlohmann::json PolicyToJson(const PromotionPolicy& p);
Result<PromotionPolicy> PolicyFromJson(const nlohmann::json& j);  // InvalidArgument names the field

struct ModelGroup {
  std::string name, arn, description, created_by;
  int64_t created_ms = 0;
  PromotionPolicy policy;
  int latest_version = 0;
};

struct AliasMove {
  std::string group, alias;
  int from_version = 0;  // 0: the alias did not exist
  int to_version = 0;
  int64_t time_ms = 0;
  std::string actor, reason;
  bool rollback = false;
};

// What the gate decided, and why, in words a person reads in the pipeline's email and the CLI.
struct PromotionDecision {
  bool promote = false;
  int holder_version = 0;  // 0: the alias had no version (the first version is promoted)
  std::string reason;
};
// Pure: the gate on an evaluation of candidate (B) against the alias holder (A).
// `comparison` is the EvaluationRecord of the candidate whose baseline is the holder.
PromotionDecision DecidePromotion(const PromotionPolicy& policy, int holder_version, const EvaluationRecord& candidate_vs_holder);

// Why an alias holder's post-promotion evaluation regressed, for automatic rollback
// (service::ResolvedModel::regression): its newest evaluation recorded after `held_since_ms` (when
// it took the alias) has verdict "worse" against its baseline. "" otherwise. Pure.
std::string EvaluationRegression(const ModelVersion& holder, int64_t held_since_ms);

struct NewVersion {
  std::string group;  // created if missing (with the default policy)
  std::string custom_model_arn, base_model, training_job_arn, description, created_by;
  nlohmann::json hyperparameters = nlohmann::json::object();
  std::vector<DataObject> data;
  std::vector<EvaluationRecord> evaluations;
  VersionStatus status = VersionStatus::kPending;
  std::map<std::string, std::string> metadata, tags;
  std::string client_token;  // idempotency: the same token registers once
};

struct ListOptions {
  std::string name_contains;
  std::optional<VersionStatus> status;
  int64_t created_after = -1, created_before = -1;
  bool descending = false;
  size_t offset = 0, limit = 0;
};

class Registry {
 public:
  Registry(store::MetadataStore* db, std::string region, std::string account)
      : db_(db), region_(std::move(region)), account_(std::move(account)) {}
  // The clock versions and alias moves record (milliseconds since the epoch; default: the wall
  // clock). Tests set explicit times to ask AliasAt about the past.
  void set_clock(std::function<int64_t()> now) { clock_ = std::move(now); }

  // Groups. Names follow SageMaker's EntityName rule; errors are InvalidArgument (naming the
  // field), AlreadyExists, NotFound, Conflict (deleting a group that still has versions).
  Result<ModelGroup> CreateGroup(const std::string& name, const std::string& description, const std::string& created_by,
                                 const std::map<std::string, std::string>& tags = {});
  Result<ModelGroup> GetGroup(const std::string& name_or_arn);
  Result<std::vector<ModelGroup>> ListGroups(const ListOptions& options);
  Status DeleteGroup(const std::string& name_or_arn);
  Status SetPolicy(const std::string& group, const PromotionPolicy& policy);

  // Versions. Register numbers the version (max + 1) and writes it with its lineage rows and its
  // event in one batch.
  Result<ModelVersion> Register(const NewVersion& v);
  // By ARN, or "<group>/<version>".
  Result<ModelVersion> GetVersion(const std::string& arn_or_group_version);
  Result<ModelVersion> GetVersion(const std::string& group, int version);
  Result<std::vector<ModelVersion>> ListVersions(const std::string& group, const ListOptions& options);
  // Status, approval description, metadata to set and keys to remove; actor recorded.
  Result<ModelVersion> UpdateVersion(const std::string& arn_or_group_version, std::optional<VersionStatus> status,
                                     const std::string& approval_description,
                                     const std::map<std::string, std::string>& metadata_set,
                                     const std::vector<std::string>& metadata_remove, const std::string& actor);
  Status AddEvaluation(const std::string& group, int version, const EvaluationRecord& record);
  // Conflict while an alias points at it.
  Status DeleteVersion(const std::string& arn_or_group_version);

  // Lineage: the versions trained on a data object (by URI, and by content when sha256 is given:
  // the same bytes under another key count too).
  Result<std::vector<ModelVersion>> VersionsTrainedOn(const std::string& uri, const std::string& sha256 = "");

  // Aliases. SetAlias moves (or creates) an alias; Rollback moves it back to where the last move
  // took it from (NotFound without history; Conflict when that version is gone or rejected).
  // Rollback undoes the newest move no rollback has undone yet (an undo stack): after 1 -> 2 -> 3,
  // Rollback goes to 2, again to 1, a third time NotFound (nothing before 1). A move to the
  // version the alias already holds records nothing.
  Result<AliasMove> SetAlias(const std::string& group, const std::string& alias, int version, const std::string& actor,
                             const std::string& reason);
  Result<AliasMove> Rollback(const std::string& group, const std::string& alias, const std::string& actor,
                             const std::string& reason);
  // Compare and set: moves the alias to `target` only while it holds `expected`; what automatic
  // rollback uses (the undo stack above would undo the wrong move when two deployments watch one
  // alias, or a person moved it meanwhile). nullopt when the alias holds another version or
  // already holds `target` (nothing moves, nothing is recorded); Conflict when another process
  // moved it between the read and the write.
  Result<std::optional<AliasMove>> MoveAliasIf(const std::string& group, const std::string& alias, int expected,
                                               int target, const std::string& actor, const std::string& reason,
                                               bool rollback = true);
  // Removes the alias, recorded in its history as a move to 0 (AliasAt answers 0 afterwards; a
  // Rollback puts it back). NotFound when it does not exist.
  Result<AliasMove> DeleteAlias(const std::string& group, const std::string& alias, const std::string& actor,
                                const std::string& reason);
  Result<std::map<std::string, int>> Aliases(const std::string& group);  // alias -> version
  // What the alias pointed at, at a time (0: nothing then).
  Result<int> AliasAt(const std::string& group, const std::string& alias, int64_t time_ms);
  Result<std::vector<AliasMove>> AliasHistory(const std::string& group, const std::string& alias);
  // "<group>:<alias>" or a version ARN or "<group>/<version>" -> the version (what deployments
  // and InvokeModel will resolve).
  Result<ModelVersion> Resolve(const std::string& reference);
  // EvaluationRegression of the alias's holder, since its last move onto it; "" when the alias
  // holds another version than `version` by now (the caller resolves again) or does not exist.
  Result<std::string> AliasRegression(const std::string& group, const std::string& alias, int version);

  // The gate: DecidePromotion against the alias holder with the group's policy; moves the alias
  // when it passes (actor, reason recorded: the decision's reason). The evaluation is recorded on
  // the version either way, once (a retry with the same evaluation id and baseline adds nothing;
  // nothing is recorded when the version already holds the alias). The record's baseline must
  // name the holder (its model package ARN, "<group>/<version>" or its custom model ARN), else
  // not promoted; Conflict when another writer moved the alias after the holder was read.
  Result<PromotionDecision> PromoteIfBetter(const std::string& group, int version, const std::string& alias,
                                            const EvaluationRecord& candidate_vs_holder, const std::string& actor);

  // The guide's folder layout for one version (section 1.4): <group>-v<N>/model-id.txt,
  // training-config.json, training-data-manifest.json, evaluation-report.json. Returns
  // relative path -> file content; the caller writes them to a folder or s3://.
  Result<std::map<std::string, std::string>> ExportFiles(const std::string& group, int version);

 private:
  int64_t Now() const;
  // The bodies of the public writers, called with mu_ held (PromoteIfBetter uses both).
  Status AddEvaluationLocked(const std::string& group, int version, const EvaluationRecord& record);
  // expected_from: the holder the caller decided against (0: no holder); Conflict when the alias
  // is elsewhere by the time of the move. nullopt: move from wherever it is (SetAlias).
  Result<AliasMove> MoveAliasLocked(const std::string& group, const std::string& alias, int version,
                                    const std::string& actor, const std::string& reason, bool rollback,
                                    std::optional<int> expected_from);
  Result<ModelVersion> RegisterOnceLocked(const NewVersion& v);

  store::MetadataStore* db_;
  std::string region_, account_;
  std::function<int64_t()> clock_;
  std::mutex mu_;  // one writer at a time within a process (numbering; alias moves)
};

}  // namespace lathe::registry
