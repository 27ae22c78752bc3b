// The Bedrock jobs' view of lathe's S3 store (service::JobObjectStore) over the S3 backend: the
// same ownership rules, the same objects and events as S3's own operations, bytes streamed in
// 1 MiB pieces between the store and local files (memory bounded whatever the object's size).
#pragma once

#include <string>

#include "core/env.h"
#include "service/job_object_store.h"
#include "services/s3/backend.h"
#include "services/s3/objects.h"

namespace lathe::server {

// The Content-Type jobs' artifacts are stored with (.csv, .json); "" for the rest
// (binary/octet-stream), whichever S3 holds them.
std::string JobArtifactContentType(const std::string& key);

class S3JobObjectStore : public service::JobObjectStore {
 public:
  // All outlive this.
  S3JobObjectStore(Env* env, s3::S3Backend* buckets, s3::S3Objects* objects)
      : env_(env), buckets_(buckets), objects_(objects) {}

  Status CheckBucket(const std::string& account, const std::string& bucket) override;
  Status Download(const std::string& account, const service::S3Uri& object, const std::string& path,
                  uint64_t max_bytes) override;
  Status DownloadVersion(const std::string& account, const service::S3Uri& object, const std::string& path,
                         uint64_t max_bytes, service::ObjectFacts* facts) override;
  Status Upload(const std::string& account, const std::string& path, const service::S3Uri& object) override;

 private:
  // Who asks, as the S3 operations name a requester: the account, in its bucket's region.
  Result<s3::Requester> RequesterFor(const std::string& account, const std::string& bucket);

  Env* env_;
  s3::S3Backend* buckets_;
  s3::S3Objects* objects_;
};

}  // namespace lathe::server
