#include "core/arn.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace lathe {

std::string NewResourceId(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string id(length, 'a');
  for (auto& c : id) c = kAlphabet[pick(gen)];
  return id;
}

std::string BedrockArn(const ArnScope& scope, std::string_view resource) {
  return MakeArn("bedrock", scope.region, scope.account, resource);
}

std::string ArnResource(std::string_view s) {
  if (s.substr(0, 16) != "arn:aws:bedrock:") return "";
  size_t region_end = s.find(':', 16);
  if (region_end == std::string_view::npos) return "";
  size_t account_end = s.find(':', region_end + 1);
  if (account_end == std::string_view::npos) return "";
  return std::string(s.substr(account_end + 1));
}

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Iso8601(int64_t millis) {
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis % 1000));
  return buf;
}

int64_t ParseIso8601(std::string_view s) {
  std::tm tm{};
  int frac = 0, consumed = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return -1;
  std::string_view rest = s.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1, digits = 0;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i)
      if (digits < 3) frac = frac * 10 + (rest[i] - '0'), ++digits;
    for (; digits < 3; ++digits) frac *= 10;
    rest = rest.substr(i);
  }
  if (rest != "Z" && rest != "+00:00" && !rest.empty()) return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + frac;
}

std::string MakeArn(std::string_view service, std::string_view region, std::string_view account,
                    std::string_view resource) {
  std::string arn = "arn:aws:";
  for (std::string_view part : {service, region, account}) arn.append(part).push_back(':');
  return arn.append(resource);
}

std::string RootArn(std::string_view account) { return MakeArn("iam", "", account, "root"); }

std::string ArnRegion(std::string_view s) {
  if (s.substr(0, 4) != "arn:") return "";
  size_t p = 4;
  for (int field = 0; field < 2; ++field) {  // partition, service
    p = s.find(':', p);
    if (p == std::string_view::npos) return "";
    ++p;
  }
  size_t end = s.find(':', p);
  return end == std::string_view::npos ? "" : std::string(s.substr(p, end - p));
}

ArnScope InRegion(ArnScope scope, const std::string& region) {
  if (!region.empty()) scope.region = region;
  return scope;
}

}  // namespace lathe
