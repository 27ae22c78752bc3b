// The registry as deployments and provisioned throughput see it (service/model_reference.h): a
// ModelResolver that turns a registry reference into the model that serves it, and an
// AliasRollback for automatic rollback. The services hold these functions longer than the
// server holds the registry, so they go through a link the server cuts (Detach) before the
// registry goes: afterwards they answer an error instead of touching freed memory.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "service/model_reference.h"
#include "services/registry/registry.h"

namespace lathe::registry {

class ServingLink : public std::enable_shared_from_this<ServingLink> {
 public:
  // `region` and `account`: the registry's own (its ARNs name them; others are not found).
  static std::shared_ptr<ServingLink> Make(Registry* registry, std::string region, std::string account);

  // Resolves every form model_reference.h lists. A version serves its custom model, else its
  // base model; ResolvedModel::version is "<group>/<version>", follows_alias set for aliases.
  Result<service::ResolvedModel> Resolve(const std::string& reference);
  // "<group>:<alias>" or its model package group ARN form, from `expected` to `target`
  // ("<group>/<version>" of the alias's group): Registry::MoveAliasIf. true when it moved.
  Result<bool> Rollback(const std::string& reference, const std::string& expected, const std::string& target,
                        const std::string& actor, const std::string& reason);

  service::ModelResolver resolver();
  service::AliasRollback rollback();
  // Waits for calls in progress, then makes every later call fail.
  void Detach();

 private:
  ServingLink(Registry* registry, std::string region, std::string account)
      : registry_(registry), region_(std::move(region)), account_(std::move(account)) {}
  // The "<group>:<alias>" form of an alias reference (an ARN's group checked against this
  // registry's region and account); "" with *is_alias false for version references.
  Result<std::string> ShortAlias(const std::string& reference, bool* is_alias) const;

  std::shared_mutex mu_;
  Registry* registry_;
  const std::string region_, account_;
};

}  // namespace lathe::registry
