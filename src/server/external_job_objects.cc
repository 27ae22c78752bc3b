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

namespace {

// The JobObjectStore calls on one S3 service.
Status DownloadFrom(aws::S3Client& client, const service::S3Uri& object, const std::string& path, uint64_t max_bytes,
                    service::ObjectFacts* facts) {
  aws::S3ObjectHead head;
  LATHE_RETURN_IF_ERROR(client.GetObject(object.bucket, object.key, path, max_bytes, &head));
  if (facts) *facts = service::ObjectFacts{head.etag, head.version_id, head.size, head.modified_ms};
  return Status::Ok();
}

Status UploadTo(aws::S3Client& client, const std::string& path, const service::S3Uri& object) {
  return client.PutObject(path, object.bucket, object.key, JobArtifactContentType(object.key));
}

}  // namespace

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
  if (aws::S3Client* client = ClientFor(object.bucket)) return DownloadFrom(*client, object, path, max_bytes, nullptr);
  return local_->Download(account, object, path, max_bytes);
}

Status ExternalJobObjectStore::DownloadVersion(const std::string& account, const service::S3Uri& object,
                                               const std::string& path, uint64_t max_bytes,
                                               service::ObjectFacts* facts) {
  if (aws::S3Client* client = ClientFor(object.bucket)) return DownloadFrom(*client, object, path, max_bytes, facts);
  return local_->DownloadVersion(account, object, path, max_bytes, facts);
}

Status ExternalJobObjectStore::Upload(const std::string& account, const std::string& path,
                                      const service::S3Uri& object) {
  if (aws::S3Client* client = ClientFor(object.bucket)) return UploadTo(*client, path, object);
  return local_->Upload(account, path, object);
}

Status ExternalJobObjectStore::Delete(const std::string& account, const service::S3Uri& object) {
  if (aws::S3Client* client = ClientFor(object.bucket)) return client->DeleteObject(object.bucket, object.key);
  return local_->Delete(account, object);
}

Status RemoteJobObjectStore::CheckBucket(const std::string&, const std::string& bucket) {
  return client_.HeadBucket(bucket);
}

Status RemoteJobObjectStore::Download(const std::string&, const service::S3Uri& object, const std::string& path,
                                      uint64_t max_bytes) {
  return DownloadFrom(client_, object, path, max_bytes, nullptr);
}

Status RemoteJobObjectStore::DownloadVersion(const std::string&, const service::S3Uri& object,
                                             const std::string& path, uint64_t max_bytes,
                                             service::ObjectFacts* facts) {
  return DownloadFrom(client_, object, path, max_bytes, facts);
}

Status RemoteJobObjectStore::Upload(const std::string&, const std::string& path, const service::S3Uri& object) {
  return UploadTo(client_, path, object);
}

Status RemoteJobObjectStore::Delete(const std::string&, const service::S3Uri& object) {
  return client_.DeleteObject(object.bucket, object.key);
}

std::unique_ptr<service::JobObjectStore> WithExternalBuckets(
    std::unique_ptr<service::JobObjectStore> local, const std::map<std::string, service::ExternalBucket>& buckets) {
  if (buckets.empty()) return local;
  return std::make_unique<ExternalJobObjectStore>(std::move(local), buckets);
}

}  // namespace lathe::server
