#include "services/lambda/names.h"

#include <vector>

#include "core/arn.h"

namespace lathe::lambda {
namespace {

constexpr const char kNamePattern[] =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
    "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";

bool IsDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "us-east-1", "us-gov-west-1": letters, '-', a final digit.
bool LooksLikeRegion(std::string_view s) {
  if (s.size() < 4 || s.size() > 32 || s[2] != '-' || s.back() < '0' || s.back() > '9') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool ValidQualifier(std::string_view q) {
  if (q == "$LATEST") return true;
  if (q.empty() || q.size() > 128) return false;
  for (char c : q)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

bool ValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFunctionNameLength) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

std::string FunctionArn(const std::string& region, const std::string& account, const std::string& name) {
  return MakeArn("lambda", region, account, "function:" + name);
}

Result<FunctionRef> ParseFunctionRef(std::string_view id, const std::string& field) {
  auto invalid = [&](const std::string& why) -> Status {
    std::string shown(id.substr(0, 256));
    return ValidationError("1 validation error detected: Value '" + shown + "' at '" + field +
                           "' failed to satisfy constraint: " + why);
  };
  if (id.empty() || id.size() > 256) return invalid("Member must have length between 1 and 256");
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t colon = id.find(':', start);
    parts.push_back(id.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
    if (parts.size() > 8) return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
  }
  FunctionRef ref;
  size_t i = 0;
  if (parts[0] == "arn") {
    if (parts.size() < 7 || parts[1].substr(0, 3) != "aws" || parts[2] != "lambda" || !LooksLikeRegion(parts[3]) ||
        !IsDigits(parts[4], 12) || parts[5] != "function")
      return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
    ref.region = std::string(parts[3]);
    ref.account = std::string(parts[4]);
    i = 6;
  } else {
    if (i < parts.size() && parts.size() - i > 1 && LooksLikeRegion(parts[i])) ref.region = std::string(parts[i++]);
    if (i < parts.size() && parts.size() - i > 1 && IsDigits(parts[i], 12)) ref.account = std::string(parts[i++]);
    if (i < parts.size() && parts.size() - i > 1 && parts[i] == "function") ++i;
    else if (!ref.account.empty()) return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
  }
  if (i >= parts.size() || !ValidFunctionName(parts[i]))
    return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
  ref.name = std::string(parts[i++]);
  if (i < parts.size()) {
    if (!ValidQualifier(parts[i]))
      return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
    ref.qualifier = std::string(parts[i++]);
  }
  if (i != parts.size()) return invalid(std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
  return ref;
}

}  // namespace lathe::lambda
