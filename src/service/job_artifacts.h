// What must outlive the worker that trains a job (docs/scale-out.md): its latest checkpoint and
// the model it made, kept as objects in the artifact bucket ("artifactBucket"), so that another
// worker resumes the job where it stopped and every node serves the model.
//
//   s3://BUCKET/checkpoints/JOB-ID/state.json, params-G.pt, optim-G.pt, best-G.pt, rng-G.pt
//   s3://BUCKET/custom-models/JOB-ID/FILE...   (the model's folder)
//
// A checkpoint is uploaded as the trainer writes one (engine/trainer.cc's layout: the generation
// G's files, then state.json naming G): the files first, state.json last, the previous
// generation's files deleted after, so the objects always hold one complete checkpoint.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "service/job_object_store.h"

namespace lathe::service {

// Bounds (docs/scale-out.md, Limits): a checkpoint's state.json, one checkpoint or model file,
// and a model's files.
inline constexpr uint64_t kMaxCheckpointStateBytes = 1 << 20;
inline constexpr uint64_t kMaxArtifactFileBytes = uint64_t{64} << 30;
inline constexpr size_t kMaxModelArtifactFiles = 256;
// Where in the bucket models go: custom-models/JOB-ID/ (made by a job on a worker) and
// imported-models/MODEL-ID/ (imported on an API node whose jobs run on workers).
inline constexpr char kModelArtifactPrefix[] = "custom-models/";
inline constexpr char kImportedArtifactPrefix[] = "imported-models/";

class JobArtifacts {
 public:
  // Objects go to `bucket` of `objects` as `account` (all outlive this); `scratch` is a folder for
  // the few bytes read back (a state.json).
  JobArtifacts(JobObjectStore* objects, std::string bucket, std::string account, std::string scratch)
      : objects_(objects), bucket_(std::move(bucket)), account_(std::move(account)), scratch_(std::move(scratch)) {}

  // Uploads the checkpoint in `dir` (a job's run/checkpoint) when its state.json names a
  // generation after `*uploaded` (then sets it). OK with nothing to do: no checkpoint yet, or the
  // trainer replaced it while this looked (the next call uploads the newer one). The generation
  // it replaces in the bucket (the last one uploaded, or at the first upload, one another worker
  // left) has its files deleted.
  Status UploadCheckpoint(const std::string& job_id, const std::string& dir, int64_t* uploaded);
  // Puts the job's uploaded checkpoint into `dir` unless `dir` holds one at least as recent.
  // Returns the generation now in `dir` (0: none anywhere).
  Result<int64_t> DownloadCheckpoint(const std::string& job_id, const std::string& dir);
  // Deletes the job's checkpoint objects (state.json first, then the files of the generation it
  // names and of `generation`, the last one this worker uploaded): the job ended and will never
  // resume.
  Status RemoveCheckpoint(const std::string& job_id, int64_t generation);

  // Uploads the model folder a job made; returns what CustomModelService keeps as "_artifact":
  // {"uri": "s3://BUCKET/custom-models/JOB-ID/", "files": [{"name", "size"}, ...]}.
  Result<nlohmann::json> UploadModel(const std::string& job_id, const std::string& model_dir);

 private:
  S3Uri Object(const std::string& key) const { return S3Uri{bucket_, key}; }
  Status DeleteGeneration(const std::string& job_id, int64_t generation);
  // The generation the bucket's state.json names; 0 when there is none.
  Result<int64_t> BucketGeneration(const std::string& job_id);

  JobObjectStore* objects_;
  std::string bucket_, account_, scratch_;
};

// Uploads the model folder `model_dir` under s3://`bucket`/`key_prefix` (ending in '/') as
// `account`; returns the "_artifact" record (see JobArtifacts::UploadModel).
Result<nlohmann::json> UploadModelFolder(JobObjectStore* objects, const std::string& account, const std::string& bucket,
                                         const std::string& key_prefix, const std::string& model_dir);

// Downloads a model "_artifact" (UploadModel's answer, read back from the store: checked as
// untrusted) into `dir`, which appears whole or not at all.
Status DownloadModelArtifact(JobObjectStore* objects, const std::string& account, const nlohmann::json& artifact,
                             const std::string& dir);
// Deletes the objects of a model "_artifact" (checked the same way; only under custom-models/ or
// imported-models/): its model was deleted. Tries every file; returns the first failure.
Status DeleteModelArtifact(JobObjectStore* objects, const std::string& account, const nlohmann::json& artifact);

}  // namespace lathe::service
