#include "services/s3/backend.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "aws/wire.h"
#include "core/arn.h"
#include "services/s3/errors.h"
#include "services/s3/names.h"

namespace lathe::s3 {
namespace {

using nlohmann::json;
constexpr char kBucketKind[] = "s3-bucket";
constexpr char kUsEast1[] = "us-east-1";

Result<Bucket> FromRow(const store::ResourceRow& row) {
  try {
    Bucket b;
    b.name = row.name;
    b.account = row.doc.at("account").get<std::string>();
    b.region = row.doc.at("region").get<std::string>();
    b.created_ms = row.created_ms;
    b.versioning = row.doc.value("versioning", "");
    b.notifications = row.doc.value("notifications", json::object());
    return b;
  } catch (const json::exception& e) {
    return InternalError("The stored bucket " + row.name + " is unreadable: " + e.what());
  }
}

// The region the bucket will live in, by S3's rules for the request's region.
Result<std::string> BucketRegion(const CreateBucketInput& in) {
  const std::optional<std::string>& constraint = in.location_constraint;
  if (constraint && !IsRegionName(*constraint))
    return InvalidLocationConstraint("The specified location-constraint is not valid: '" +
                                     aws::Printable(*constraint, 64) + "' is not a region name");
  if (in.request_region == kUsEast1) {
    // us-east-1 is the default: naming it is refused, as S3 does.
    if (constraint && *constraint == kUsEast1) return InvalidLocationConstraint();
    return constraint ? *constraint : std::string(kUsEast1);
  }
  if (!constraint)
    return IllegalLocationConstraint(
        "The unspecified location constraint is incompatible for the region specific endpoint this request was "
        "sent to.");
  if (*constraint != in.request_region)
    return IllegalLocationConstraint("The " + *constraint +
                                     " location constraint is incompatible for the region specific endpoint this "
                                     "request was sent to.");
  return *constraint;
}

}  // namespace

Result<Bucket> S3Backend::FindOwned(const std::string& account, const std::string& name) {
  LATHE_RETURN_IF_ERROR(ValidateBucketName(name));
  Result<store::ResourceRow> row = store_->Find(kBucketKind, name);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return NoSuchBucket();
    return InternalError(row.status().message());
  }
  Result<Bucket> bucket = FromRow(*row);
  if (!bucket.ok()) return bucket.status();
  if (bucket->account != account) return AccessDenied();
  return bucket;
}

Result<Bucket> S3Backend::CreateBucket(const CreateBucketInput& in) {
  LATHE_RETURN_IF_ERROR(ValidateBucketName(in.name));
  Result<std::string> region = BucketRegion(in);
  if (!region.ok()) return region.status();

  std::lock_guard<std::mutex> lock(mu_);
  if (Result<store::ResourceRow> existing = store_->Find(kBucketKind, in.name); existing.ok()) {
    Result<Bucket> owned = FromRow(*existing);
    if (!owned.ok()) return owned.status();
    if (owned->account != in.account) return BucketAlreadyExists();
    if (owned->region == kUsEast1 && in.request_region == kUsEast1) return owned;  // AWS's legacy
    return BucketAlreadyOwnedByYou();
  } else if (existing.status().code() != Status::Code::kNotFound) {
    return InternalError(existing.status().message());
  }

  store::MetadataStore::ListFilter mine;
  mine.doc_equals["account"] = in.account;
  Result<std::vector<store::ResourceRow>> rows = store_->List(kBucketKind, mine);
  if (!rows.ok()) return InternalError(rows.status().message());
  if (rows->size() >= max_buckets_per_account_)
    return TooManyBuckets("You have attempted to create more buckets than allowed (" +
                          std::to_string(max_buckets_per_account_) + " per account)");

  Bucket bucket{in.name, in.account, *region, NowMillis()};
  store::ResourceRow row;
  row.kind = kBucketKind;
  row.id = bucket.name;
  row.name = bucket.name;
  row.arn = "arn:aws:s3:::" + bucket.name;
  row.status = "active";
  row.created_ms = bucket.created_ms;
  row.doc = {{"account", bucket.account}, {"region", bucket.region}};
  Status s = store_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists) return BucketAlreadyOwnedByYou();  // cannot race: under mu_
  if (!s.ok()) return InternalError(s.message());
  return bucket;
}

Result<Bucket> S3Backend::GetBucket(const std::string& account, const std::string& name) {
  return FindOwned(account, name);
}

Result<BucketPage> S3Backend::ListBuckets(const ListBucketsInput& in) {
  if (in.max_buckets < 1 || in.max_buckets > kMaxListBuckets)
    return InvalidArgument("max-buckets must be between 1 and " + std::to_string(kMaxListBuckets));
  store::MetadataStore::ListFilter mine;
  mine.doc_equals["account"] = in.account;
  if (!in.bucket_region.empty()) mine.doc_equals["region"] = in.bucket_region;
  Result<std::vector<store::ResourceRow>> rows = store_->List(kBucketKind, mine);
  if (!rows.ok()) return InternalError(rows.status().message());
  std::vector<Bucket> all;
  for (const store::ResourceRow& row : *rows) {
    if (row.name.compare(0, in.prefix.size(), in.prefix) != 0) continue;
    // The token is the last name of the previous page: names sort, so the next page is after it.
    if (!in.continuation_token.empty() && row.name <= in.continuation_token) continue;
    Result<Bucket> b = FromRow(row);
    if (!b.ok()) return b.status();
    all.push_back(std::move(*b));
  }
  std::sort(all.begin(), all.end(), [](const Bucket& a, const Bucket& b) { return a.name < b.name; });
  BucketPage page;
  if (all.size() > in.max_buckets) {
    all.resize(in.max_buckets);
    page.continuation_token = all.back().name;
  }
  page.buckets = std::move(all);
  return page;
}

Status S3Backend::DeleteBucket(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Bucket> bucket = FindOwned(account, name);
  if (!bucket.ok()) return bucket.status();
  if (contents_check_) {
    Result<bool> holds = contents_check_(name);
    if (!holds.ok()) return InternalError(holds.status().message());
    if (*holds) return BucketNotEmpty();
  }
  Status s = store_->Delete(kBucketKind, name);
  if (s.code() == Status::Code::kNotFound) return NoSuchBucket();
  if (!s.ok()) return InternalError(s.message());
  return Status::Ok();
}

Status S3Backend::SetVersioning(const std::string& account, const std::string& name, const std::string& state) {
  if (state != "Enabled" && state != "Suspended")
    return MalformedXmlSchema("Status must be Enabled or Suspended");
  return SetDocMember(account, name, "versioning", state);
}

Status S3Backend::SetNotifications(const std::string& account, const std::string& name, const json& config) {
  return SetDocMember(account, name, "notifications", config);
}

Status S3Backend::SetDocMember(const std::string& account, const std::string& name, const char* member,
                               const json& value) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Bucket> bucket = FindOwned(account, name);
  if (!bucket.ok()) return bucket.status();
  Result<store::ResourceRow> row = store_->Find(kBucketKind, name);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? NoSuchBucket() : InternalError(row.status().message());
  row->doc[member] = value;
  Status s = store_->Update(*row);
  if (s.code() == Status::Code::kNotFound) return NoSuchBucket();
  if (!s.ok()) return InternalError(s.message());
  return Status::Ok();
}

}  // namespace lathe::s3
