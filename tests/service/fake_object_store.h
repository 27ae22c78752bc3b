// S3 for the service tests, in memory (no sockets): JobObjectStore's calls with S3's answers.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/env.h"
#include "service/job_object_store.h"

namespace lathe::service {

// S3's answers for buckets and objects, in memory: who owns which bucket, what each key holds.
class FakeObjectStore : public JobObjectStore {
 public:
  std::map<std::string, std::string> owners;                           // bucket -> account
  std::map<std::pair<std::string, std::string>, std::string> objects;  // (bucket, key) -> bytes
  int uploads_before_failure = -1;                                     // -1: never fail
  std::recursive_mutex mu;  // workers upload from threads of their own; tests read under it

  Status CheckBucket(const std::string& account, const std::string& bucket) override {
    std::lock_guard<std::recursive_mutex> lock(mu);
    auto it = owners.find(bucket);
    if (it == owners.end()) return Status::Aws("NoSuchBucket", 404, "The specified bucket does not exist", Status::Code::kNotFound);
    if (it->second != account) return Status::Aws("AccessDenied", 403, "Access Denied");
    return Status::Ok();
  }
  Status Download(const std::string& account, const S3Uri& object, const std::string& path,
                  uint64_t max_bytes) override {
    std::lock_guard<std::recursive_mutex> lock(mu);
    LATHE_RETURN_IF_ERROR(CheckBucket(account, object.bucket));
    auto it = objects.find({object.bucket, object.key});
    if (it == objects.end()) return Status::Aws("NoSuchKey", 404, "The specified key does not exist.", Status::Code::kNotFound);
    if (it->second.size() > max_bytes) return Status::InvalidArgument(object.ToString() + " is too large");
    return WriteFileAtomically(Env::Default(), path, it->second);
  }
  Status Upload(const std::string& account, const std::string& path, const S3Uri& object) override {
    std::lock_guard<std::recursive_mutex> lock(mu);
    LATHE_RETURN_IF_ERROR(CheckBucket(account, object.bucket));
    if (uploads_before_failure == 0) return Status::Aws("InternalError", 500, "disk full", Status::Code::kInternal);
    if (uploads_before_failure > 0) --uploads_before_failure;
    std::string bytes;
    LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), path, &bytes));
    objects[{object.bucket, object.key}] = bytes;
    return Status::Ok();
  }
  Status Delete(const std::string& account, const S3Uri& object) override {
    std::lock_guard<std::recursive_mutex> lock(mu);
    LATHE_RETURN_IF_ERROR(CheckBucket(account, object.bucket));
    objects.erase({object.bucket, object.key});
    return Status::Ok();
  }
};

}  // namespace lathe::service
