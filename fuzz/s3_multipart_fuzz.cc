// Feeds arbitrary bytes to S3's request-body parsers (CompleteMultipartUpload, the notification
// configuration, Delete, Tagging, VersioningConfiguration), the part-number and tagging-header
// parsers, and -- through the gateway into a real S3 service over a temporary store -- the list
// operations' query parameters (ListObjectsV2, ListObjects, ListObjectVersions,
// ListMultipartUploads, ListParts). None may crash, leak, hang or allocate without bound; what a
// parser accepts must keep the bounds it promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "aws/gateway.h"
#include "http/message.h"
#include "service/bedrock_service.h"
#include "services/s3/multipart_shapes.h"
#include "services/s3/notifications.h"
#include "services/s3/object_shapes.h"
#include "services/s3/service.h"
#include "services/s3/storage.h"

using namespace lathe;

namespace {

constexpr char kBucket[] = "fuzz-bucket";

struct World {
  std::string dir;
  std::unique_ptr<service::BedrockService> bedrock;  // owns the store S3's index lives in
  std::unique_ptr<s3::S3Storage> s3;
  std::unique_ptr<aws::Gateway> gateway;
  std::string upload_id;  // an open upload, so that ListParts reaches its parameters
};

void Send(World* w, const std::string& method, const std::string& target, std::string body,
          http::Response* response) {
  http::Request request;
  request.method = method;
  request.target = target;
  http::StringBodyReader reader{std::move(body)};
  request.body = &reader;
  w->gateway->Handle(request, *response);
}

World* Make() {
  char tmpl[] = "/tmp/lathe-fuzz-s3mp-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  auto* w = new World;
  w->dir = tmpl;
  service::ServiceConfig config;
  config.data_dir = w->dir;
  config.model_aliases = service::DefaultModelAliases();
  config.models[service::kDefaultModelId] = w->dir + "/no-model";  // never loaded
  config.max_active_jobs = 0;
  config.model_memory_bytes = 0;
  config.file_roots = {w->dir};
  auto opened = service::BedrockService::Open(config);
  if (!opened.ok()) std::abort();
  w->bedrock = std::move(*opened);
  aws::GatewayOptions options;
  options.no_auth = true;
  w->gateway = std::make_unique<aws::Gateway>(options, [](const std::string&) { return std::nullopt; });
  auto s3 = s3::OpenS3Storage(w->bedrock->store(), Env::Default(), w->dir + "/s3");
  if (!s3.ok()) std::abort();
  w->s3 = std::move(*s3);
  w->gateway->Add(std::make_shared<s3::S3Service>(w->s3->buckets.get(), w->s3->objects.get(), w->s3->multipart.get()));

  // A bucket with a few objects and an open upload with one part, so that listings have pages.
  const std::string bucket = std::string("/") + kBucket;
  http::Response r;
  Send(w, "PUT", bucket, "", &r);
  if (r.status != 200) std::abort();
  for (const char* key : {"a", "a/b", "a/b/c", "d%20e", "z"}) {
    http::Response put;
    Send(w, "PUT", bucket + "/" + key, "x", &put);
    if (put.status != 200) std::abort();
  }
  http::Response created;
  Send(w, "POST", bucket + "/up?uploads", "", &created);
  if (created.status != 200) std::abort();
  const std::string& xml = created.body;
  size_t from = xml.find("<UploadId>"), to = xml.find("</UploadId>");
  if (from == std::string::npos || to == std::string::npos) std::abort();
  w->upload_id = xml.substr(from + 10, to - from - 10);
  http::Response part;
  Send(w, "PUT", bucket + "/up?partNumber=1&uploadId=" + w->upload_id, "part", &part);
  if (part.status != 200) std::abort();
  return w;
}

void ListThroughGateway(uint8_t which, std::string_view query) {
  static World* world = Make();  // one store for the whole run
  const std::string bucket = std::string("/") + kBucket;
  std::string target;
  switch (which % 5) {
    case 0: target = bucket + "?list-type=2&"; break;
    case 1: target = bucket + "?"; break;
    case 2: target = bucket + "?versions&"; break;
    case 3: target = bucket + "?uploads&"; break;
    default: target = bucket + "/up?uploadId=" + world->upload_id + "&"; break;
  }
  target.append(query);
  http::Response response;
  Send(world, "GET", target, "", &response);
  if (response.status < 200 || response.status > 599) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      auto parts = s3::ParseCompleteMultipartUpload(rest);
      if (parts.ok()) {
        if (parts->empty()) std::abort();  // no parts is MalformedXML
        for (const auto& p : *parts)
          if (p.part_number < 1 || p.part_number > s3::kMaxPartNumber) std::abort();
      }
      break;
    }
    case 1: (void)s3::ParseNotificationConfiguration(rest); break;
    case 2: (void)s3::ParseDelete(rest); break;
    case 3: (void)s3::ParseTagging(rest); break;
    case 4: (void)s3::ParseVersioning(rest); break;
    case 5: {
      auto n = s3::ParsePartNumber(rest);
      if (n.ok() && (*n < 1 || *n > s3::kMaxPartNumber)) std::abort();
      (void)s3::ParseTaggingHeader(rest);
      break;
    }
    default:
      // The query after a fixed operation prefix; the second byte picks the listing.
      if (rest.empty()) return 0;
      ListThroughGateway(static_cast<uint8_t>(rest[0]), rest.substr(1));
      break;
  }
  return 0;
}
