// The bounds and shapes S3 holds object requests to, checked by hand (lengths first).
#include <openssl/rand.h>

#include "aws/wire.h"
#include "core/utf8.h"
#include "services/s3/errors.h"
#include "services/s3/objects.h"

namespace lathe::s3 {
namespace {

constexpr char kVersionIdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
constexpr size_t kVersionIdChars = 32;

bool HasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// RFC 7230's token characters: what a header name may hold.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Digits only, at most 19 of them (no overflow); nullopt otherwise.
std::optional<uint64_t> ParseCount(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("An object key must not be empty");
  if (key.size() > kMaxKeyBytes)
    return KeyTooLong("Your key is too long: " + std::to_string(key.size()) + " bytes, at most " +
                      std::to_string(kMaxKeyBytes));
  if (FindInvalidUtf8(key) != std::string_view::npos)
    return InvalidArgument("The object key is not valid UTF-8");
  return Status::Ok();
}

Status ValidateUserMetadata(const std::map<std::string, std::string>& user) {
  size_t total = 0;
  for (const auto& [name, value] : user) {
    total += name.size() + value.size();
    if (total > kMaxUserMetadataBytes)
      return MetadataTooLarge("Your metadata headers exceed the maximum allowed metadata size: x-amz-meta-* names "
                              "and values hold more than " +
                              std::to_string(kMaxUserMetadataBytes) + " bytes");
    if (name.empty()) return InvalidArgument("A user metadata header needs a name after x-amz-meta-");
    for (unsigned char c : name)
      if (!IsTokenChar(c)) return InvalidArgument("Invalid user metadata name x-amz-meta-" + aws::Printable(name, 64));
    if (HasControl(value) || FindInvalidUtf8(value) != std::string_view::npos)
      return InvalidArgument("The value of x-amz-meta-" + aws::Printable(name, 64) +
                             " holds control characters or invalid UTF-8");
  }
  return Status::Ok();
}

Status ValidateTags(const Tags& tags) {
  if (tags.size() > kMaxObjectTags)
    return BadRequest("Object tags cannot be greater than " + std::to_string(kMaxObjectTags));
  for (size_t i = 0; i < tags.size(); ++i) {
    const auto& [key, value] = tags[i];
    // Lengths in characters, as AWS counts them; bytes bound the count first.
    if (key.empty() || key.size() > 4 * kMaxTagKeyChars || FindInvalidUtf8(key) != std::string_view::npos ||
        CountCodePoints(key) > kMaxTagKeyChars || HasControl(key))
      return InvalidTag("The TagKey you have provided is invalid");
    if (key.compare(0, 4, "aws:") == 0) return InvalidTag("Your TagKey cannot be prefixed with aws:");
    if (value.size() > 4 * kMaxTagValueChars || FindInvalidUtf8(value) != std::string_view::npos ||
        CountCodePoints(value) > kMaxTagValueChars || HasControl(value))
      return InvalidTag("The TagValue you have provided is invalid");
    for (size_t j = 0; j < i; ++j)
      if (tags[j].first == key) return InvalidTag("Cannot provide multiple Tags with the same key");
  }
  return Status::Ok();
}

bool IsVersionId(std::string_view id) {
  if (id == store::kNullVersionId) return true;
  if (id.size() != kVersionIdChars) return false;
  for (char c : id)
    if (std::string_view(kVersionIdAlphabet).find(c) == std::string_view::npos) return false;
  return true;
}

std::string NewVersionId() {
  unsigned char bytes[kVersionIdChars];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe to name
  std::string id(kVersionIdChars, '\0');
  for (size_t i = 0; i < kVersionIdChars; ++i) id[i] = kVersionIdAlphabet[bytes[i] & 63];
  return id;
}

Result<std::optional<ByteRange>> ResolveRange(std::string_view header, uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  const std::optional<ByteRange> ignored;
  if (header.size() > 64 || header.compare(0, kUnit.size(), kUnit) != 0) return ignored;
  std::string_view spec = header.substr(kUnit.size());
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return ignored;
  std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  const Status unsatisfiable = InvalidRange("The requested range is not satisfiable: " + aws::Printable(header, 64) +
                                            " of an object of " + std::to_string(size) + " bytes");
  if (first_text.empty()) {  // bytes=-n: the last n bytes
    std::optional<uint64_t> n = ParseCount(last_text);
    if (!n) return ignored;
    if (*n == 0 || size == 0) return unsatisfiable;
    return std::optional<ByteRange>(ByteRange{size - std::min(*n, size), size - 1});
  }
  std::optional<uint64_t> first = ParseCount(first_text);
  if (!first) return ignored;
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    std::optional<uint64_t> l = ParseCount(last_text);
    if (!l || *l < *first) return ignored;
    last = std::min(last, *l);
  }
  if (*first >= size) return unsatisfiable;
  return std::optional<ByteRange>(ByteRange{*first, last});
}

}  // namespace lathe::s3
