// IAM's input constraints from its service model (lengths, patterns, ranges), checked by hand in
// one linear pass each: lengths first, then characters; never a regex on request data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::iam {

struct Tag {
  std::string key, value;
};

// Quotas (IAM's defaults; docs/serve.md "Limits").
inline constexpr size_t kMaxRolesPerAccount = 1000;
inline constexpr size_t kMaxAttachedPoliciesPerRole = 10;
inline constexpr size_t kMaxTrustPolicyChars = 2048;       // ACLSizePerRole
inline constexpr size_t kMaxInlinePolicyCharsPerRole = 10240;  // all inline policies together
inline constexpr size_t kMaxTagsPerRole = 50;
inline constexpr size_t kMaxUsersPerAccount = 5000;
inline constexpr size_t kMaxGroupsPerAccount = 300;
inline constexpr size_t kMaxManagedPoliciesPerAccount = 1500;
inline constexpr size_t kMaxGroupsPerUser = 10;
inline constexpr size_t kMaxAccessKeysPerUser = 2;
inline constexpr size_t kMaxAttachedPolicies = 10;             // per user and per group
inline constexpr size_t kMaxInlinePolicyCharsPerUser = 2048;   // all inline policies together
inline constexpr size_t kMaxInlinePolicyCharsPerGroup = 5120;
inline constexpr size_t kMaxManagedPolicyChars = 6144;
inline constexpr size_t kMaxPolicyVersions = 5;

// roleNameType: 1-64 of [A-Za-z0-9_+=,.@-].
Status ValidateRoleName(std::string_view name, std::string_view member = "roleName");
// policyNameType: 1-128 of the same characters.
Status ValidatePolicyName(std::string_view name, std::string_view member = "policyName");
// pathType: "/" or "/.../" of printable ASCII (U+0021-U+007E), at most 512.
Status ValidatePath(std::string_view path, std::string_view member = "path");
// pathPrefixType: "/" followed by U+0021-U+007F, at most 512.
Status ValidatePathPrefix(std::string_view prefix, std::string_view member = "pathPrefix");
// roleDescriptionType: at most 1000 characters of tab, LF, CR, U+0020-U+007E, U+00A1-U+00FF.
Status ValidateDescription(std::string_view description);
// userNameType (max 64, for a new user) / existingUserNameType (max 128): [\w+=,.@-]+.
Status ValidateUserName(std::string_view name, std::string_view member = "userName", size_t max = 128);
// groupNameType: 1-128 of [\w+=,.@-].
Status ValidateGroupName(std::string_view name, std::string_view member = "groupName");
// accessKeyIdType: 16-128 of [\w].
Status ValidateAccessKeyId(std::string_view id);
// policyPathType: "/" or "/seg/.../" of [A-Za-z0-9.,+@=_-], at most 512.
Status ValidatePolicyPath(std::string_view path);
// policyVersionIdType: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?
Status ValidateVersionId(std::string_view id);
// markerType: 1-320 characters of U+0020-U+00FF.
Status ValidateMarker(std::string_view marker);
// At most 50 tags; keys 1-128 and values 0-256 characters of letters, digits, spaces and
// _.:/=+-@; keys unique and not starting with "aws:".
Status ValidateTags(const std::vector<Tag>& tags);

}  // namespace lathe::iam
