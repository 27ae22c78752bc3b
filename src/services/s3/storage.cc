#include "services/s3/storage.h"

#include "services/s3/notifications.h"

namespace lathe::s3 {

Result<std::unique_ptr<S3Storage>> OpenS3Storage(store::MetadataStore* metadata, Env* env, const std::string& root) {
  auto s = std::make_unique<S3Storage>();
  Result<std::unique_ptr<store::BlobStore>> blobs = store::BlobStore::Open(env, root);
  if (!blobs.ok()) return blobs.status();
  s->blobs = std::move(*blobs);
  Result<std::unique_ptr<store::ObjectIndex>> index = store::ObjectIndex::Open(metadata);
  if (!index.ok()) return index.status();
  s->index = std::move(*index);
  s->buckets = std::make_unique<S3Backend>(metadata);
  s->objects = std::make_unique<S3Objects>(s->buckets.get(), s->index.get(), s->blobs.get());
  // Object changes become EventBridge events when the bucket's notifications say so.
  s->objects->set_event_bridge_check(
      [](const Bucket& bucket) { return NotificationConfigurationFromJson(bucket.notifications).eventbridge; });
  s->multipart = std::make_unique<S3Multipart>(s->objects.get(), s->index.get(), s->blobs.get());
  Result<size_t> removed = s->objects->RemoveOrphanBlobs();
  if (!removed.ok()) return removed.status();
  s->orphans_removed = *removed;
  return s;
}

}  // namespace lathe::s3
