// Where /v1/files keeps the bytes of uploaded files: lathe's S3 store, in one bucket of the
// account, so that fine-tuning jobs read them as s3:// URIs exactly as jobs created through
// Bedrock's API read theirs. The S3 service sits beside this one, so `lathe serve` wires an
// implementation in (server/openai_file_objects.h); tests use one in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::openai {

class FileObjects {
 public:
  virtual ~FileObjects() = default;
  // Stores the bytes under `key` (creating the account's files bucket on first use).
  virtual Status Put(const std::string& account, const std::string& key, std::string_view bytes) = 0;
  // An object's bytes (the files bucket's, or a job's output in any bucket the account owns);
  // InvalidArgument when it holds more than max_bytes.
  virtual Status Get(const std::string& account, const std::string& bucket, const std::string& key,
                     uint64_t max_bytes, std::string* bytes) = 0;
  virtual Status Delete(const std::string& account, const std::string& key) = 0;
  // The account's files bucket.
  virtual std::string Bucket(const std::string& account) const = 0;
  // "s3://<bucket>/<key>": what a job's trainingDataConfig names.
  std::string Uri(const std::string& account, const std::string& key) const {
    return "s3://" + Bucket(account) + "/" + key;
  }
};

}  // namespace lathe::openai
