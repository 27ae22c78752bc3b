// The jobs' object store when some buckets live in another S3-compatible service (the config's
// "externalBuckets", service/external_buckets.h): calls on those buckets go to that service through
// aws::S3Client, all others to lathe's own store. Fine-tuning and evaluation jobs (and Step
// Functions' built-ins) then read their data from, and write their outputs to, a bucket every node
// of a scale-out setup shares.
//
// For an external bucket the configured keys decide what may be done, not the job's account: the
// remote service knows nothing of lathe's accounts (docs/scale-out.md). Its errors come back as S3
// said them (Status::Aws with its code), so a job's failureMessage names SignatureDoesNotMatch,
// NoSuchBucket, ... as the remote answered.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "aws/s3_client.h"
#include "service/external_buckets.h"
#include "service/job_object_store.h"

namespace lathe::server {

class ExternalJobObjectStore : public service::JobObjectStore {
 public:
  ExternalJobObjectStore(std::unique_ptr<service::JobObjectStore> local,
                         const std::map<std::string, service::ExternalBucket>& buckets);

  Status CheckBucket(const std::string& account, const std::string& bucket) override;
  Status Download(const std::string& account, const service::S3Uri& object, const std::string& path,
                  uint64_t max_bytes) override;
  Status DownloadVersion(const std::string& account, const service::S3Uri& object, const std::string& path,
                         uint64_t max_bytes, service::ObjectFacts* facts) override;
  Status Upload(const std::string& account, const std::string& path, const service::S3Uri& object) override;
  Status Delete(const std::string& account, const service::S3Uri& object) override;

 private:
  // The client for `bucket`, or null when lathe's own store holds it.
  aws::S3Client* ClientFor(const std::string& bucket) const;

  std::unique_ptr<service::JobObjectStore> local_;
  std::map<std::string, std::unique_ptr<aws::S3Client>> clients_;
};

// A worker's object store (`lathe worker --object-store URL`, docs/scale-out.md): every bucket
// lives in one S3-compatible service, usually the API node's own `lathe serve`. The keys decide
// what may be done there: `account` is not the remote's business.
class RemoteJobObjectStore : public service::JobObjectStore {
 public:
  explicit RemoteJobObjectStore(aws::S3Endpoint endpoint) : client_(std::move(endpoint)) {}

  Status CheckBucket(const std::string& account, const std::string& bucket) override;
  Status Download(const std::string& account, const service::S3Uri& object, const std::string& path,
                  uint64_t max_bytes) override;
  Status DownloadVersion(const std::string& account, const service::S3Uri& object, const std::string& path,
                         uint64_t max_bytes, service::ObjectFacts* facts) override;
  Status Upload(const std::string& account, const std::string& path, const service::S3Uri& object) override;
  Status Delete(const std::string& account, const service::S3Uri& object) override;

 private:
  aws::S3Client client_;
};

// What S3 needs to reach one configured bucket.
aws::S3Endpoint EndpointOf(const service::ExternalBucket& bucket);

// `local` as it is when no bucket is external, else wrapped in an ExternalJobObjectStore.
std::unique_ptr<service::JobObjectStore> WithExternalBuckets(
    std::unique_ptr<service::JobObjectStore> local, const std::map<std::string, service::ExternalBucket>& buckets);

}  // namespace lathe::server
