// The multipart half of ObjectIndex (object_index.h): uploads, their parts, and completion, which
// turns an upload into an object version in one transaction.
#include <algorithm>
#include <limits>

#include "store/blob_store.h"
#include "store/object_index.h"
#include "store/object_index_sql.h"

namespace lathe::store {

using index_sql::Parse;
using index_sql::Stmt;

namespace {

constexpr int kMaxPartNumber = 10000;  // S3's

struct RawUpload {
  MultipartUpload u;
  std::string doc;
};

Status CollectUploads(Stmt& s, std::vector<RawUpload>* out) {
  SqlQuery::Outcome rc;
  while ((rc = s.Step()) == SqlQuery::kRow) {
    RawUpload r;
    r.u.upload_id = s.ColText(0);
    r.u.bucket = s.ColText(1);
    r.u.key = s.ColText(2);
    r.u.initiated_ms = s.ColInt(3);
    r.doc = s.ColText(4);
    out->push_back(std::move(r));
  }
  return rc == SqlQuery::kDone ? Status::Ok() : s.Error("list multipart uploads");
}

Status NoSuchUpload(const std::string& upload_id) {
  return Status::NotFound("no multipart upload " + upload_id + " (completed, aborted or never created)");
}

// The upload's bucket and key, NotFound when it is gone. Under the lock.
Status FindUpload(SqlDb& db, const std::string& upload_id, std::string* bucket, std::string* key) {
  Stmt s(db, "SELECT bucket, key FROM s3_uploads WHERE upload_id = ?");
  s.Text(1, upload_id);
  const SqlQuery::Outcome rc = s.Step();
  if (rc == SqlQuery::kDone) return NoSuchUpload(upload_id);
  if (rc != SqlQuery::kRow) return s.Error("find multipart upload");
  if (bucket) *bucket = s.ColText(0);
  if (key) *key = s.ColText(1);
  return Status::Ok();
}

// Removes the upload and its parts; their blobs become candidates for freeing.
Status DropUploadLocked(SqlDb& db, const std::string& upload_id, std::vector<std::string>* candidates) {
  {
    Stmt s(db, "SELECT blob FROM s3_parts WHERE upload_id = ?");
    s.Text(1, upload_id);
    SqlQuery::Outcome rc;
    while ((rc = s.Step()) == SqlQuery::kRow) candidates->push_back(s.ColText(0));
    if (rc != SqlQuery::kDone) return s.Error("drop multipart upload");
  }
  Stmt parts(db, "DELETE FROM s3_parts WHERE upload_id = ?");
  parts.Text(1, upload_id);
  LATHE_RETURN_IF_ERROR(parts.Run("drop multipart upload"));
  Stmt upload(db, "DELETE FROM s3_uploads WHERE upload_id = ?");
  upload.Text(1, upload_id);
  return upload.Run("drop multipart upload");
}

}  // namespace

Status ObjectIndex::CreateUpload(const MultipartUpload& upload) {
  if (upload.upload_id.empty() || upload.bucket.empty() || upload.key.empty())
    return Status::InvalidArgument("a multipart upload needs an id, a bucket and a key");
  std::lock_guard<std::mutex> lock(store_->mu_);
  Stmt s(*store_->sql_, "INSERT INTO s3_uploads (upload_id, bucket, key, initiated_ms, doc) VALUES (?,?,?,?,?)");
  s.Text(1, upload.upload_id).Text(2, upload.bucket).Blob(3, upload.key).Int(4, upload.initiated_ms);
  s.Text(5, index_sql::Dump(upload.doc));
  const SqlQuery::Outcome rc = s.Step();
  if (rc == SqlQuery::kConstraint) return Status::AlreadyExists("multipart upload " + upload.upload_id + " already exists");
  return rc == SqlQuery::kDone ? Status::Ok() : s.Error("create multipart upload");
}

Result<MultipartUpload> ObjectIndex::GetUpload(const std::string& upload_id) {
  std::vector<RawUpload> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    Stmt s(*store_->sql_, "SELECT upload_id, bucket, key, initiated_ms, doc FROM s3_uploads WHERE upload_id = ?");
    s.Text(1, upload_id);
    LATHE_RETURN_IF_ERROR(CollectUploads(s, &raw));
  }
  if (raw.empty()) return NoSuchUpload(upload_id);
  raw[0].u.doc = Parse(raw[0].doc);
  return std::move(raw[0].u);
}

Result<std::vector<MultipartUpload>> ObjectIndex::ListUploads(const std::string& bucket, const std::string& prefix,
                                                              const std::string& after_key,
                                                              const std::string& after_upload_id, size_t limit) {
  if (limit == 0) return std::vector<MultipartUpload>{};
  std::vector<RawUpload> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    SqlDb& db = *store_->sql_;
    if (!after_upload_id.empty() && after_key.compare(0, prefix.size(), prefix) == 0) {
      // after_key's uploads initiated after the marker (ties broken by id, as the index orders).
      Stmt s(db,
             "SELECT upload_id, bucket, key, initiated_ms, doc FROM s3_uploads WHERE bucket = ?1 AND key = ?2 AND "
             "(initiated_ms, upload_id) > (SELECT initiated_ms, upload_id FROM s3_uploads WHERE upload_id = ?3 "
             "AND bucket = ?1 AND key = ?2) ORDER BY initiated_ms, upload_id LIMIT ?4");
      s.Text(1, bucket).Blob(2, after_key).Text(3, after_upload_id).Int(4, index_sql::SqlLimit(limit));
      LATHE_RETURN_IF_ERROR(CollectUploads(s, &raw));
    }
    if (raw.size() < limit) {
      const auto range = index_sql::RangeOf(prefix, after_key, /*after_inclusive=*/after_upload_id.empty(), 2, 3);
      Stmt s(db, "SELECT upload_id, bucket, key, initiated_ms, doc FROM s3_uploads WHERE bucket = ?1" + range.sql +
                     " ORDER BY key, initiated_ms, upload_id LIMIT ?4");
      s.Text(1, bucket);
      index_sql::BindRange(s, range, 2, 3);
      s.Int(4, index_sql::SqlLimit(limit - raw.size()));
      LATHE_RETURN_IF_ERROR(CollectUploads(s, &raw));
    }
  }
  std::vector<MultipartUpload> out;
  out.reserve(raw.size());
  for (auto& r : raw) {
    r.u.doc = Parse(r.doc);
    out.push_back(std::move(r.u));
  }
  return out;
}

Status ObjectIndex::PutPart(const UploadPart& part, std::vector<std::string>* freed) {
  if (part.part_number < 1 || part.part_number > kMaxPartNumber)
    return Status::InvalidArgument("part numbers are 1 to 10000, not " + std::to_string(part.part_number));
  if (!BlobStore::IsBlobId(part.blob)) return Status::InvalidArgument("a part names a blob id");
  std::vector<std::string> now_free;
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlDb& db = *store_->sql_;
  LATHE_RETURN_IF_ERROR(InSqlTransaction(db, [&]() -> Status {
    LATHE_RETURN_IF_ERROR(FindUpload(db, part.upload_id, nullptr, nullptr));
    std::vector<std::string> candidates;
    {
      Stmt s(db, "SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?");
      s.Text(1, part.upload_id).Int(2, part.part_number);
      const SqlQuery::Outcome rc = s.Step();
      if (rc == SqlQuery::kRow) candidates.push_back(s.ColText(0));
      else if (rc != SqlQuery::kDone) return s.Error("put part");
    }
    Stmt s(db,
           "INSERT INTO s3_parts (upload_id, part_number, blob, size, etag, modified_ms, doc) "
           "VALUES (?,?,?,?,?,?,?) ON CONFLICT (upload_id, part_number) DO UPDATE SET blob = excluded.blob, "
           "size = excluded.size, etag = excluded.etag, modified_ms = excluded.modified_ms, doc = excluded.doc");
    s.Text(1, part.upload_id).Int(2, part.part_number).Text(3, part.blob).Int(4, static_cast<int64_t>(part.size));
    s.Text(5, part.etag).Int(6, part.modified_ms).Text(7, index_sql::Dump(part.doc));
    LATHE_RETURN_IF_ERROR(s.Run("put part"));
    return index_sql::Unreferenced(db, std::move(candidates), &now_free);
  }));
  if (freed) freed->insert(freed->end(), now_free.begin(), now_free.end());
  return Status::Ok();
}

Result<std::vector<UploadPart>> ObjectIndex::ListParts(const std::string& upload_id, int after_part, size_t limit) {
  struct RawPart {
    UploadPart p;
    std::string doc;
  };
  std::vector<RawPart> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    LATHE_RETURN_IF_ERROR(FindUpload(*store_->sql_, upload_id, nullptr, nullptr));
    if (limit == 0) return std::vector<UploadPart>{};
    Stmt s(*store_->sql_,
           "SELECT upload_id, part_number, blob, size, etag, modified_ms, doc FROM s3_parts "
           "WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?");
    s.Text(1, upload_id).Int(2, after_part).Int(3, index_sql::SqlLimit(limit));
    SqlQuery::Outcome rc;
    while ((rc = s.Step()) == SqlQuery::kRow) {
      RawPart r;
      r.p.upload_id = s.ColText(0);
      r.p.part_number = static_cast<int>(s.ColInt(1));
      r.p.blob = s.ColText(2);
      r.p.size = static_cast<uint64_t>(s.ColInt(3));
      r.p.etag = s.ColText(4);
      r.p.modified_ms = s.ColInt(5);
      r.doc = s.ColText(6);
      raw.push_back(std::move(r));
    }
    if (rc != SqlQuery::kDone) return s.Error("list parts");
  }
  std::vector<UploadPart> out;
  out.reserve(raw.size());
  for (auto& r : raw) {
    r.p.doc = Parse(r.doc);
    out.push_back(std::move(r.p));
  }
  return out;
}

Status ObjectIndex::CompleteUpload(const std::string& upload_id, const ObjectVersion& version,
                                   const OutboxEvent* event, std::vector<std::string>* freed) {
  LATHE_RETURN_IF_ERROR(index_sql::CheckVersion(version));
  std::vector<std::string> now_free;
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlDb& db = *store_->sql_;
  LATHE_RETURN_IF_ERROR(InSqlTransaction(db, [&]() -> Status {
    std::string bucket, key;
    LATHE_RETURN_IF_ERROR(FindUpload(db, upload_id, &bucket, &key));
    if (bucket != version.bucket || key != version.key)
      return Status::InvalidArgument("multipart upload " + upload_id + " is for " + bucket + "/" + key +
                                     ", not " + version.bucket + "/" + version.key);
    std::vector<std::string> candidates;
    LATHE_RETURN_IF_ERROR(DropUploadLocked(db, upload_id, &candidates));
    LATHE_RETURN_IF_ERROR(index_sql::PutLocked(db, version, &candidates));
    if (event) LATHE_RETURN_IF_ERROR(store_->PublishLocked(*event));
    return index_sql::Unreferenced(db, std::move(candidates), &now_free);
  }));
  if (freed) freed->insert(freed->end(), now_free.begin(), now_free.end());
  return Status::Ok();
}

Status ObjectIndex::AbortUpload(const std::string& upload_id, std::vector<std::string>* freed) {
  std::vector<std::string> now_free;
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlDb& db = *store_->sql_;
  LATHE_RETURN_IF_ERROR(InSqlTransaction(db, [&]() -> Status {
    LATHE_RETURN_IF_ERROR(FindUpload(db, upload_id, nullptr, nullptr));
    std::vector<std::string> candidates;
    LATHE_RETURN_IF_ERROR(DropUploadLocked(db, upload_id, &candidates));
    return index_sql::Unreferenced(db, std::move(candidates), &now_free);
  }));
  if (freed) freed->insert(freed->end(), now_free.begin(), now_free.end());
  return Status::Ok();
}

Result<std::set<std::string>> ObjectIndex::LiveBlobs() {
  std::lock_guard<std::mutex> lock(store_->mu_);
  Stmt s(*store_->sql_, "SELECT blob FROM s3_objects WHERE blob != '' UNION SELECT blob FROM s3_parts");
  std::set<std::string> live;
  SqlQuery::Outcome rc;
  while ((rc = s.Step()) == SqlQuery::kRow) live.insert(s.ColText(0));
  if (rc != SqlQuery::kDone) return s.Error("live blobs");
  return live;
}

}  // namespace lathe::store
