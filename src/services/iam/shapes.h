// IAM's wire shapes (botocore's iam/2010-05-08 model): query parameters -> typed inputs, typed
// results -> the XML members of <{Action}Result>. Policy documents go out URL-encoded, as AWS
// sends them (botocore and the CLI decode them).
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "aws/query_protocol.h"
#include "services/iam/backend.h"

namespace lathe::iam {

Result<CreateRoleInput> CreateRoleFromParams(const aws::QueryParams& params);
// PathPrefix, Marker and MaxItems (1-1000, default 100).
Result<ListOptions> ListOptionsFromParams(const aws::QueryParams& params);

// <Role>: Path, RoleName, RoleId, Arn, CreateDate, AssumeRolePolicyDocument, Description,
// MaxSessionDuration, and with `details` (GetRole, CreateRole) Tags and RoleLastUsed, which
// ListRoles leaves out as AWS does.
void WriteRole(pugi::xml_node parent, const Role& role, const char* element = "Role", bool details = true);
// IsTruncated, and Marker when truncated.
void WritePaging(pugi::xml_node result, bool truncated, const std::string& marker);

// RFC 3986 percent-encoding of everything but unreserved characters, as IAM encodes documents.
std::string UrlEncodeDocument(std::string_view document);

}  // namespace lathe::iam
