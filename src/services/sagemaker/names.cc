#include "services/sagemaker/names.h"

#include <vector>

#include "services/sagemaker/errors.h"

namespace lathe::sagemaker {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::vector<std::string_view> Split(std::string_view s, char sep, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t pos = s.find(sep);
    if (pos == std::string_view::npos) break;
    parts.push_back(s.substr(0, pos));
    s.remove_prefix(pos + 1);
  }
  parts.push_back(s);
  return parts;
}

Status BadValue(std::string_view value, const std::string& member, const std::string& what) {
  return ValidationError("Value '" + aws::Quoted(value) + "' at '" + member + "' is not " + what + ".");
}

// The resource part ("model-package-group/x") of a SageMaker ARN of `account`.
Result<std::string_view> ArnResourceOf(std::string_view arn, const std::string& account, const std::string& member) {
  std::vector<std::string_view> parts = Split(arn, ':', 6);
  if (parts.size() != 6 || parts[0] != "arn" || parts[1].substr(0, 3) != "aws" || parts[2] != "sagemaker")
    return BadValue(arn, member, "a SageMaker ARN");
  if (parts[4] != account)
    return ValidationError("The ARN " + aws::Quoted(arn) + " belongs to account " + aws::Quoted(parts[4]) +
                           "; this endpoint serves account " + account + ".");
  return parts[5];
}

Result<int> VersionNumber(std::string_view s, std::string_view whole, const std::string& member) {
  if (s.empty() || s.size() > static_cast<size_t>(kMaxVersionDigits)) return BadValue(whole, member, "a model package version");
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return BadValue(whole, member, "a model package version");
    v = v * 10 + (c - '0');
  }
  if (v < 1) return BadValue(whole, member, "a model package version");
  return v;
}

}  // namespace

bool IsEntityName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '-') return false;
  return true;
}

Result<std::string> GroupNameFrom(std::string_view arn_or_name, const std::string& account, const std::string& member) {
  LATHE_RETURN_IF_ERROR(aws::CheckLength(arn_or_name, member, 1, kMaxArnOrNameBytes));
  std::string_view name = arn_or_name;
  if (arn_or_name.substr(0, 4) == "arn:") {
    Result<std::string_view> resource = ArnResourceOf(arn_or_name, account, member);
    if (!resource.ok()) return resource.status();
    constexpr std::string_view kPrefix = "model-package-group/";
    if (resource->substr(0, kPrefix.size()) != kPrefix) return BadValue(arn_or_name, member, "a model package group ARN");
    name = resource->substr(kPrefix.size());
  }
  if (!IsEntityName(name)) return BadValue(arn_or_name, member, "a model package group name");
  return std::string(name);
}

Result<VersionRef> VersionRefFrom(std::string_view arn_or_name, const std::string& account, const std::string& member) {
  LATHE_RETURN_IF_ERROR(aws::CheckLength(arn_or_name, member, 1, kMaxVersionedArnOrNameBytes));
  std::string_view rest = arn_or_name;
  if (arn_or_name.substr(0, 4) == "arn:") {
    Result<std::string_view> resource = ArnResourceOf(arn_or_name, account, member);
    if (!resource.ok()) return resource.status();
    constexpr std::string_view kPrefix = "model-package/";
    if (resource->substr(0, kPrefix.size()) != kPrefix) return BadValue(arn_or_name, member, "a model package ARN");
    rest = resource->substr(kPrefix.size());
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos)
    return DoesNotExist("Model package " + aws::Quoted(arn_or_name) +
                        " does not exist (lathe keeps versioned model packages only: <group>/<version>).");
  VersionRef ref;
  std::string_view group = rest.substr(0, slash);
  if (!IsEntityName(group)) return BadValue(arn_or_name, member, "a model package name");
  Result<int> version = VersionNumber(rest.substr(slash + 1), arn_or_name, member);
  if (!version.ok()) return version.status();
  ref.group = std::string(group);
  ref.version = *version;
  return ref;
}

}  // namespace lathe::sagemaker
