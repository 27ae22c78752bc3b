#include "services/iam/validation.h"

#include <set>

#include "core/utf8.h"
#include "services/iam/errors.h"

namespace lathe::iam {
namespace {

// The value as AWS echoes it in a message: at most 64 characters (the XML writer makes any
// control character or invalid byte printable).
std::string Shown(std::string_view s) { return std::string(s.substr(0, 64)) + (s.size() > 64 ? "..." : ""); }

Status Invalid(std::string_view value, std::string_view member, std::string_view constraint) {
  return ValidationError("1 validation error detected: Value '" + Shown(value) + "' at '" + std::string(member) +
                         "' failed to satisfy constraint: " + std::string(constraint));
}

Status Length(std::string_view value, std::string_view member, size_t min, size_t max, size_t length) {
  if (length < min)
    return Invalid(value, member, "Member must have length greater than or equal to " + std::to_string(min));
  if (length > max)
    return Invalid(value, member, "Member must have length less than or equal to " + std::to_string(max));
  return Status::Ok();
}

// Decodes valid UTF-8 into code points; false when `s` is not valid UTF-8.
bool CodePoints(std::string_view s, std::vector<char32_t>* out) {
  if (FindInvalidUtf8(s) != std::string_view::npos) return false;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out->push_back(cp);
    i += n;
  }
  return true;
}

bool IsNameChar(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

Status Name(std::string_view name, std::string_view member, size_t max) {
  if (name.size() > max || name.empty()) return Length(name, member, 1, max, name.size());
  for (unsigned char c : name)
    if (!IsNameChar(c)) return Invalid(name, member, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  return Status::Ok();
}

// A tag key or value character: \p{L}\p{Z}\p{N} and _.:/=+-@. Outside ASCII every printable
// code point is taken as a letter (no Unicode tables here); C0/C1 controls are not.
bool IsTagChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == '_' ||
           c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' || c == '@';
  }
  return c >= 0xA0 && c != 0xFEFF && !(c >= 0xFFF0 && c <= 0xFFFF);
}

Status TagText(std::string_view s, std::string_view member, size_t min, size_t max) {
  if (s.size() > 4 * max) return Length(s, member, min, max, s.size());
  std::vector<char32_t> cps;
  if (!CodePoints(s, &cps)) return Invalid(s, member, "Member must be valid UTF-8");
  LATHE_RETURN_IF_ERROR(Length(s, member, min, max, cps.size()));
  for (char32_t c : cps)
    if (!IsTagChar(c))
      return Invalid(s, member, "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
  return Status::Ok();
}

}  // namespace

Status ValidateRoleName(std::string_view name, std::string_view member) { return Name(name, member, 64); }

Status ValidatePolicyName(std::string_view name, std::string_view member) { return Name(name, member, 128); }

Status ValidatePath(std::string_view path, std::string_view member) {
  LATHE_RETURN_IF_ERROR(Length(path, member, 1, 512, path.size()));
  bool ok = path.front() == '/' && path.back() == '/';
  for (unsigned char c : path)
    if (c < 0x21 || c > 0x7E) ok = false;
  if (!ok)
    return Invalid(path, member,
                   "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  return Status::Ok();
}

Status ValidatePathPrefix(std::string_view prefix, std::string_view member) {
  LATHE_RETURN_IF_ERROR(Length(prefix, member, 1, 512, prefix.size()));
  bool ok = prefix.front() == '/';
  for (unsigned char c : prefix)
    if (c < 0x21 || c > 0x7F) ok = false;
  if (!ok) return Invalid(prefix, member, "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*");
  return Status::Ok();
}

Status ValidateDescription(std::string_view description) {
  if (description.size() > 2 * 1000) return Length(description, "description", 0, 1000, description.size());
  std::vector<char32_t> cps;
  if (!CodePoints(description, &cps)) return Invalid(description, "description", "Member must be valid UTF-8");
  LATHE_RETURN_IF_ERROR(Length(description, "description", 0, 1000, cps.size()));
  for (char32_t c : cps) {
    bool ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7E) || (c >= 0xA1 && c <= 0xFF);
    if (!ok)
      return Invalid(description, "description",
                     "Member must satisfy regular expression pattern: "
                     "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*");
  }
  return Status::Ok();
}

Status ValidateUserName(std::string_view name, std::string_view member, size_t max) { return Name(name, member, max); }

Status ValidateGroupName(std::string_view name, std::string_view member) { return Name(name, member, 128); }

Status ValidateAccessKeyId(std::string_view id) {
  LATHE_RETURN_IF_ERROR(Length(id, "accessKeyId", 16, 128, id.size()));
  for (unsigned char c : id)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return Invalid(id, "accessKeyId", "Member must satisfy regular expression pattern: [\\w]+");
  return Status::Ok();
}

Status ValidatePolicyPath(std::string_view path) {
  LATHE_RETURN_IF_ERROR(Length(path, "path", 1, 512, path.size()));
  // ((/[A-Za-z0-9\.,\+@=_-]+)*)/ : slash-separated non-empty segments, ending in a slash.
  bool ok = path.front() == '/' && path.back() == '/';
  for (size_t i = 0; ok && i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '/') ok = i == 0 || path[i - 1] != '/';
    else ok = IsNameChar(c);
  }
  if (!ok)
    return Invalid(path, "path", "Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
  return Status::Ok();
}

Status ValidateVersionId(std::string_view id) {
  // v[1-9][0-9]*(\.[A-Za-z0-9-]*)? ; lathe's own are v1, v2, ... (at most 20 characters here).
  bool ok = id.size() >= 2 && id.size() <= 20 && id[0] == 'v' && id[1] >= '1' && id[1] <= '9';
  size_t i = 2;
  while (ok && i < id.size() && id[i] >= '0' && id[i] <= '9') ++i;
  if (ok && i < id.size()) {
    ok = id[i] == '.';
    for (++i; ok && i < id.size(); ++i)
      ok = (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
           id[i] == '-';
  }
  if (!ok)
    return Invalid(id, "versionId", "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");
  return Status::Ok();
}

Status ValidateMarker(std::string_view marker) {
  if (marker.size() > 2 * 320 || marker.empty()) return Length(marker, "marker", 1, 320, marker.size());
  std::vector<char32_t> cps;
  if (!CodePoints(marker, &cps)) return Invalid(marker, "marker", "Member must be valid UTF-8");
  LATHE_RETURN_IF_ERROR(Length(marker, "marker", 1, 320, cps.size()));
  for (char32_t c : cps)
    if (c < 0x20 || c > 0xFF)
      return Invalid(marker, "marker", "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]+");
  return Status::Ok();
}

Status ValidateTags(const std::vector<Tag>& tags) {
  if (tags.size() > kMaxTagsPerRole)
    return ValidationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must "
                           "have length less than or equal to " + std::to_string(kMaxTagsPerRole));
  std::set<std::string> keys;
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string at = "tags." + std::to_string(i + 1) + ".member.";
    LATHE_RETURN_IF_ERROR(TagText(tags[i].key, at + "key", 1, 128));
    LATHE_RETURN_IF_ERROR(TagText(tags[i].value, at + "value", 0, 256));
    if (tags[i].key.size() >= 4 && (tags[i].key.substr(0, 4) == "aws:" || tags[i].key.substr(0, 4) == "AWS:"))
      return InvalidInput("Tag keys beginning with 'aws:' are reserved for AWS use: " + Shown(tags[i].key));
    if (!keys.insert(tags[i].key).second) return InvalidInput("Duplicate tag keys found: " + Shown(tags[i].key));
  }
  return Status::Ok();
}

}  // namespace lathe::iam
