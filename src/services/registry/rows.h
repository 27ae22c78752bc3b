// Inside the registry (registry.h): the store rows it keeps, their documents, the checks every
// operation applies to names and text from outside, and its ARNs. Not for other layers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/registry/registry.h"
#include "store/metadata_store.h"

namespace lathe::registry::rows {

inline constexpr const char* kGroupKind = "model-group";
inline constexpr const char* kVersionKind = "model-version";
inline constexpr const char* kAliasKind = "model-alias";
inline constexpr const char* kMoveKind = "alias-move";
inline constexpr const char* kLineageKind = "data-lineage";
// A claimed client token: name "<group>/<token>", doc {group, version}; written in the batch of
// the version it names, so its unique name decides which of two racing Registers commits.
inline constexpr const char* kTokenKind = "registry-token";
inline constexpr const char* kEventSource = "lathe.registry";

// Bounds of the fields registry.h leaves to the implementation (docs/serve.md, Limits).
inline constexpr size_t kMaxArnBytes = 2048;      // ARNs, model ids, URIs
inline constexpr size_t kMaxActorBytes = 256;     // created_by, actor
inline constexpr size_t kMaxShortBytes = 1024;    // ETag, version id, format, verdict
inline constexpr size_t kMaxKeyBytes = 128;       // metadata and tag keys (SageMaker's)
inline constexpr size_t kMaxValueBytes = 256;     // metadata and tag values (SageMaker's)
inline constexpr size_t kMaxTags = 50;
inline constexpr size_t kMaxClientTokenBytes = 128;
inline constexpr int kMaxJsonDepth = 16;          // hyperparameters, metrics, comparison
inline constexpr int kMaxVersionNumber = 999999999;

// InvalidArgument that names the field first: "group: must be ...".
Status Invalid(const std::string& field, const std::string& message);

// SageMaker's EntityName, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, checked length first and by hand.
Status CheckEntityName(const std::string& field, const std::string& name, size_t max_bytes);
// Text a person wrote (descriptions, reasons): at most max_bytes, no control characters but
// tab and line breaks.
Status CheckProse(const std::string& field, const std::string& text, size_t max_bytes);
// Identifiers, ARNs, URIs, actors: at most max_bytes, no control characters (spaces allowed:
// S3 keys have them); `required` refuses "".
Status CheckToken(const std::string& field, const std::string& text, size_t max_bytes, bool required);
// A JSON value from outside: nested at most kMaxJsonDepth levels.
Status CheckJsonDepth(const std::string& field, const nlohmann::json& j);
// A version's metadata: the customer's entries (SageMaker's CustomerMetadataProperties: at most
// kMaxMetadataEntries, values up to kMaxValueBytes) and lathe's own "lathe:" entries (SageMaker's
// MetadataProperties and what the pipeline records: values up to 1024 bytes, botocore's bound
// for MetadataProperties), which do not count toward the customer's 50.
inline constexpr const char* kLatheMetadataPrefix = "lathe:";
inline constexpr size_t kMaxLatheMetadataValueBytes = 1024;
inline constexpr size_t kMaxLatheMetadataEntries = 16;
Status CheckMetadata(const std::map<std::string, std::string>& m);
Status CheckStringMap(const std::string& field, const std::map<std::string, std::string>& m, size_t max_entries);

// What a version may hold (registry.h's bounds); data purposes default to "training" and SHA-256
// digests are lowercased, so lineage by content matches however the caller spelled them.
// A SHA-256 digest: 64 hex digits, lowercased in place (one rule for storing and for looking up).
Status NormalizeSha256(const std::string& field, std::string* digest);
Status CheckEvaluation(const EvaluationRecord& e);
// Metric names (policy.primaryMetric, evaluation metrics and comparison keys): 1-64 of A-Za-z0-9_-.
inline constexpr size_t kMaxMetricNameBytes = 64;
inline constexpr size_t kMaxMetricEntries = 256;
bool IsMetricName(const std::string& s);
Status CheckNewVersion(NewVersion* v);
// The stored document's size against kMaxVersionDocBytes.
Status CheckVersionDocSize(const store::ResourceRow& row);

std::string GroupArn(const std::string& region, const std::string& account, const std::string& group);
std::string VersionArn(const std::string& region, const std::string& account, const std::string& group, int version);
std::string VersionName(const std::string& group, int version);  // "<group>/<version>"

// "<group>/<version>" or this account's and region's model package ARN -> (group, version).
// InvalidArgument when malformed; NotFound for an ARN of another account or region (nothing of
// theirs is here).
Result<std::pair<std::string, int>> ParseVersionRef(const std::string& ref, const std::string& region,
                                                    const std::string& account);
// A group name or this account's and region's model package group ARN -> the name.
Result<std::string> ParseGroupRef(const std::string& ref, const std::string& region, const std::string& account);

// Rows and their documents.
store::ResourceRow GroupToRow(const ModelGroup& g);
ModelGroup GroupFromRow(const store::ResourceRow& row);
store::ResourceRow VersionToRow(const ModelVersion& v, const std::string& client_token);
ModelVersion VersionFromRow(const store::ResourceRow& row);
nlohmann::json EvaluationToJson(const EvaluationRecord& e);
EvaluationRecord EvaluationFromJson(const nlohmann::json& j);
nlohmann::json DataObjectToJson(const DataObject& d);
store::ResourceRow AliasToRow(const std::string& group, const std::string& alias, int version, int64_t moves,
                              int64_t last_move_ms);
store::ResourceRow MoveToRow(const AliasMove& m, int64_t seq);
AliasMove MoveFromRow(const store::ResourceRow& row);
std::string TokenName(const std::string& group, const std::string& token);
store::ResourceRow TokenRow(const std::string& group, const std::string& token, int version, int64_t created_ms);
// One lineage row per data object of the version.
std::vector<store::ResourceRow> LineageRows(const ModelVersion& v);

// Compare-and-swap across processes: every rewrite of a group or version row carries the
// revision it read (an Expect in its WriteBatch) and writes the next one, so a writer that read
// a stale row gets Conflict instead of undoing another's change; callers re-read and retry.
store::Expect SameRevision(const store::ResourceRow& read);
void NextRevision(const store::ResourceRow& read, store::ResourceRow* rewritten);
inline constexpr int kCasAttempts = 8;

// The move the next Rollback undoes (Rollback's undo stack over an alias's moves, oldest
// first), or nullptr; the rollback goes to its from_version (0: nowhere to go).
const AliasMove* MoveARollbackUndoes(const std::vector<AliasMove>& moves);

// The version row, or NotFound naming "<group>/<version>".
Result<store::ResourceRow> FindVersionRow(store::MetadataStore* db, const std::string& group, int version);
// Every lineage row of one version (for deleting them with it).
Result<std::vector<store::ResourceRow>> LineageRowsOf(store::MetadataStore* db, const std::string& group, int version);
// Alias -> version of a group, from its alias rows.
Result<std::map<std::string, int>> AliasesOf(store::MetadataStore* db, const std::string& group);

}  // namespace lathe::registry::rows
