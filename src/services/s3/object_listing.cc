// ListObjects(V2) and ListObjectVersions: the index lists keys in byte order; a delimiter rolls
// every key that holds it (after the prefix) into one common prefix, found once and then skipped
// past in a single step, so a folder of a million keys costs one index query, not a million rows.
#include "aws/wire.h"
#include "services/s3/errors.h"
#include "services/s3/objects.h"

namespace lathe::s3 {
namespace {

// Valid UTF-8 never holds the byte 0xFF, so prefix + "\xff" sorts after every key that starts
// with the prefix and before every key that does not and sorts after it.
std::string PastPrefix(const std::string& prefix) { return prefix + '\xff'; }

// The common prefix `key` rolls into, or "" when it is listed as itself.
std::string CommonPrefixOf(const std::string& key, const std::string& prefix, const std::string& delimiter) {
  if (delimiter.empty()) return {};
  const size_t at = key.find(delimiter, prefix.size());
  if (at == std::string::npos) return {};
  return key.substr(0, at + delimiter.size());
}

// How many rows to ask the index for at once: enough to fill the page and see whether more follow.
size_t Batch(size_t wanted) { return std::min<size_t>(wanted + 1, kMaxListKeys + 1); }

Status CheckListBounds(const std::string& prefix, const std::string& delimiter, size_t max_keys) {
  if (max_keys > kMaxListKeys) return InvalidArgument("max-keys must be between 0 and " + std::to_string(kMaxListKeys));
  if (prefix.size() > kMaxKeyBytes) return KeyTooLong("The prefix is longer than a key may be");
  if (delimiter.size() > kMaxKeyBytes) return InvalidArgument("The delimiter is longer than a key may be");
  return Status::Ok();
}

}  // namespace

Result<ObjectListing> S3Objects::ListObjects(const ListObjectsInput& in) {
  LATHE_RETURN_IF_ERROR(CheckListBounds(in.prefix, in.delimiter, in.max_keys));
  Result<Bucket> bucket = OwnedBucket(Requester{in.account, "", "", ""}, in.bucket);
  if (!bucket.ok()) return bucket.status();
  ObjectListing page;
  if (in.max_keys == 0) return page;
  // The index's position (`after`) and the client's (in.after) part ways once a common prefix
  // has been skipped: the index goes past it, the client's marker stays where it was.
  std::string after = in.after;
  size_t count = 0;
  for (;;) {
    const size_t asked = Batch(in.max_keys - count);
    Result<std::vector<store::ObjectVersion>> batch = index_->ListLatest(in.bucket, in.prefix, after, asked);
    if (!batch.ok()) return InternalError("The object index failed: " + batch.status().message());
    bool skipped = false;
    for (const store::ObjectVersion& v : *batch) {
      const std::string common = CommonPrefixOf(v.key, in.prefix, in.delimiter);
      const bool listed = common.empty() || common > in.after;  // a prefix at or before the marker was listed
      if (listed && count == in.max_keys) {
        page.truncated = true;
        return page;
      }
      if (common.empty()) {
        page.objects.push_back(ObjectFromRow(v));  // ListLatest's rows are the latest versions
        page.last = v.key;
        after = v.key;
        ++count;
        continue;
      }
      if (listed) {
        page.common_prefixes.push_back(common);
        page.last = common;
        ++count;
      }
      after = PastPrefix(common);
      skipped = true;
      break;
    }
    if (!skipped && batch->size() < asked) return page;
  }
}

Result<VersionListing> S3Objects::ListObjectVersions(const ListVersionsInput& in) {
  LATHE_RETURN_IF_ERROR(CheckListBounds(in.prefix, in.delimiter, in.max_keys));
  if (!in.version_id_marker.empty()) {
    if (in.key_marker.empty()) return InvalidArgument("A version-id marker cannot be specified without a key marker.");
    if (!IsVersionId(in.version_id_marker)) return InvalidArgument("Invalid version id specified");
  }
  Result<Bucket> bucket = OwnedBucket(Requester{in.account, "", "", ""}, in.bucket);
  if (!bucket.ok()) return bucket.status();
  VersionListing page;
  if (in.max_keys == 0) return page;
  // Without a version-id marker the listing starts after every version of key-marker; the index
  // starts at its first version, so those are passed over here.
  std::string after_key = in.key_marker, after_version = in.version_id_marker;
  const bool skip_marker_key = !in.key_marker.empty() && in.version_id_marker.empty();
  size_t count = 0;
  for (;;) {
    const size_t asked = Batch(in.max_keys - count);
    Result<std::vector<store::ObjectVersion>> batch =
        index_->ListVersions(in.bucket, in.prefix, after_key, after_version, asked);
    if (!batch.ok()) return InternalError("The object index failed: " + batch.status().message());
    bool skipped = false;
    for (const store::ObjectVersion& v : *batch) {
      after_key = v.key;
      after_version = v.version_id;
      if (skip_marker_key && v.key == in.key_marker) continue;
      const std::string common = CommonPrefixOf(v.key, in.prefix, in.delimiter);
      const bool listed = common.empty() || common > in.key_marker;
      if (listed && count == in.max_keys) {
        page.truncated = true;
        return page;
      }
      if (common.empty()) {
        page.versions.push_back(ObjectFromRow(v));
        page.next_key_marker = v.key;
        page.next_version_id_marker = v.version_id;
        ++count;
        continue;
      }
      if (listed) {
        page.common_prefixes.push_back(common);
        page.next_key_marker = common;
        page.next_version_id_marker.clear();
        ++count;
      }
      after_key = PastPrefix(common);
      after_version.clear();
      skipped = true;
      break;
    }
    if (!skipped && batch->size() < asked) {
      page.next_key_marker.clear();  // only a truncated listing says where to go on
      page.next_version_id_marker.clear();
      return page;
    }
  }
}

}  // namespace lathe::s3
