#include "services/iam/shapes.h"

#include "aws/xml.h"
#include "core/arn.h"
#include "core/page_token.h"

namespace lathe::iam {

using aws::AppendTextElement;

namespace {
void WriteTags(pugi::xml_node parent, const std::vector<Tag>& tags) {
  if (tags.empty()) return;
  pugi::xml_node list = parent.append_child("Tags");
  for (const Tag& t : tags) {
    pugi::xml_node m = list.append_child("member");
    AppendTextElement(m, "Key", t.key);
    AppendTextElement(m, "Value", t.value);
  }
}
}  // namespace

Result<CreateRoleInput> CreateRoleFromParams(const aws::QueryParams& params) {
  CreateRoleInput in;
  Result<std::string> name = params.Required("RoleName");
  if (!name.ok()) return name.status();
  in.name = *name;
  Result<std::string> trust = params.Required("AssumeRolePolicyDocument");
  if (!trust.ok()) return trust.status();
  in.assume_role_policy = *trust;
  if (const std::string* path = params.Get("Path")) in.path = *path;
  if (const std::string* description = params.Get("Description")) in.description = *description;
  Result<std::optional<int64_t>> duration = params.Int("MaxSessionDuration", 3600, 43200);
  if (!duration.ok()) return duration.status();
  if (*duration) in.max_session_duration = static_cast<int>(**duration);
  Result<std::vector<Tag>> tags = TagsFromParams(params);
  if (!tags.ok()) return tags.status();
  in.tags = std::move(*tags);
  return in;
}

Result<std::vector<Tag>> TagsFromParams(const aws::QueryParams& params) {
  std::vector<Tag> out;
  Result<size_t> tags = params.ListLength("Tags");
  if (!tags.ok()) return tags.status();
  for (size_t i = 1; i <= *tags; ++i) {
    std::string at = "Tags.member." + std::to_string(i);
    Result<std::string> key = params.Required(at + ".Key");
    if (!key.ok()) return key.status();
    Result<std::string> value = params.Required(at + ".Value");
    if (!value.ok()) return value.status();
    out.push_back({*key, *value});
  }
  return out;
}


void WriteUser(pugi::xml_node parent, const User& user, const char* element, bool details) {
  pugi::xml_node u = parent.append_child(element);
  AppendTextElement(u, "Path", user.path);
  AppendTextElement(u, "UserName", user.name);
  AppendTextElement(u, "UserId", user.id);
  AppendTextElement(u, "Arn", user.arn);
  AppendTextElement(u, "CreateDate", Iso8601(user.created_ms));
  if (details) WriteTags(u, user.tags);
}

void WriteGroup(pugi::xml_node parent, const Group& group, const char* element) {
  pugi::xml_node g = parent.append_child(element);
  AppendTextElement(g, "Path", group.path);
  AppendTextElement(g, "GroupName", group.name);
  AppendTextElement(g, "GroupId", group.id);
  AppendTextElement(g, "Arn", group.arn);
  AppendTextElement(g, "CreateDate", Iso8601(group.created_ms));
}

void WritePolicy(pugi::xml_node parent, const ManagedPolicy& policy, const char* element, bool details) {
  pugi::xml_node p = parent.append_child(element);
  AppendTextElement(p, "PolicyName", policy.name);
  AppendTextElement(p, "PolicyId", policy.id);
  AppendTextElement(p, "Arn", policy.arn);
  AppendTextElement(p, "Path", policy.path);
  AppendTextElement(p, "DefaultVersionId", policy.default_version);
  AppendTextElement(p, "AttachmentCount", std::to_string(policy.attachment_count));
  AppendTextElement(p, "PermissionsBoundaryUsageCount", "0");
  AppendTextElement(p, "IsAttachable", "true");
  if (details && !policy.description.empty()) AppendTextElement(p, "Description", policy.description);
  AppendTextElement(p, "CreateDate", Iso8601(policy.created_ms));
  AppendTextElement(p, "UpdateDate", Iso8601(policy.updated_ms));
  if (details) WriteTags(p, policy.tags);
}

void WritePolicyVersion(pugi::xml_node parent, const PolicyVersionInfo& version, bool is_default, bool with_document,
                        const char* element) {
  pugi::xml_node v = parent.append_child(element);
  if (with_document) AppendTextElement(v, "Document", UrlEncodeDocument(version.document));
  AppendTextElement(v, "VersionId", version.id);
  AppendTextElement(v, "IsDefaultVersion", is_default ? "true" : "false");
  AppendTextElement(v, "CreateDate", Iso8601(version.created_ms));
}

void WriteAttachedPolicies(pugi::xml_node result, const std::vector<AttachedPolicy>& policies) {
  pugi::xml_node list = result.append_child("AttachedPolicies");
  for (const AttachedPolicy& p : policies) {
    pugi::xml_node m = list.append_child("member");
    AppendTextElement(m, "PolicyName", p.name);
    AppendTextElement(m, "PolicyArn", p.arn);
  }
}

// IAM's lists share one marker space: a marker names where a sorted list resumes.
constexpr std::string_view kIamList = "iam:list";

Result<ListOptions> ListOptionsFromParams(const aws::QueryParams& params) {
  ListOptions options;
  if (const std::string* prefix = params.Get("PathPrefix")) options.path_prefix = *prefix;
  if (const std::string* marker = params.Get("Marker")) {
    // Markers are opaque (core/page_token.h); the backend checks the name inside.
    std::optional<std::string> position = DecodePageToken(kIamList, *marker);
    if (!position) return Status::Aws("ValidationError", 400, "Invalid Marker: not a marker this server issued");
    options.marker = *position;
  }
  Result<std::optional<int64_t>> max_items = params.Int("MaxItems", 1, 1000);
  if (!max_items.ok()) return max_items.status();
  if (*max_items) options.max_items = static_cast<size_t>(**max_items);
  return options;
}

std::string UrlEncodeDocument(std::string_view document) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(document.size() * 3);
  for (unsigned char c : document) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void WriteRole(pugi::xml_node parent, const Role& role, const char* element, bool details) {
  pugi::xml_node r = parent.append_child(element);
  AppendTextElement(r, "Path", role.path);
  AppendTextElement(r, "RoleName", role.name);
  AppendTextElement(r, "RoleId", role.id);
  AppendTextElement(r, "Arn", role.arn);
  AppendTextElement(r, "CreateDate", Iso8601(role.created_ms));
  AppendTextElement(r, "AssumeRolePolicyDocument", UrlEncodeDocument(role.assume_role_policy));
  if (!role.description.empty()) AppendTextElement(r, "Description", role.description);
  AppendTextElement(r, "MaxSessionDuration", std::to_string(role.max_session_duration));
  if (!details) return;
  WriteTags(r, role.tags);
  r.append_child("RoleLastUsed");
}

void WritePaging(pugi::xml_node result, bool truncated, const std::string& marker) {
  AppendTextElement(result, "IsTruncated", truncated ? "true" : "false");
  if (truncated) AppendTextElement(result, "Marker", EncodePageToken(kIamList, marker));
}

}  // namespace lathe::iam
