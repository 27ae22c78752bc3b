#include "service/model_reference.h"

#include <string_view>

namespace lathe::service {
namespace {

constexpr size_t kMaxReferenceBytes = 2048;  // as Bedrock's model identifiers
constexpr size_t kMaxEntityBytes = 63;       // SageMaker's EntityName (groups, aliases)

// SageMaker's EntityName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}. Dots never appear, which is what
// tells "<group>:<alias>" from a foundation model id with a version ("anthropic.claude-v2:1").
bool IsEntityName(std::string_view s) {
  if (s.empty() || s.size() > kMaxEntityBytes || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool IsVersionNumber(std::string_view s) {
  if (s.empty() || s.size() > 9 || s.front() == '0') return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "<group>:<alias>" or "<group>/<version>".
bool IsShortReference(std::string_view s) {
  const size_t colon = s.find(':'), slash = s.find('/');
  if (colon != std::string_view::npos && slash == std::string_view::npos)
    return IsEntityName(s.substr(0, colon)) && IsEntityName(s.substr(colon + 1));
  if (slash != std::string_view::npos && colon == std::string_view::npos)
    return IsEntityName(s.substr(0, slash)) && IsVersionNumber(s.substr(slash + 1));
  return false;
}

}  // namespace

bool IsRegistryReference(const std::string& reference) {
  if (reference.size() > kMaxReferenceBytes) return false;
  std::string_view s = reference;
  if (s.rfind("arn:", 0) != 0) return IsShortReference(s);
  // arn:<partition>:sagemaker:<region>:<account>:<resource>: the resource starts after the fifth ':'.
  size_t fields[5] = {};
  size_t pos = 0;
  for (size_t& f : fields) {
    pos = s.find(':', pos);
    if (pos == std::string_view::npos) return false;
    f = ++pos;
  }
  if (s.substr(fields[1], fields[2] - fields[1] - 1) != "sagemaker") return false;
  const std::string_view resource = s.substr(pos);
  // A group ARN names an alias after it, a package ARN a version.
  if (resource.rfind("model-package-group/", 0) == 0) {
    const std::string_view rest = resource.substr(20);
    return rest.find('/') == std::string_view::npos && IsShortReference(rest);
  }
  if (resource.rfind("model-package/", 0) == 0) {
    const std::string_view rest = resource.substr(14);
    return rest.find(':') == std::string_view::npos && IsShortReference(rest);
  }
  return false;
}

}  // namespace lathe::service
