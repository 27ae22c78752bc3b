// Opaque list-paging tokens, one shape for every service (Bedrock's nextToken, IAM's Marker, S3's
// continuation-token): the position a list stopped at (an offset, a name) with the list it
// belongs to and a check value, base64url-encoded. Clients cannot misread one as a number or
// a name, a token from one list is refused by another, and a mistyped or truncated token is
// caught before its position is used. Not a secret: the services still check the position.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lathe {

// Positions longer than this are never encoded (the services' own are far shorter).
inline constexpr size_t kMaxPagePositionBytes = 1024;

// The token for `position` in `list` (e.g. "bedrock:jobs", "iam:roles").
std::string EncodePageToken(std::string_view list, std::string_view position);
// The position, or nullopt when `token` is not one EncodePageToken made for `list`.
std::optional<std::string> DecodePageToken(std::string_view list, std::string_view token);

}  // namespace lathe
