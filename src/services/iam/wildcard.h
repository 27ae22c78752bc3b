// Wildcard matching as IAM policies use it: '*' matches any run of characters (also none), '?'
// exactly one. Iterative, with one remembered '*' (the classic greedy matcher): no recursion and
// no backtracking beyond the last star, so a hostile pattern costs at most |pattern| x |text|
// steps, and both are bounded by the policy and request quotas (docs/serve.md, Limits).
#pragma once

#include <string_view>

namespace lathe::iam {

// The longest text or pattern that is matched at all; longer never matches (IAM's ARNs and
// request values are at most 2048 characters; S3 keys 1024).
inline constexpr size_t kMaxMatchLength = 4096;

// Whole-string match of `text` against `pattern`; ASCII case folded when `ignore_case` (actions
// are matched so: "s3:getobject" is s3:GetObject).
bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case = false);

// An ARN against a policy's ARN pattern, as IAM documents it: the six colon-delimited components
// (arn, partition, service, region, account, resource; the resource keeps any further colons) are
// compared separately, each with wildcards. A pattern with fewer components whose last one ends
// in '*' lets that '*' run on across the remaining colons ("arn:aws:s3:::*" and "arn:aws:*").
// "*" alone matches anything, ARN or not.
bool ArnMatch(std::string_view pattern, std::string_view arn);

}  // namespace lathe::iam
