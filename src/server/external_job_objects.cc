#include "server/external_job_objects.h"

#include "server/job_object_store.h"

namespace lathe::server {

aws::S3Endpoint EndpointOf(const service::ExternalBucket& bucket) {
  aws::S3Endpoint endpoint;
  endpoint.url = bucket.endpoint;
  endpoint.region = bucket.region;
  endpoint.credentials = api::Credentials{bucket.access_key_id, bucket.secret_access_key};
  endpoint.path_style = bucket.path_style;
  endpoint.ca_bundle = bucket.ca_bundle;
  return endpoint;
}

ExternalJobObjectStore::ExternalJobObjectStore(std::unique_ptr<service::JobObjectStore> local,
                                               const std::map<std::string, service::ExternalBucket>& buckets)
    : local_(std::move(local)) {
  for (const auto& entry : buckets) clients_[entry.first] = std::make_unique<aws::S3Client>(EndpointOf(entry.second));
}

aws::S3Client* ExternalJobObjectStore::ClientFor(const std::string& bucket) const {
  auto it = clients_.find(bucket);
  return it == clients_.end() ? nullptr : it->second.get();
}

Status ExternalJobObjectStore::CheckBucket(const std::string& account, const std::string& bucket) {
  if (aws::S3Client* client = ClientFor(bucket)) return client->HeadBucket(bucket);
  return local_->CheckBucket(account, bucket);
}

Status ExternalJobObjectStore::Download(const std::string& account, const service::S3Uri& object,
                                        const std::string& path, uint64_t max_bytes) {
  if (aws::S3Client* client = ClientFor(object.bucket)) return client->GetObject(object.bucket, object.key, path, max_bytes);
  return local_->Download(account, object, path, max_bytes);
}

Status ExternalJobObjectStore::DownloadVersion(const std::string& account, const service::S3Uri& object,
                                               const std::string& path, uint64_t max_bytes,
                                               service::ObjectFacts* facts) {
  aws::S3Client* client = ClientFor(object.bucket);
  if (client == nullptr) return local_->DownloadVersion(account, object, path, max_bytes, facts);
  aws::S3ObjectHead head;
  LATHE_RETURN_IF_ERROR(client->GetObject(object.bucket, object.key, path, max_bytes, &head));
  *facts = service::ObjectFacts{head.etag, head.version_id, head.size, head.modified_ms};
  return Status::Ok();
}

Status ExternalJobObjectStore::Upload(const std::string& account, const std::string& path,
                                      const service::S3Uri& object) {
  if (aws::S3Client* client = ClientFor(object.bucket))
    return client->PutObject(path, object.bucket, object.key, JobArtifactContentType(object.key));
  return local_->Upload(account, path, object);
}

std::unique_ptr<service::JobObjectStore> WithExternalBuckets(
    std::unique_ptr<service::JobObjectStore> local, const std::map<std::string, service::ExternalBucket>& buckets) {
  if (buckets.empty()) return local;
  return std::make_unique<ExternalJobObjectStore>(std::move(local), buckets);
}

}  // namespace lathe::server
