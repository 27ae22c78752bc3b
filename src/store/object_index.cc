// ObjectIndex (object_index.h): S3's rows in the metadata database. Keys are stored as BLOBs so
// that SQLite compares them with memcmp, which is S3's UTF-8 binary order; a prefix is a range
// [prefix, successor(prefix)) on an index, never LIKE (keys hold '%' and '_').
#include "store/object_index.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "store/blob_store.h"
#include "store/object_index_sql.h"

namespace lathe::store {

// The helpers are this file's own, shared with object_index_uploads.cc.
using namespace index_sql;  // NOLINT

namespace {

constexpr const char* kVersionColumns =
    "bucket, key, version_id, is_latest, delete_marker, blob, size, etag, modified_ms, doc";

// Rows are copied out under the database lock; their JSON is parsed after it.
struct RawVersion {
  ObjectVersion v;
  std::string doc;
};
RawVersion ReadVersion(const Stmt& s) {
  RawVersion r;
  r.v.bucket = s.ColText(0);
  r.v.key = s.ColText(1);
  r.v.version_id = s.ColText(2);
  r.v.is_latest = s.ColInt(3) != 0;
  r.v.delete_marker = s.ColInt(4) != 0;
  r.v.blob = s.ColText(5);
  r.v.size = static_cast<uint64_t>(s.ColInt(6));
  r.v.etag = s.ColText(7);
  r.v.modified_ms = s.ColInt(8);
  r.doc = s.ColText(9);
  return r;
}
std::vector<ObjectVersion> Finish(std::vector<RawVersion> raw) {
  std::vector<ObjectVersion> out;
  out.reserve(raw.size());
  for (auto& r : raw) {
    r.v.doc = Parse(r.doc);
    out.push_back(std::move(r.v));
  }
  return out;
}
// Appends the statement's rows to *out.
Status Collect(Stmt& s, std::vector<RawVersion>* out, const char* what) {
  return ForEachRow(s, what, [out](const Stmt& row) { out->push_back(ReadVersion(row)); });
}

}  // namespace

namespace index_sql {

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json Parse(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

int64_t SqlLimit(size_t limit) {
  return static_cast<int64_t>(std::min<uint64_t>(limit, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
}

std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// std::string compares as unsigned bytes (char_traits<char>), as SQLite compares BLOBs.
KeyRange RangeOf(const std::string& prefix, const std::string& after, bool after_inclusive, int lower_param,
                 int upper_param) {
  KeyRange r;
  const char* op = ">=";
  r.lower = prefix;
  if (!after.empty() && after >= prefix) {
    r.lower = after;
    op = after_inclusive ? ">=" : ">";
  }
  r.sql = std::string(" AND key ") + op + " ?" + std::to_string(lower_param);
  r.upper = PrefixSuccessor(prefix);
  if (r.upper) r.sql += " AND key < ?" + std::to_string(upper_param);
  return r;
}

void BindRange(Stmt& s, const KeyRange& r, int lower_param, int upper_param) {
  s.Blob(lower_param, r.lower);
  if (r.upper) s.Blob(upper_param, *r.upper);
}

Status CheckVersion(const ObjectVersion& v) {
  if (v.bucket.empty() || v.key.empty() || v.version_id.empty())
    return Status::InvalidArgument("an object version needs a bucket, a key and a version id");
  if (v.delete_marker ? !v.blob.empty() : !BlobStore::IsBlobId(v.blob))
    return Status::InvalidArgument("an object version names a blob id, and a delete marker none");
  return Status::Ok();
}

Status Unreferenced(SqlDb& db, std::vector<std::string> candidates, std::vector<std::string>* freed) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (const auto& blob : candidates) {
    if (blob.empty()) continue;
    Stmt s(db, "SELECT CASE WHEN EXISTS (SELECT 1 FROM s3_objects WHERE blob = ?1) OR "
               "EXISTS (SELECT 1 FROM s3_parts WHERE blob = ?1) THEN 1 ELSE 0 END");
    s.Text(1, blob);
    if (s.Step() != SqlQuery::kRow) return s.Error("blob references");
    if (s.ColInt(0) == 0) freed->push_back(blob);
  }
  return Status::Ok();
}

Status PutLocked(SqlDb& db, const ObjectVersion& v, std::vector<std::string>* candidates) {
  {
    Stmt s(db, "SELECT blob FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?");
    s.Text(1, v.bucket).Blob(2, v.key).Text(3, v.version_id);
    const SqlQuery::Outcome rc = s.Step();
    if (rc == SqlQuery::kRow) candidates->push_back(s.ColText(0));
    else if (rc != SqlQuery::kDone) return s.Error("put object");
  }
  {
    Stmt s(db, "DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?");
    s.Text(1, v.bucket).Blob(2, v.key).Text(3, v.version_id);
    LATHE_RETURN_IF_ERROR(s.Run("put object"));
  }
  {
    Stmt s(db, "UPDATE s3_objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1");
    s.Text(1, v.bucket).Blob(2, v.key);
    LATHE_RETURN_IF_ERROR(s.Run("put object"));
  }
  Stmt s(db, std::string("INSERT INTO s3_objects (") + kVersionColumns + ") VALUES (?,?,?,1,?,?,?,?,?,?)");
  s.Text(1, v.bucket).Blob(2, v.key).Text(3, v.version_id).Int(4, v.delete_marker ? 1 : 0).Text(5, v.blob);
  s.Int(6, static_cast<int64_t>(v.size)).Text(7, v.etag).Int(8, v.modified_ms).Text(9, Dump(v.doc));
  return s.Run("put object");
}

}  // namespace index_sql

Result<std::unique_ptr<ObjectIndex>> ObjectIndex::Open(MetadataStore* store) {
  // Its tables were made by MetadataStore::Open's migrations (lathe_db_schema.cc).
  return std::unique_ptr<ObjectIndex>(new ObjectIndex(store));
}

Status ObjectIndex::Put(const ObjectVersion& version, const OutboxEvent* event, std::vector<std::string>* freed) {
  LATHE_RETURN_IF_ERROR(CheckVersion(version));
  std::vector<std::string> now_free;
  std::lock_guard<std::mutex> lock(store_->mu_);
  LATHE_RETURN_IF_ERROR(InSqlTransaction(*store_->sql_, [&] {
    std::vector<std::string> candidates;
    LATHE_RETURN_IF_ERROR(PutLocked(*store_->sql_, version, &candidates));
    if (event) LATHE_RETURN_IF_ERROR(store_->PublishLocked(*event));
    return Unreferenced(*store_->sql_, std::move(candidates), &now_free);
  }));
  // Only once committed: a rolled-back change still refers to these blobs.
  if (freed) freed->insert(freed->end(), now_free.begin(), now_free.end());
  return Status::Ok();
}

Result<ObjectVersion> ObjectIndex::Get(const std::string& bucket, const std::string& key,
                                       const std::string& version_id) {
  std::vector<RawVersion> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    const std::string sql = std::string("SELECT ") + kVersionColumns + " FROM s3_objects WHERE bucket = ? AND key = ? AND " +
                            (version_id.empty() ? "is_latest = 1" : "version_id = ?");
    Stmt s(*store_->sql_, sql);
    s.Text(1, bucket).Blob(2, key);
    if (!version_id.empty()) s.Text(3, version_id);
    LATHE_RETURN_IF_ERROR(Collect(s, &raw, "get object"));
  }
  if (raw.empty())
    return Status::NotFound(version_id.empty() ? "no object " + key + " in bucket " + bucket
                                               : "no version " + version_id + " of " + key + " in bucket " + bucket);
  return std::move(Finish(std::move(raw))[0]);
}

Status ObjectIndex::Remove(const std::string& bucket, const std::string& key, const std::string& version_id,
                           const OutboxEvent* event, std::vector<std::string>* freed) {
  std::vector<std::string> now_free;
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlDb& db = *store_->sql_;
  LATHE_RETURN_IF_ERROR(InSqlTransaction(db, [&]() -> Status {
    int64_t seq = 0;
    bool was_latest = false;
    std::string blob;
    {
      const std::string sql = std::string("SELECT seq, is_latest, blob FROM s3_objects WHERE bucket = ? AND key = ? AND ") +
                              (version_id.empty() ? "is_latest = 1" : "version_id = ?");
      Stmt s(db, sql);
      s.Text(1, bucket).Blob(2, key);
      if (!version_id.empty()) s.Text(3, version_id);
      const SqlQuery::Outcome rc = s.Step();
      if (rc == SqlQuery::kDone) return Status::NotFound("no version " + version_id + " of " + key + " in bucket " + bucket);
      if (rc != SqlQuery::kRow) return s.Error("remove object");
      seq = s.ColInt(0);
      was_latest = s.ColInt(1) != 0;
      blob = s.ColText(2);
    }
    {
      Stmt s(db, "DELETE FROM s3_objects WHERE seq = ?");
      s.Int(1, seq);
      LATHE_RETURN_IF_ERROR(s.Run("remove object"));
    }
    if (was_latest) {
      Stmt s(db,
             "UPDATE s3_objects SET is_latest = 1 WHERE seq = "
             "(SELECT max(seq) FROM s3_objects WHERE bucket = ? AND key = ?)");
      s.Text(1, bucket).Blob(2, key);
      LATHE_RETURN_IF_ERROR(s.Run("remove object"));
    }
    if (event) LATHE_RETURN_IF_ERROR(store_->PublishLocked(*event));
    return Unreferenced(db, {blob}, &now_free);
  }));
  if (freed) freed->insert(freed->end(), now_free.begin(), now_free.end());
  return Status::Ok();
}

Result<std::vector<ObjectVersion>> ObjectIndex::ListLatest(const std::string& bucket, const std::string& prefix,
                                                           const std::string& after, size_t limit) {
  if (limit == 0) return std::vector<ObjectVersion>{};
  std::vector<RawVersion> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    // The WHERE repeats s3_objects_listed's condition word for word, so SQLite scans that index.
    const KeyRange range = RangeOf(prefix, after, /*after_inclusive=*/false, 2, 3);
    Stmt s(*store_->sql_, std::string("SELECT ") + kVersionColumns +
                            " FROM s3_objects WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0" + range.sql +
                            " ORDER BY key LIMIT ?4");
    s.Text(1, bucket);
    BindRange(s, range, 2, 3);
    s.Int(4, SqlLimit(limit));
    LATHE_RETURN_IF_ERROR(Collect(s, &raw, "list objects"));
  }
  return Finish(std::move(raw));
}

Result<std::vector<ObjectVersion>> ObjectIndex::ListVersions(const std::string& bucket, const std::string& prefix,
                                                             const std::string& after_key,
                                                             const std::string& after_version_id, size_t limit) {
  if (limit == 0) return std::vector<ObjectVersion>{};
  std::vector<RawVersion> raw;
  {
    std::lock_guard<std::mutex> lock(store_->mu_);
    SqlDb& db = *store_->sql_;
    bool after_key_inclusive = after_version_id.empty();
    if (!after_version_id.empty() && after_key.compare(0, prefix.size(), prefix) == 0) {
      // The rest of after_key's versions: those older than the marker.
      Stmt s(db, std::string("SELECT ") + kVersionColumns +
                     " FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND seq < "
                     "(SELECT seq FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3) "
                     "ORDER BY seq DESC LIMIT ?4");
      s.Text(1, bucket).Blob(2, after_key).Text(3, after_version_id).Int(4, SqlLimit(limit));
      LATHE_RETURN_IF_ERROR(Collect(s, &raw, "list object versions"));
    }
    if (raw.size() < limit) {
      const KeyRange range = RangeOf(prefix, after_key, after_key_inclusive, 2, 3);
      Stmt s(db, std::string("SELECT ") + kVersionColumns + " FROM s3_objects WHERE bucket = ?1" + range.sql +
                     " ORDER BY key, seq DESC LIMIT ?4");
      s.Text(1, bucket);
      BindRange(s, range, 2, 3);
      s.Int(4, SqlLimit(limit - raw.size()));
      LATHE_RETURN_IF_ERROR(Collect(s, &raw, "list object versions"));
    }
  }
  return Finish(std::move(raw));
}

Result<bool> ObjectIndex::BucketHasContents(const std::string& bucket) {
  std::lock_guard<std::mutex> lock(store_->mu_);
  Stmt s(*store_->sql_,
         "SELECT CASE WHEN EXISTS (SELECT 1 FROM s3_objects WHERE bucket = ?1) OR "
         "EXISTS (SELECT 1 FROM s3_uploads WHERE bucket = ?1) THEN 1 ELSE 0 END");
  s.Text(1, bucket);
  if (s.Step() != SqlQuery::kRow) return s.Error("bucket contents");
  return s.ColInt(0) != 0;
}

}  // namespace lathe::store
