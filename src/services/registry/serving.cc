#include "services/registry/serving.h"

#include <charconv>

#include "services/registry/rows.h"

namespace lathe::registry {

std::shared_ptr<ServingLink> ServingLink::Make(Registry* registry, std::string region, std::string account) {
  return std::shared_ptr<ServingLink>(new ServingLink(registry, std::move(region), std::move(account)));
}

Result<std::string> ServingLink::ShortAlias(const std::string& reference, bool* is_alias) const {
  *is_alias = false;
  if (!service::IsRegistryReference(reference))
    return rows::Invalid("reference", "not a model registry reference (<group>:<alias>, <group>/<version> or their "
                                      "SageMaker ARNs)");
  if (reference.rfind("arn:", 0) != 0) {
    *is_alias = reference.find(':') != std::string::npos;
    return *is_alias ? reference : "";
  }
  if (reference.find(":model-package-group/") == std::string::npos) return std::string();
  // arn:...:model-package-group/<group>:<alias>: the alias follows the last ':'.
  const size_t colon = reference.rfind(':');
  Result<std::string> group = rows::ParseGroupRef(reference.substr(0, colon), region_, account_);
  if (!group.ok()) return group.status();
  *is_alias = true;
  return *group + ":" + reference.substr(colon + 1);
}

Result<service::ResolvedModel> ServingLink::Resolve(const std::string& reference) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (!registry_) return Status::Internal("the model registry is closed (the server is stopping)");
  bool is_alias = false;
  Result<std::string> alias = ShortAlias(reference, &is_alias);
  if (!alias.ok()) return alias.status();
  Result<ModelVersion> v = registry_->Resolve(is_alias ? *alias : reference);
  if (!v.ok()) return v.status();
  service::ResolvedModel out;
  out.model_arn = !v->custom_model_arn.empty() ? v->custom_model_arn : v->base_model;
  out.version = rows::VersionName(v->group, v->version);
  out.follows_alias = is_alias;
  if (is_alias) {  // the alias's holder: has an evaluation since it took the alias regressed?
    const size_t colon = alias->find(':');
    Result<std::string> regression = registry_->AliasRegression(alias->substr(0, colon), alias->substr(colon + 1), v->version);
    if (regression.ok()) out.regression = *regression;
  }
  if (out.model_arn.empty())
    return Status::NotFound("model version " + out.version + " names neither a custom model nor a base model");
  return out;
}

namespace {
// The version number of "<group>/<version>" when its group is `group`; 0 otherwise.
int VersionIn(const std::string& group, const std::string& version) {
  if (version.size() <= group.size() + 1 || version.compare(0, group.size(), group) != 0 || version[group.size()] != '/')
    return 0;
  int n = 0;
  const char* first = version.data() + group.size() + 1;
  const char* last = version.data() + version.size();
  auto [end, ec] = std::from_chars(first, last, n);
  return ec == std::errc() && end == last && n > 0 ? n : 0;
}
}  // namespace

Result<bool> ServingLink::Rollback(const std::string& reference, const std::string& expected, const std::string& target,
                                   const std::string& actor, const std::string& reason) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (!registry_) return Status::Internal("the model registry is closed (the server is stopping)");
  bool is_alias = false;
  Result<std::string> alias = ShortAlias(reference, &is_alias);
  if (!alias.ok()) return alias.status();
  if (!is_alias) return rows::Invalid("reference", "only an alias can be rolled back");
  const size_t colon = alias->find(':');
  const std::string group = alias->substr(0, colon);
  const int from = VersionIn(group, expected), to = VersionIn(group, target);
  if (from == 0 || to == 0)
    return rows::Invalid("version", "a rollback of " + *alias + " moves between versions of group " + group);
  Result<std::optional<AliasMove>> moved = registry_->MoveAliasIf(group, alias->substr(colon + 1), from, to, actor, reason);
  if (!moved.ok()) return moved.status();
  return moved->has_value();
}

service::ModelResolver ServingLink::resolver() {
  return [link = shared_from_this()](const std::string& reference) { return link->Resolve(reference); };
}

service::AliasRollback ServingLink::rollback() {
  return [link = shared_from_this()](const std::string& reference, const std::string& expected,
                                     const std::string& target, const std::string& actor, const std::string& reason) {
    return link->Rollback(reference, expected, target, actor, reason);
  };
}

void ServingLink::Detach() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  registry_ = nullptr;
}

}  // namespace lathe::registry
