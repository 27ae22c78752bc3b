// Imported models (Bedrock's Custom Model Import): a Hugging Face model folder copied into
// DATA_DIR/imported-models/<id>, checked (engine/model_folder.h) and recorded in lathe.db.
// GetImportedModel / ListImportedModels / DeleteImportedModel, the import itself (shared by the
// server's import jobs and `lathe models add`), and the Bedrock model ids `lathe models add
// --bedrock-id` maps to an imported model (rows of kModelAliasKind, read by the serving lookups).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/job_object_store.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kImportJobKind = "model-import-job";
inline constexpr const char* kImportedModelKind = "imported-model";
// A Bedrock model id (id and name) -> doc {"importedModelArn"}: what `lathe models add
// --bedrock-id` records, so the tutorials' ids can mean an imported model.
inline constexpr const char* kModelAliasKind = "model-alias";
// What jobs that customize an imported model name as its base in the ARNs they make (Bedrock's
// ARN patterns want "provider.model" there).
inline constexpr const char* kImportedBaseModelId = "lathe.imported-v1";
// Bedrock model ids `lathe models add --bedrock-id` takes: the foundation-model id shape.
inline constexpr size_t kMaxBedrockIdLength = 128;

// Copies the file `name` of the source folder to the local file `dest`, refusing a file over
// `max_bytes` before copying it (InvalidArgument, and only for that). NotFound when the folder has
// no such file.
using FetchFile = std::function<Status(const std::string& name, const std::string& dest, uint64_t max_bytes)>;
// ConflictException when a job of `kind` in one of `statuses` is to record a model named `name`
// (its doc's `member`): an import and a customization must not end with two models of one name.
// `what` begins the message ("Model import job").
Status CheckNoJobIsMaking(store::MetadataStore* db, const char* kind, const std::vector<std::string>& statuses,
                          const char* member, const std::string& name, const std::string& what);
// InvalidArgument unless `id` has a Bedrock foundation-model id's shape (provider.name[:n]), at
// most kMaxBedrockIdLength characters.
Status CheckBedrockId(const std::string& id);
// Copies a local file under the same rule (symlinks followed: Hugging Face's cache links to blobs),
// in chunks; once `stop` is set it ends with kImportInterrupted.
Status CopyLocalFile(const std::string& source, const std::string& dest, uint64_t max_bytes,
                     const std::atomic<bool>* stop = nullptr);
// The message (of an Internal status) of an import ended by its `stop` flag.
inline constexpr const char* kImportInterrupted = "the import was interrupted: the server is stopping";

struct ImportRequest {
  std::string model_name;
  std::string source_uri;            // as given (modelDataSource.s3DataSource.s3Uri, or the CLI's folder)
  std::string job_name, job_arn;     // "" for `lathe models add`, which runs no job
  std::string region;                // of the ARN; "" = the server's
  std::map<std::string, std::string> tags;
  std::string id;                    // the model's id (and folder name); "" = a new one
};

class ImportedModelService {
 public:
  ImportedModelService(const ServiceConfig& config, store::MetadataStore* db) : config_(config), db_(db) {}

  // What can be checked before any file is read: the name's rule (ImportedModelName) and that no
  // imported or custom model has it. ValidationException / ConflictException.
  Status CheckNewName(const std::string& name);
  // Fetches the folder's files (through `fetch`, at most maxImportBytes together) into
  // DATA_DIR/imported-models/<id>.partial, checks them, moves them into place and records the
  // model. The message of a failure says what is missing or unsupported (a job's failureMessage).
  // Each file is fetched within its own bound (engine::MaxFolderFileBytes). Once `stop` is set it
  // ends between files (and within a local copy) with kImportInterrupted, leaving nothing behind.
  Result<store::ResourceRow> Import(const ImportRequest& request, const FetchFile& fetch,
                                    const std::atomic<bool>* stop = nullptr);
  // The staging folder of an import (removed again when a job is resumed after a restart).
  std::string StagingDir(const std::string& id) const;

  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  // Conflict while `in_use(arn)` (served, the base of a job in progress, under evaluation).
  Status Delete(const std::string& identifier, const std::function<bool(const std::string& arn)>& in_use);
  // The row by ARN, name or id; doc["_dir"] is its folder.
  Result<store::ResourceRow> Find(const std::string& identifier);

  // `lathe models add --bedrock-id`: `bedrock_id` (a foundation-model id's shape) now means the
  // imported model `model_arn`, replacing an earlier mapping.
  Status MapBedrockId(const std::string& bedrock_id, const std::string& model_arn);
  // The imported model a Bedrock model id (or its foundation-model ARN) is mapped to; NotFound.
  Result<store::ResourceRow> FindMapped(const std::string& model_id);
  // bedrock id -> imported model ARN.
  Result<std::map<std::string, std::string>> Mappings();
  // Where an API node whose jobs run on workers ("runJobsOn": "workers") puts each model it
  // imports, for the workers that evaluate or customize it (s3://artifactBucket/imported-models/
  // ID/, the row's "_artifact"); null: nowhere. Nodes that lack the folder fetch it
  // (CustomModelService::FindServable).
  void set_object_store(JobObjectStore* objects) { objects_ = objects; }
  // Called with a deleted model's folder before its files go (the runtime drops its on-demand pool).
  void set_on_deleted(std::function<void(const std::string& dir)> hook) { on_deleted_ = std::move(hook); }

 private:
  const ServiceConfig& config_;
  store::MetadataStore* db_;
  JobObjectStore* objects_ = nullptr;
  std::function<void(const std::string& dir)> on_deleted_;
};

}  // namespace lathe::service
