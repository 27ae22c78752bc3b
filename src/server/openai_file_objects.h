// /v1/files' bytes in lathe's S3 store (openai::FileObjects): bucket "lathe-openai-files-<account>",
// created on first upload, objects written and read through the jobs' view of S3 (the same
// events and rules as PutObject), so a fine-tuning job reads them as it reads any s3:// data.
#pragma once

#include <string>

#include "core/env.h"
#include "service/job_object_store.h"
#include "services/openai/file_objects.h"
#include "services/s3/backend.h"
#include "services/s3/objects.h"

namespace lathe::server {

class S3OpenAIFileObjects : public openai::FileObjects {
 public:
  // All outlive this; `scratch` is a folder for the temporary files the transfers go through.
  S3OpenAIFileObjects(Env* env, s3::S3Backend* buckets, s3::S3Objects* objects, service::JobObjectStore* jobs,
                      std::string region, std::string scratch)
      : env_(env), buckets_(buckets), objects_(objects), jobs_(jobs), region_(std::move(region)),
        scratch_(std::move(scratch)) {}

  Status Put(const std::string& account, const std::string& key, std::string_view bytes) override;
  Status Get(const std::string& account, const std::string& bucket, const std::string& key, uint64_t max_bytes,
             std::string* bytes) override;
  Status Delete(const std::string& account, const std::string& key) override;
  std::string Bucket(const std::string& account) const override { return "lathe-openai-files-" + account; }

 private:
  std::string ScratchFile() const;

  Env* env_;
  s3::S3Backend* buckets_;
  s3::S3Objects* objects_;
  service::JobObjectStore* jobs_;
  std::string region_, scratch_;
};

}  // namespace lathe::server
