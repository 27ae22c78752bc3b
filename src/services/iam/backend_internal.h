// What backend*.cc share: row names, ids, paging and the documents' JSON pieces. Not a public
// header: the backend's users include backend.h.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "services/iam/backend.h"

namespace lathe::iam::internal {

inline constexpr char kRoleKind[] = "iam-role";
inline constexpr char kUserKind[] = "iam-user";
inline constexpr char kGroupKind[] = "iam-group";
inline constexpr char kPolicyKind[] = "iam-policy";
inline constexpr char kAccessKeyKind[] = "iam-access-key";

std::string Lower(std::string_view s);

// IAM compares user, group, role and policy names case-insensitively, so the store's unique name
// is the account and the lower-cased name.
inline std::string RowName(const std::string& account, std::string_view name) { return account + "/" + Lower(name); }

// `prefix` (AIDA, AGPA, ANPA, AROA) and 17 upper-case letters and digits, as IAM's unique ids.
std::string NewIamId(std::string_view prefix);

nlohmann::json TagsToJson(const std::vector<Tag>& tags);
std::vector<Tag> TagsFromJson(const nlohmann::json& tags);

// Items from `marker` on (by `key`), at most max_items; the next page's marker when more remain.
template <typename T, typename KeyFn>
Page<T> Paginate(std::vector<T> sorted, const ListOptions& options, KeyFn key) {
  Page<T> page;
  size_t i = 0;
  if (!options.marker.empty())
    while (i < sorted.size() && key(sorted[i]) < options.marker) ++i;
  size_t max_items = std::max<size_t>(1, options.max_items);
  for (; i < sorted.size() && page.items.size() < max_items; ++i) page.items.push_back(std::move(sorted[i]));
  if (i < sorted.size()) page.marker = key(sorted[i]);
  return page;
}

Status CheckListOptions(const ListOptions& options);

// Sum of PolicyQuotaChars over inline policies, LimitExceeded past `limit` for `what` ("user x").
Status CheckInlineQuota(const std::map<std::string, std::string>& policies, size_t limit, const std::string& what);

// Attaches `arn` to `attached` (no-op when already there), LimitExceeded past `limit`.
Status AttachTo(std::vector<std::string>* attached, const std::string& arn, size_t limit, std::string_view quota);
// NoSuchEntity when `arn` is not in `attached`.
Status DetachFrom(std::vector<std::string>* attached, const std::string& arn);
// One page of `attached` (sorted by ARN) under `options.path_prefix`.
Page<AttachedPolicy> AttachedPage(const std::vector<std::string>& attached, const ListOptions& options);
// One page of inline policy names.
Page<std::string> InlinePage(const std::map<std::string, std::string>& policies, const ListOptions& options);

// A user's row read back (backend_users.cc).
Result<User> UserFromRow(const store::ResourceRow& row);

// The rows of `kind` that belong to `account`.
Result<std::vector<store::ResourceRow>> AccountRows(store::MetadataStore* store, const char* kind,
                                                   const std::string& account);

}  // namespace lathe::iam::internal
