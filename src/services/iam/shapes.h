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
// <User>: Path, UserName, UserId, Arn, CreateDate, and with `details` (GetUser, CreateUser) Tags.
void WriteUser(pugi::xml_node parent, const User& user, const char* element = "User", bool details = true);
// <Group>: Path, GroupName, GroupId, Arn, CreateDate.
void WriteGroup(pugi::xml_node parent, const Group& group, const char* element = "Group");
// <Policy>: PolicyName, PolicyId, Arn, Path, DefaultVersionId, AttachmentCount,
// PermissionsBoundaryUsageCount, IsAttachable, Description (with `details`), CreateDate, UpdateDate, Tags.
void WritePolicy(pugi::xml_node parent, const ManagedPolicy& policy, const char* element = "Policy",
                 bool details = true);
// <PolicyVersion>: Document (URL-encoded, when `with_document`), VersionId, IsDefaultVersion, CreateDate.
void WritePolicyVersion(pugi::xml_node parent, const PolicyVersionInfo& version, bool is_default,
                        bool with_document, const char* element = "PolicyVersion");
// <AttachedPolicies> members.
void WriteAttachedPolicies(pugi::xml_node result, const std::vector<AttachedPolicy>& policies);
// Tags.member.N.Key / .Value, at most kMaxTagsPerRole (checked by ValidateTags).
Result<std::vector<Tag>> TagsFromParams(const aws::QueryParams& params);
// IsTruncated, and Marker when truncated.
void WritePaging(pugi::xml_node result, bool truncated, const std::string& marker);

// RFC 3986 percent-encoding of everything but unreserved characters, as IAM encodes documents.
std::string UrlEncodeDocument(std::string_view document);

}  // namespace lathe::iam
