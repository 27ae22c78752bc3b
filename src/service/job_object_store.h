// What Bedrock jobs need from lathe's S3 store, and nothing more: S3 lives above this layer
// (src/services/s3), so `lathe serve`'s composition root (src/server) implements this over the
// S3 backend and hands it to the job service. Data flows through local files so that memory
// stays bounded whatever the object's size: implementations stream.
//
// Every call acts as `account`, with S3's rules for it: a bucket another account owns is
// AccessDenied, whatever it holds. Errors are S3's (Status::Aws with its code: NoSuchBucket,
// NoSuchKey, AccessDenied, InternalError...), so a job's failure message can say what S3 said.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "service/s3_uri.h"

namespace lathe::service {

// What S3 says of the object version a Download copied (the model registry's data manifest).
struct ObjectFacts {
  std::string etag;        // unquoted
  std::string version_id;  // "" when the bucket is not versioned (S3 answers no VersionId then)
  uint64_t size = 0;
  int64_t modified_ms = 0;
};

class JobObjectStore {
 public:
  virtual ~JobObjectStore() = default;

  // OK when the bucket exists and `account` owns it.
  virtual Status CheckBucket(const std::string& account, const std::string& bucket) = 0;
  // Copies the object's current bytes to the local file `path`, which appears whole or not at
  // all (a temporary file renamed into place). A later overwrite of the object does not change it.
  // An object over `max_bytes` is refused before a byte is copied (InvalidArgument, no AWS code).
  virtual Status Download(const std::string& account, const S3Uri& object, const std::string& path,
                          uint64_t max_bytes) = 0;
  // Download, also saying which version it copied. A store that cannot tell leaves `facts` empty
  // (the default).
  virtual Status DownloadVersion(const std::string& account, const S3Uri& object, const std::string& path,
                                 uint64_t max_bytes, ObjectFacts* facts) {
    *facts = ObjectFacts{};
    return Download(account, object, path, max_bytes);
  }
  // Stores the local file `path` as the object (replacing any), as a PutObject would: whole or
  // not at all, with the events and metadata a PutObject makes.
  virtual Status Upload(const std::string& account, const std::string& path, const S3Uri& object) = 0;
  // Deletes the object (OK when it is not there). Only the stores a worker writes its artifacts
  // through need it (docs/scale-out.md); the others answer Unsupported.
  virtual Status Delete(const std::string& account, const S3Uri& object) {
    return Status::Unsupported("this store cannot delete " + object.ToString());
  }
};

}  // namespace lathe::service
