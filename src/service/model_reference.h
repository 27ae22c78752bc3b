// What a deployment or a provisioned throughput serves, named by reference: a custom model (ARN,
// name or id), a foundation model id, or -- a lathe extension (docs/compatibility.md) -- a model
// registry version or alias. The service layer sits below the registry (services/registry), so
// it asks through a ModelResolver that `lathe serve` wires to the registry; without one (unit
// tests, tools) only custom and foundation models resolve.
//
// Registry references (what services/registry/serving.h resolves):
//   "<group>:<alias>"                                         follows the alias
//   "arn:aws:sagemaker:<region>:<account>:model-package-group/<group>:<alias>"   the same, as an ARN
//                                                             (boto3 checks modelArn's minimum length, 20)
//   "<group>/<version>", "arn:aws:sagemaker:...:model-package/<group>/<version>"  one fixed version
#pragma once

#include <functional>
#include <string>

#include "core/status.h"

namespace lathe::service {

struct ResolvedModel {
  // What serves it: a custom model ARN, or a foundation model id/ARN (a registry version whose
  // custom model ARN is empty serves its base model).
  std::string model_arn;
  std::string version;         // "<group>/<version>" for registry references, "" otherwise
  bool follows_alias = false;  // an alias: resolve again to follow its moves
  // For an alias: "" unless its holder's newest evaluation recorded after it took the alias is
  // "worse" than its baseline, then why in words (registry::EvaluationRegression); automatic
  // rollback reads it (JudgeChallenger's `regression`).
  std::string regression;
};

// NotFound when the reference names nothing (the message names it); InvalidArgument when it is
// malformed. Must be safe to call from any thread; it reads the registry's rows each time (the
// registry keeps no cache, and `lathe registry` may move an alias from another process).
using ModelResolver = std::function<Result<ResolvedModel>(const std::string& reference)>;

// Automatic rollback: moves an alias from the canary back to the champion, only while it still
// holds the canary (compare and set, registry::Registry::MoveAliasIf; an undo of the alias's last
// move would go wrong with two deployments on one alias or a person's move meanwhile).
// reference: the "<group>:<alias>" form; expected (the canary) and target (the champion): the
// "<group>/<version>" form (ResolvedModel::version); actor and reason are recorded. true: moved;
// false: the alias no longer holds `expected` (nothing done).
using AliasRollback = std::function<Result<bool>(const std::string& reference, const std::string& expected,
                                                 const std::string& target, const std::string& actor,
                                                 const std::string& reason)>;

// Whether `reference` is in one of the registry forms above (a cheap syntactic check, bounded,
// no regex): the services try custom and foundation models first and the resolver only for these.
bool IsRegistryReference(const std::string& reference);

}  // namespace lathe::service
