// The Datasets page: S3's buckets and a prefix browser (one listing page at a time), and for one
// JSONL object the validator's report and `lathe data stats`' numbers. The object is copied to a
// scratch file first (as jobs read it: whole, bounded), checked, and removed; two checks run at
// once at most.
#include <atomic>
#include <cstdio>

#include "core/env.h"
#include "core/json_nesting.h"
#include "data/stats.h"
#include "data/validator.h"
#include "service/job_object_store.h"
#include "services/s3/backend.h"
#include "services/s3/objects.h"
#include "ui/api.h"
#include "ui/json_fields.h"
#include "ui/query_params.h"
#include "ui/secure_random.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kObjectsPerPage = 200;
constexpr uint64_t kMaxCheckedObjectBytes = 64u << 20;
constexpr int kMaxConcurrentChecks = 2;
std::atomic<int> checks_running{0};

// The checks in flight, released when the check ends.
class CheckSlot {
 public:
  CheckSlot() : ok_(checks_running.fetch_add(1) < kMaxConcurrentChecks) {}
  ~CheckSlot() { checks_running.fetch_sub(1); }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

Status CheckKey(const std::string& what, const std::string& key, bool may_be_empty) {
  if (key.empty() && may_be_empty) return Status::Ok();
  return CheckName(what, key, kMaxKeyBytes);
}

}  // namespace

ApiResult Api::Buckets() {
  if (!b_.buckets) return Unavailable("S3 storage");
  s3::ListBucketsInput in;
  in.account = b_.account;
  auto page = b_.buckets->ListBuckets(in);
  if (!page.ok()) return page.status();
  json out = json::array();
  for (const auto& b : page->buckets)
    out.push_back({{"name", b.name}, {"region", b.region}, {"versioning", b.versioning}});
  return json{{"buckets", out}};
}

ApiResult Api::Objects(const std::string& bucket, const ApiCall& call) {
  if (!b_.objects) return Unavailable("S3 storage");
  LATHE_RETURN_IF_ERROR(CheckName("bucket", bucket, 63));
  s3::ListObjectsInput in;
  in.account = b_.account;
  in.bucket = bucket;
  in.delimiter.assign(1, '/');  // not = "/": GCC 12 warns falsely (-Wrestrict) on that
  in.max_keys = kObjectsPerPage;
  if (auto p = call.query.find("prefix"); p != call.query.end()) in.prefix = p->second;
  if (auto a = call.query.find("after"); a != call.query.end()) in.after = a->second;
  LATHE_RETURN_IF_ERROR(CheckKey("prefix", in.prefix, true));
  LATHE_RETURN_IF_ERROR(CheckKey("after", in.after, true));
  auto listing = b_.objects->ListObjects(in);
  if (!listing.ok()) return listing.status();
  json objects = json::array();
  for (const auto& o : listing->objects)
    objects.push_back({{"key", o.key}, {"size", o.size}, {"etag", o.etag}, {"modified", o.modified_ms}});
  json out = {{"bucket", bucket}, {"prefix", in.prefix}, {"prefixes", listing->common_prefixes}, {"objects", objects}};
  if (listing->truncated) out["next"] = listing->last;
  return out;
}

ApiResult Api::CheckDataset(const std::string& bucket, const ApiCall& call) {
  if (!b_.job_objects) return Unavailable("S3 storage");
  LATHE_RETURN_IF_ERROR(CheckName("bucket", bucket, 63));
  // {"key", "validationKey"}: both strings (checked before they are used).
  if (!JsonNestingWithin(call.body, 8)) return Status::InvalidArgument("the body nests deeper than 8 levels");
  const json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object {key, validationKey}");
  const json key_field = AnyField(body, "key"), validation_field = AnyField(body, "validationKey");
  if (!key_field.is_string()) return Status::InvalidArgument("key: the object to check");
  if (!validation_field.is_null() && !validation_field.is_string())
    return Status::InvalidArgument("validationKey: an object's key");
  const std::string key_name = key_field.get<std::string>();
  const std::string validation_key = validation_field.is_string() ? validation_field.get<std::string>() : "";
  LATHE_RETURN_IF_ERROR(CheckKey("key", key_name, false));
  LATHE_RETURN_IF_ERROR(CheckKey("validationKey", validation_key, true));
  CheckSlot slot;
  if (!slot.ok()) return Status::Throttled("two dataset checks are running; try again in a moment");
  const std::string dir = b_.data_dir + "/ui/scratch";
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(dir));
  const std::string name = RandomHex(8);
  const std::string path = dir + "/" + name + ".jsonl", validation = dir + "/" + name + "-validation.jsonl";
  // Both scratch files go whatever happens.
  struct Remove {
    std::string a, b;
    ~Remove() {
      std::remove(a.c_str());
      std::remove(b.c_str());
    }
  } remove{path, validation};
  LATHE_RETURN_IF_ERROR(
      b_.job_objects->Download(b_.account, service::S3Uri{bucket, key_name}, path, kMaxCheckedObjectBytes));
  if (!validation_key.empty())
    LATHE_RETURN_IF_ERROR(
        b_.job_objects->Download(b_.account, service::S3Uri{bucket, validation_key}, validation, kMaxCheckedObjectBytes));
  data::ValidateOptions options;
  options.allow_small = true;
  data::FileReport report = data::ValidateFile(Env::Default(), path, options);
  report.file = "s3://" + bucket + "/" + key_name;
  json out = {{"uri", report.file}, {"report", data::ReportToJson(report)}};
  auto stats = data::ComputeStats(Env::Default(), path, validation_key.empty() ? "" : validation, nullptr);
  if (stats.ok()) {
    stats->file = report.file;
    if (!validation_key.empty()) stats->validation_file = "s3://" + bucket + "/" + validation_key;
    out["stats"] = data::StatsToJson(*stats);
  } else {
    out["statsError"] = stats.status().message();
  }
  return out;
}

}  // namespace lathe::ui
