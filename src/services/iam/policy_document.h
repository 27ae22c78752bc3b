// IAM policy documents checked against the policy grammar before they are stored, with the
// MalformedPolicyDocument messages AWS gives. Bounded: the size is checked first, then the JSON
// nesting depth by a linear scan, and only then is the text parsed.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace lathe::iam {

enum class PolicyKind {
  kIdentity,  // inline/managed permissions: Resource required, Principal prohibited
  kTrust,     // a role's AssumeRolePolicyDocument: Principal required, Resource prohibited
};

// The deepest {} / [] nesting a policy may have: Statement list > statement > Condition >
// operator > key > value list is 6.
inline constexpr size_t kMaxPolicyDepth = 8;
// policyDocumentType's length bound in the model; quotas per kind are tighter (validation.h).
inline constexpr size_t kMaxPolicyBytes = 131072;

// The characters IAM counts toward its size quotas: every code point but white space (AWS does
// not count white space).
size_t PolicyQuotaChars(std::string_view document);

// OK when `document` is a well-formed policy of `kind`; MalformedPolicyDocument (or
// ValidationError for characters outside the model's pattern) naming the problem otherwise.
Status ValidatePolicyDocument(std::string_view document, PolicyKind kind);

}  // namespace lathe::iam
