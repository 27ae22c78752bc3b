// Lineage from data to models (registry.h): the data-lineage rows a version writes with itself,
// looked up by the object's URI and, when a digest is given, by its bytes under any key.
#include <set>
#include <utility>

#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {

Result<std::vector<ModelVersion>> Registry::VersionsTrainedOn(const std::string& uri, const std::string& sha256) {
  LATHE_RETURN_IF_ERROR(rows::CheckToken("uri", uri, rows::kMaxArnBytes, sha256.empty()));
  std::string digest = sha256;  // stored lowercased (CheckNewVersion), so compared lowercased
  if (!digest.empty()) LATHE_RETURN_IF_ERROR(rows::NormalizeSha256("sha256", &digest));

  std::set<std::pair<std::string, int>> versions;  // (group, version), in order
  auto collect = [&](const char* key, const std::string& value) -> Status {
    store::MetadataStore::ListFilter f;
    f.doc_equals[key] = value;
    Result<std::vector<store::ResourceRow>> found = db_->List(rows::kLineageKind, f);
    if (!found.ok()) return found.status();
    for (const store::ResourceRow& r : *found)
      versions.insert({r.doc.value("group", ""), r.doc.value("version", 0)});
    return Status::Ok();
  };
  if (!uri.empty()) LATHE_RETURN_IF_ERROR(collect("uri", uri));
  if (!digest.empty()) LATHE_RETURN_IF_ERROR(collect("sha256", digest));
  std::vector<ModelVersion> out;
  for (const auto& [group, version] : versions) {
    Result<ModelVersion> v = GetVersion(group, version);
    if (v.ok()) out.push_back(std::move(*v));
    else if (v.status().code() != Status::Code::kNotFound) return v.status();  // deleted meanwhile: skipped
  }
  return out;
}

}  // namespace lathe::registry
