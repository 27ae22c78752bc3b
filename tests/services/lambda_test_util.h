// Helpers for the Lambda tests: zips built byte by byte (so that hostile ones can be made: names
// with "..", absolute paths, symbolic links, entries whose sizes lie), and a JobObjectStore over
// a map, for the built-ins.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/checksum.h"
#include "core/env.h"
#include "service/job_object_store.h"

namespace lathe::lambda::testing {

struct ZipEntry {
  std::string name, data;
  unsigned mode = 0100644;  // unix mode: 0100755 executable, 0120777 symlink, 040755 folder
};

inline void Put16(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void Put32(std::string* s, uint32_t v) {
  Put16(s, v & 0xffff);
  Put16(s, v >> 16);
}

// A zip of stored (uncompressed) entries, as `zip -0` writes them on a unix system.
inline std::string MakeZip(const std::vector<ZipEntry>& entries) {
  std::string out, central;
  for (const auto& e : entries) {
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), e.data.size()));
    Put32(&out, 0x04034b50);
    Put16(&out, 20);
    Put16(&out, 0);
    Put16(&out, 0);
    Put16(&out, 0);
    Put16(&out, 0x21);
    Put32(&out, crc);
    Put32(&out, static_cast<uint32_t>(e.data.size()));
    Put32(&out, static_cast<uint32_t>(e.data.size()));
    Put16(&out, static_cast<uint32_t>(e.name.size()));
    Put16(&out, 0);
    out += e.name;
    out += e.data;
    Put32(&central, 0x02014b50);
    Put16(&central, (3u << 8) | 20);
    Put16(&central, 20);
    Put16(&central, 0);
    Put16(&central, 0);
    Put16(&central, 0);
    Put16(&central, 0x21);
    Put32(&central, crc);
    Put32(&central, static_cast<uint32_t>(e.data.size()));
    Put32(&central, static_cast<uint32_t>(e.data.size()));
    Put16(&central, static_cast<uint32_t>(e.name.size()));
    Put16(&central, 0);
    Put16(&central, 0);
    Put16(&central, 0);
    Put16(&central, 0);
    Put32(&central, e.mode << 16);
    Put32(&central, offset);
    central += e.name;
  }
  const uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, static_cast<uint32_t>(entries.size()));
  Put16(&out, static_cast<uint32_t>(entries.size()));
  Put32(&out, static_cast<uint32_t>(central.size()));
  Put32(&out, cd_offset);
  Put16(&out, 0);
  return out;
}

// Objects as (bucket, key) -> bytes, all owned by one account.
class MapObjectStore : public service::JobObjectStore {
 public:
  std::map<std::pair<std::string, std::string>, std::string> objects;
  std::string account = "123456789012";
  Status CheckBucket(const std::string& acct, const std::string& bucket) override {
    if (acct != account) return Status::Aws("AccessDenied", 403, "Access Denied");
    for (const auto& [k, v] : objects)
      if (k.first == bucket) return Status::Ok();
    return Status::Aws("NoSuchBucket", 404, "The specified bucket does not exist");
  }
  Status Download(const std::string& acct, const service::S3Uri& object, const std::string& path,
                  uint64_t max_bytes) override {
    if (acct != account) return Status::Aws("AccessDenied", 403, "Access Denied");
    auto it = objects.find({object.bucket, object.key});
    if (it == objects.end()) return Status::Aws("NoSuchKey", 404, "The specified key does not exist.");
    if (it->second.size() > max_bytes) return Status::InvalidArgument(object.ToString() + " is too large");
    return WriteFileAtomically(Env::Default(), path, it->second);
  }
  // S3's ETag of a single-part object (its MD5), and a version id when one is set for the key.
  std::map<std::pair<std::string, std::string>, std::string> version_ids;
  Status DownloadVersion(const std::string& acct, const service::S3Uri& object, const std::string& path,
                         uint64_t max_bytes, service::ObjectFacts* facts) override {
    LATHE_RETURN_IF_ERROR(Download(acct, object, path, max_bytes));
    const std::string& bytes = objects[{object.bucket, object.key}];
    *facts = service::ObjectFacts{};
    facts->etag = HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, bytes));
    facts->size = bytes.size();
    if (auto v = version_ids.find({object.bucket, object.key}); v != version_ids.end()) facts->version_id = v->second;
    return Status::Ok();
  }
  Status Upload(const std::string&, const std::string& path, const service::S3Uri& object) override {
    std::string data;
    LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), path, &data));
    objects[{object.bucket, object.key}] = data;
    return Status::Ok();
  }
  Status Delete(const std::string& acct, const service::S3Uri& object) override {
    if (acct != account) return Status::Aws("AccessDenied", 403, "Access Denied");
    objects.erase({object.bucket, object.key});
    return Status::Ok();
  }
};

// Whether python3 runs here (python3.x functions need it).
inline bool HavePython() { return std::system("python3 -c 'import json' >/dev/null 2>&1") == 0; }

// A CreateFunction request for `zip` (the role is a well-formed one; lathe does not check it).
inline nlohmann::json CreateFunctionRequest(const std::string& name, const std::string& runtime,
                                            const std::string& handler, const std::string& zip) {
  return {{"FunctionName", name}, {"Runtime", runtime}, {"Role", "arn:aws:iam::123456789012:role/lambda-role"},
          {"Handler", handler}, {"Code", {{"ZipFile", Base64Encode(zip)}}}};
}

}  // namespace lathe::lambda::testing
