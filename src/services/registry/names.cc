// The registry's checks on names and text from outside, and its ARNs (rows.h). Every check
// bounds the length before it looks at characters; nothing here uses a regex.
#include <string_view>

#include "core/arn.h"
#include "core/utf8.h"
#include "services/registry/rows.h"

namespace lathe::registry::rows {
namespace {

bool IsAlnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Enough of a hostile value to recognise it in an error message, never all 10 KB of it.
std::string Shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  if (s.size() > 64) out += "...";
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "1".."999999999" without leading zeros (so "g/01" is not a second name of "g/1").
bool ParseVersionNumber(std::string_view s, int* out) {
  if (!AllDigits(s) || s.size() > 9 || s[0] == '0') return false;
  *out = std::stoi(std::string(s));
  return true;
}

// arn:aws:sagemaker:<region>:<account>:<resource> -> resource, checking the rest.
Result<std::string> SageMakerResource(const std::string& arn, const std::string& region, const std::string& account) {
  if (arn.size() > kMaxArnBytes) return Invalid("arn", "longer than " + std::to_string(kMaxArnBytes) + " bytes");
  std::vector<std::string_view> parts;
  std::string_view rest(arn);
  for (int i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return Invalid("arn", "not an ARN: " + Shown(arn));
    parts.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sagemaker")
    return Invalid("arn", "not a SageMaker ARN: " + Shown(arn));
  if (parts[3] != region || parts[4] != account)
    return Status::NotFound("no model registry resource " + Shown(arn) + " in account " + account + " and region " +
                            region);
  return std::string(rest);
}

}  // namespace

Status Invalid(const std::string& field, const std::string& message) {
  return Status::InvalidArgument(field + ": " + message);
}

Status CheckEntityName(const std::string& field, const std::string& name, size_t max_bytes) {
  if (name.empty()) return Invalid(field, "must not be empty");
  if (name.size() > max_bytes)
    return Invalid(field, "must be at most " + std::to_string(max_bytes) + " characters, got " +
                              std::to_string(name.size()));
  for (unsigned char c : name)
    if (!IsAlnum(c) && c != '-')
      return Invalid(field, "'" + Shown(name) + "' may hold only letters, digits and hyphens");
  if (!IsAlnum(static_cast<unsigned char>(name.front())) || !IsAlnum(static_cast<unsigned char>(name.back())))
    return Invalid(field, "'" + Shown(name) + "' must begin and end with a letter or digit");
  return Status::Ok();
}

Status CheckProse(const std::string& field, const std::string& text, size_t max_bytes) {
  if (text.size() > max_bytes) return Invalid(field, "must be at most " + std::to_string(max_bytes) + " bytes");
  for (unsigned char c : text)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return Invalid(field, "must not contain control characters");
  if (FindInvalidUtf8(text) != std::string::npos) return Invalid(field, "must be UTF-8 text");
  return Status::Ok();
}

Status CheckToken(const std::string& field, const std::string& text, size_t max_bytes, bool required) {
  if (required && text.empty()) return Invalid(field, "must not be empty");
  if (text.size() > max_bytes) return Invalid(field, "must be at most " + std::to_string(max_bytes) + " bytes");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return Invalid(field, "must not contain control characters");
  if (FindInvalidUtf8(text) != std::string::npos) return Invalid(field, "must be UTF-8 text");
  return Status::Ok();
}

namespace {
bool DepthWithin(const nlohmann::json& j, int limit) {
  if (limit < 0) return false;
  if (!j.is_structured()) return true;
  for (const auto& child : j)
    if (!DepthWithin(child, limit - 1)) return false;
  return true;
}
}  // namespace

Status CheckJsonDepth(const std::string& field, const nlohmann::json& j) {
  // The caller parsed it already (and bounded its parse); this keeps the registry's own walks
  // (dump, copy) shallow.
  if (!DepthWithin(j, kMaxJsonDepth))
    return Invalid(field, "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
  return Status::Ok();
}

Status CheckStringMap(const std::string& field, const std::map<std::string, std::string>& m, size_t max_entries) {
  if (m.size() > max_entries)
    return Invalid(field, "at most " + std::to_string(max_entries) + " entries, got " + std::to_string(m.size()));
  for (const auto& [k, v] : m) {
    LATHE_RETURN_IF_ERROR(CheckToken(field + " key", k, kMaxKeyBytes, /*required=*/true));
    LATHE_RETURN_IF_ERROR(CheckToken(field + " value of " + Shown(k), v, kMaxValueBytes, /*required=*/false));
  }
  return Status::Ok();
}

Status CheckMetadata(const std::map<std::string, std::string>& m) {
  size_t customer = 0, own = 0;
  for (const auto& [k, v] : m) {
    const bool lathe_own = k.rfind(kLatheMetadataPrefix, 0) == 0;
    ++(lathe_own ? own : customer);
    LATHE_RETURN_IF_ERROR(CheckToken("metadata key", k, kMaxKeyBytes, /*required=*/true));
    LATHE_RETURN_IF_ERROR(CheckToken("metadata value of " + Shown(k), v,
                                     lathe_own ? kMaxLatheMetadataValueBytes : kMaxValueBytes, /*required=*/false));
  }
  if (customer > kMaxMetadataEntries)
    return Invalid("metadata", "at most " + std::to_string(kMaxMetadataEntries) + " entries, got " +
                                   std::to_string(customer));
  if (own > kMaxLatheMetadataEntries)
    return Invalid("metadata", "at most " + std::to_string(kMaxLatheMetadataEntries) + " lathe: entries");
  return Status::Ok();
}

std::string GroupArn(const std::string& region, const std::string& account, const std::string& group) {
  return MakeArn("sagemaker", region, account, "model-package-group/" + group);
}

std::string VersionArn(const std::string& region, const std::string& account, const std::string& group, int version) {
  return MakeArn("sagemaker", region, account, "model-package/" + VersionName(group, version));
}

std::string VersionName(const std::string& group, int version) { return group + "/" + std::to_string(version); }

Result<std::pair<std::string, int>> ParseVersionRef(const std::string& ref, const std::string& region,
                                                    const std::string& account) {
  if (ref.size() > kMaxArnBytes) return Invalid("version", "longer than " + std::to_string(kMaxArnBytes) + " bytes");
  std::string path = ref;
  if (ref.rfind("arn:", 0) == 0) {
    Result<std::string> resource = SageMakerResource(ref, region, account);
    if (!resource.ok()) return resource.status();
    const std::string prefix = "model-package/";
    if (resource->rfind(prefix, 0) != 0) return Invalid("version", "not a model package ARN: " + Shown(ref));
    path = resource->substr(prefix.size());
  }
  size_t slash = path.find('/');
  int number = 0;
  if (slash == std::string::npos || !ParseVersionNumber(std::string_view(path).substr(slash + 1), &number))
    return Invalid("version", "expected <group>/<version> or a model package ARN, got '" + Shown(ref) + "'");
  std::string group = path.substr(0, slash);
  LATHE_RETURN_IF_ERROR(CheckEntityName("group", group, kMaxGroupNameBytes));
  return std::make_pair(std::move(group), number);
}

Result<std::string> ParseGroupRef(const std::string& ref, const std::string& region, const std::string& account) {
  if (ref.size() > kMaxArnBytes) return Invalid("group", "longer than " + std::to_string(kMaxArnBytes) + " bytes");
  std::string name = ref;
  if (ref.rfind("arn:", 0) == 0) {
    Result<std::string> resource = SageMakerResource(ref, region, account);
    if (!resource.ok()) return resource.status();
    const std::string prefix = "model-package-group/";
    if (resource->rfind(prefix, 0) != 0) return Invalid("group", "not a model package group ARN: " + Shown(ref));
    name = resource->substr(prefix.size());
  }
  LATHE_RETURN_IF_ERROR(CheckEntityName("group", name, kMaxGroupNameBytes));
  return name;
}

}  // namespace lathe::registry::rows
