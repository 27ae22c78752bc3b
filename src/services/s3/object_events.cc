#include "services/s3/object_events.h"

#include <atomic>
#include <cstdio>

#include "core/arn.h"

namespace lathe::s3 {
namespace {

// S3's sequencer orders events for one key: a hex string that grows with time. Milliseconds and
// a process-wide counter keep it growing within one millisecond too.
std::string Sequencer(int64_t ms) {
  static std::atomic<uint32_t> counter{0};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llX%06X", static_cast<unsigned long long>(ms),
                static_cast<unsigned>(counter.fetch_add(1) & 0xFFFFFF));
  return buf;
}

store::OutboxEvent Envelope(const Requester& requester, const ObjectInfo& object, const char* detail_type,
                            const char* reason) {
  store::OutboxEvent e;
  e.source = "aws.s3";
  e.detail_type = detail_type;
  e.account = requester.account;
  e.region = requester.region;
  e.resources = {"arn:aws:s3:::" + object.bucket};
  e.time_ms = NowMillis();
  nlohmann::json obj = {{"key", object.key}, {"sequencer", Sequencer(e.time_ms)}};
  if (object.version_id != store::kNullVersionId) obj["version-id"] = object.version_id;
  e.detail = {{"version", "0"},
              {"bucket", {{"name", object.bucket}}},
              {"object", obj},
              {"request-id", requester.request_id},
              {"requester", requester.account},
              {"source-ip-address", requester.source_ip},
              {"reason", reason}};
  return e;
}

}  // namespace

store::OutboxEvent ObjectCreatedEvent(const Requester& requester, const ObjectInfo& object, const char* reason) {
  store::OutboxEvent e = Envelope(requester, object, "Object Created", reason);
  e.detail["object"]["size"] = object.size;
  e.detail["object"]["etag"] = object.etag;
  return e;
}

store::OutboxEvent ObjectDeletedEvent(const Requester& requester, const ObjectInfo& object, bool marker_created) {
  store::OutboxEvent e = Envelope(requester, object, "Object Deleted", "DeleteObject");
  e.detail["deletion-type"] = marker_created ? "Delete Marker Created" : "Permanently Deleted";
  return e;
}

}  // namespace lathe::s3
