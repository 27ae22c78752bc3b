#include "services/registry/serving.h"

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

Status ServingLink::Rollback(const std::string& reference, const std::string& actor, const std::string& reason) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (!registry_) return Status::Internal("the model registry is closed (the server is stopping)");
  bool is_alias = false;
  Result<std::string> alias = ShortAlias(reference, &is_alias);
  if (!alias.ok()) return alias.status();
  if (!is_alias) return rows::Invalid("reference", "only an alias can be rolled back");
  const size_t colon = alias->find(':');
  return registry_->Rollback(alias->substr(0, colon), alias->substr(colon + 1), actor, reason).status();
}

service::ModelResolver ServingLink::resolver() {
  return [link = shared_from_this()](const std::string& reference) { return link->Resolve(reference); };
}

service::AliasRollback ServingLink::rollback() {
  return [link = shared_from_this()](const std::string& reference, const std::string& actor, const std::string& reason) {
    return link->Rollback(reference, actor, reason);
  };
}

void ServingLink::Detach() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  registry_ = nullptr;
}

}  // namespace lathe::registry
