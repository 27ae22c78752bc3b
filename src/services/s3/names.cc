#include "services/s3/names.h"

#include <string>

#include "aws/wire.h"
#include "services/s3/errors.h"

namespace lathe::s3 {
namespace {

bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Four dot-separated groups of one to three digits: "192.168.5.4".
bool IsIpv4Shaped(std::string_view s) {
  int groups = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = std::min(s.find('.', start), s.size());
    std::string_view g = s.substr(start, end - start);
    if (g.empty() || g.size() > 3) return false;
    for (char c : g)
      if (!IsDigit(c)) return false;
    ++groups;
    start = end + 1;
  }
  return groups == 4;
}

constexpr std::string_view kReservedPrefixes[] = {"xn--", "sthree-", "amzn-s3-demo-"};
constexpr std::string_view kReservedSuffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};

}  // namespace

Status ValidateBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63)
    return InvalidBucketName("a bucket name must be 3 to 63 characters long, not " + std::to_string(name.size()));
  const std::string shown = aws::Printable(name, 63);
  for (char c : name)
    if (!IsLowerOrDigit(c) && c != '.' && c != '-')
      return InvalidBucketName("'" + shown +
                               "' may hold only lowercase letters, digits, '.' and '-' (found '" +
                               aws::Printable(std::string_view(&c, 1), 1) + "')");
  if (!IsLowerOrDigit(name.front()) || !IsLowerOrDigit(name.back()))
    return InvalidBucketName("'" + shown + "' must begin and end with a letter or digit");
  if (name.find("..") != std::string_view::npos)
    return InvalidBucketName("'" + shown + "' must not contain two adjacent periods");
  if (IsIpv4Shaped(name)) return InvalidBucketName("'" + shown + "' must not be formatted as an IP address");
  for (std::string_view p : kReservedPrefixes)
    if (StartsWith(name, p)) return InvalidBucketName("'" + shown + "' must not start with '" + std::string(p) + "'");
  for (std::string_view p : kReservedSuffixes)
    if (EndsWith(name, p)) return InvalidBucketName("'" + shown + "' must not end with '" + std::string(p) + "'");
  return Status::Ok();
}

bool IsRegionName(std::string_view s) {
  if (s.size() < 6 || s.size() > 32) return false;
  size_t words = 0, start = 0;
  while (start <= s.size()) {
    size_t end = std::min(s.find('-', start), s.size());
    std::string_view w = s.substr(start, end - start);
    if (w.empty()) return false;
    const bool last = end == s.size();
    for (char c : w)
      if (last ? !IsDigit(c) : !(c >= 'a' && c <= 'z')) return false;
    if (words == 0 && w.size() != 2) return false;
    ++words;
    start = end + 1;
  }
  return words >= 3;
}

}  // namespace lathe::s3
