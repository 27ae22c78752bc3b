// S3's semantics without a wire format. So far buckets: one namespace shared by every account
// (as in AWS), each bucket owned by an account and living in a region, persisted in the metadata
// store (kind "s3-bucket", one row per bucket named by the bucket) so buckets survive a restart.
// Objects live in objects.h; DeleteBucket asks them (set_contents_check) whether it may go.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::s3 {

// S3's default quota of general purpose buckets per account.
inline constexpr size_t kMaxBucketsPerAccount = 10000;
inline constexpr size_t kMaxListBuckets = 10000;  // ListBuckets' max-buckets, as AWS bounds it

struct Bucket {
  std::string name;
  std::string account;  // the owner
  std::string region;   // where it lives: the request's region or its LocationConstraint
  int64_t created_ms = 0;
  // S3's versioning state: "" (never enabled), "Enabled" or "Suspended" (never back to "").
  std::string versioning;
  // Put/GetBucketNotificationConfiguration's document (notifications.h), {} when none was set.
  nlohmann::json notifications = nlohmann::json::object();
};

struct CreateBucketInput {
  std::string account;
  std::string name;
  std::string request_region;  // the SigV4 scope's region: S3's "endpoint" region
  std::optional<std::string> location_constraint;  // CreateBucketConfiguration/LocationConstraint
};

struct ListBucketsInput {
  std::string account;
  std::string prefix;              // only names starting with it
  std::string bucket_region;       // only buckets in this region; "" = all
  std::string continuation_token;  // from the previous page; "" = from the start
  size_t max_buckets = kMaxListBuckets;
};

struct BucketPage {
  std::vector<Bucket> buckets;      // by name
  std::string continuation_token;   // "" on the last page
};

class S3Backend {
 public:
  // `store` outlives the backend.
  explicit S3Backend(store::MetadataStore* store, size_t max_buckets_per_account = kMaxBucketsPerAccount)
      : store_(store), max_buckets_per_account_(max_buckets_per_account) {}

  // S3's location rules: a request to us-east-1 may name any other region (never us-east-1
  // itself: InvalidLocationConstraint) or none; a request to another region must name exactly
  // that region (IllegalLocationConstraintException). Creating a bucket you already own is
  // BucketAlreadyOwnedByYou, except that us-east-1 answers success for a us-east-1 bucket (AWS's
  // legacy behaviour); another account's bucket is BucketAlreadyExists.
  Result<Bucket> CreateBucket(const CreateBucketInput& input);
  // NoSuchBucket when absent; AccessDenied when another account owns it.
  Result<Bucket> GetBucket(const std::string& account, const std::string& name);
  Result<BucketPage> ListBuckets(const ListBucketsInput& input);
  // BucketNotEmpty while the contents check says it holds objects.
  Status DeleteBucket(const std::string& account, const std::string& name);

  // PutBucketVersioning: "Enabled" or "Suspended".
  Status SetVersioning(const std::string& account, const std::string& name, const std::string& state);
  // PutBucketNotificationConfiguration: `config` as NotificationConfigurationToJson writes it.
  Status SetNotifications(const std::string& account, const std::string& name, const nlohmann::json& config);

  // Whether a bucket holds anything (objects, uploads in progress); set by the object store.
  using ContentsCheck = std::function<Result<bool>(const std::string& bucket)>;
  void set_contents_check(ContentsCheck check) { contents_check_ = std::move(check); }

 private:
  Result<Bucket> FindOwned(const std::string& account, const std::string& name);
  // Replaces one member of the bucket's stored document.
  Status SetDocMember(const std::string& account, const std::string& name, const char* member,
                      const nlohmann::json& value);

  store::MetadataStore* store_;
  size_t max_buckets_per_account_;
  ContentsCheck contents_check_;
  std::mutex mu_;  // check-then-write steps (quota, delete) are one step
};

}  // namespace lathe::s3
