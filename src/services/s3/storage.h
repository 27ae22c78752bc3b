// S3's storage opened as one: the blob store under a root folder (DATA_DIR/s3), the object index
// in the metadata database, and the bucket and object backends over them. Opening removes what a
// crash left behind (temporary uploads, blobs no row refers to) before anything is served.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "services/s3/backend.h"
#include "services/s3/multipart.h"
#include "services/s3/objects.h"
#include "store/blob_store.h"
#include "store/metadata_store.h"
#include "store/object_index.h"

namespace lathe::s3 {

struct S3Storage {
  std::unique_ptr<store::BlobStore> blobs;
  std::unique_ptr<store::ObjectIndex> index;
  std::unique_ptr<S3Backend> buckets;
  std::unique_ptr<S3Objects> objects;
  std::unique_ptr<S3Multipart> multipart;
  size_t orphans_removed = 0;  // by this start
};

// `metadata` and `env` outlive the storage.
Result<std::unique_ptr<S3Storage>> OpenS3Storage(store::MetadataStore* metadata, Env* env, const std::string& root);

}  // namespace lathe::s3
