#include "service/s3_uri.h"

#include <cstdio>

#include "core/utf8.h"

namespace lathe::service {
namespace {

constexpr std::string_view kScheme = "s3://";

Status Bad(std::string_view uri, const std::string& why) {
  return Status::InvalidArgument(std::string(uri) + ": " + why);
}

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The syntax of a general purpose bucket name; the reason it is not one, or "".
std::string BucketNameProblem(std::string_view name) {
  if (name.empty()) return "the URI names no bucket (expected s3://bucket/key)";
  if (name.size() < 3 || name.size() > 63)
    return "a bucket name has 3 to 63 characters; \"" + std::string(name) + "\" has " + std::to_string(name.size());
  for (char c : name)
    if (!LowerAlnum(c) && c != '.' && c != '-')
      return "a bucket name has only lowercase letters, digits, '.' and '-'";
  if (!LowerAlnum(name.front()) || !LowerAlnum(name.back()))
    return "a bucket name starts and ends with a lowercase letter or a digit";
  if (name.find("..") != std::string_view::npos) return "a bucket name has no two adjacent periods";
  return "";
}

}  // namespace

bool IsS3Uri(std::string_view uri) { return uri.substr(0, kScheme.size()) == kScheme; }

Result<S3Uri> ParseS3Uri(std::string_view uri) {
  // Length, then bytes, then form: the URI is echoed only once it is known to be printable.
  if (uri.size() > kMaxS3UriLength)
    return Status::InvalidArgument("an s3:// URI has at most " + std::to_string(kMaxS3UriLength) +
                                   " characters; this one has " + std::to_string(uri.size()));
  for (size_t i = 0; i < uri.size(); ++i) {
    const auto c = static_cast<unsigned char>(uri[i]);
    if (c < 0x20 || c == 0x7f) {
      char what[96];
      std::snprintf(what, sizeof what, "the s3:// URI holds a control character (byte 0x%02x at offset %zu)", c, i);
      return Status::InvalidArgument(what);
    }
  }
  if (const size_t bad = FindInvalidUtf8(uri); bad != std::string_view::npos)
    return Status::InvalidArgument("the s3:// URI is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
  if (!IsS3Uri(uri)) return Bad(uri, "expected s3://bucket/key");
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t slash = rest.find('/');
  S3Uri out;
  out.bucket = std::string(rest.substr(0, slash));
  if (std::string why = BucketNameProblem(out.bucket); !why.empty()) return Bad(uri, why);
  if (slash != std::string_view::npos) out.key = std::string(rest.substr(slash + 1));
  if (out.key.size() > kMaxS3KeyBytes)
    return Bad(uri, "an object key has at most " + std::to_string(kMaxS3KeyBytes) + " bytes; this one has " +
                        std::to_string(out.key.size()));
  return out;
}

Result<S3Uri> ParseS3ObjectUri(std::string_view uri) {
  auto parsed = ParseS3Uri(uri);
  if (!parsed.ok()) return parsed;
  if (parsed->key.empty()) return Bad(uri, "names a bucket, not an object (expected s3://bucket/key)");
  if (parsed->key.back() == '/') return Bad(uri, "names a folder, not an object (the URI should be a file)");
  return parsed;
}

Result<S3Uri> ParseS3PrefixUri(std::string_view uri) {
  auto parsed = ParseS3Uri(uri);
  if (!parsed.ok()) return parsed;
  if (!parsed->key.empty() && parsed->key.back() != '/') {
    if (parsed->key.size() + 1 > kMaxS3KeyBytes)
      return Bad(uri, "an output prefix has at most " + std::to_string(kMaxS3KeyBytes - 1) + " bytes");
    parsed->key.push_back('/');
  }
  return parsed;
}

}  // namespace lathe::service
