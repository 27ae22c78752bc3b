#include <random>

#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"
#include "services/iam/policy_document.h"

namespace lathe::iam::internal {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string NewIamId(std::string_view prefix) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;  // the kernel's CSPRNG on Linux
  std::string id(prefix);
  for (int i = 0; i < 17; ++i) id += kAlphabet[rd() % 36];
  return id;
}

json TagsToJson(const std::vector<Tag>& tags) {
  json out = json::array();
  for (const Tag& t : tags) out.push_back({{"Key", t.key}, {"Value", t.value}});
  return out;
}

std::vector<Tag> TagsFromJson(const json& tags) {
  std::vector<Tag> out;
  for (const json& t : tags) out.push_back({t.at("Key").get<std::string>(), t.at("Value").get<std::string>()});
  return out;
}

Status CheckListOptions(const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(ValidatePathPrefix(options.path_prefix));
  if (!options.marker.empty()) LATHE_RETURN_IF_ERROR(ValidateMarker(options.marker));
  return Status::Ok();
}

Status CheckInlineQuota(const std::map<std::string, std::string>& policies, size_t limit, const std::string& what) {
  size_t total = 0;
  for (const auto& entry : policies) total += PolicyQuotaChars(entry.second);
  if (total > limit)
    return LimitExceeded("Maximum policy size of " + std::to_string(limit) + " bytes exceeded for " + what);
  return Status::Ok();
}

Status AttachTo(std::vector<std::string>* attached, const std::string& arn, size_t limit, std::string_view quota) {
  if (std::find(attached->begin(), attached->end(), arn) != attached->end()) return Status::Ok();
  if (attached->size() >= limit)
    return LimitExceeded("Cannot exceed quota for " + std::string(quota) + ": " + std::to_string(limit));
  attached->push_back(arn);
  return Status::Ok();
}

Status DetachFrom(std::vector<std::string>* attached, const std::string& arn) {
  auto it = std::find(attached->begin(), attached->end(), arn);
  if (it == attached->end()) return NoSuchEntity("Policy " + arn + " was not found.");
  attached->erase(it);
  return Status::Ok();
}

Page<AttachedPolicy> AttachedPage(const std::vector<std::string>& attached, const ListOptions& options) {
  std::vector<AttachedPolicy> policies;
  for (const std::string& arn : attached) {
    Result<std::string> name = ManagedPolicyName(arn);
    std::string_view path = std::string_view(arn).substr(arn.find(":policy/") + 7);
    if (name.ok() && path.compare(0, options.path_prefix.size(), options.path_prefix) == 0)
      policies.push_back({*name, arn});
  }
  std::sort(policies.begin(), policies.end(),
            [](const AttachedPolicy& a, const AttachedPolicy& b) { return a.arn < b.arn; });
  return Paginate(std::move(policies), options, [](const AttachedPolicy& p) { return p.arn; });
}

Page<std::string> InlinePage(const std::map<std::string, std::string>& policies, const ListOptions& options) {
  std::vector<std::string> names;
  for (const auto& entry : policies) names.push_back(entry.first);  // std::map: sorted
  return Paginate(std::move(names), options, [](const std::string& n) { return n; });
}

Result<std::vector<store::ResourceRow>> AccountRows(store::MetadataStore* store, const char* kind,
                                                   const std::string& account) {
  store::MetadataStore::ListFilter mine;
  mine.doc_equals["account"] = account;
  Result<std::vector<store::ResourceRow>> rows = store->List(kind, mine);
  if (!rows.ok()) return ServiceFailure(rows.status().message());
  return rows;
}

}  // namespace lathe::iam::internal
