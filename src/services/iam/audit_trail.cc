#include "services/iam/audit_trail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <deque>
#include <iterator>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "services/iam/wildcard.h"

namespace lathe::iam {
namespace {

constexpr const char* kFile = "/trail.jsonl";
// Oldest first within each kind; Query merges the two kinds by time.
constexpr const char* kFiles[] = {"/trail.1.jsonl", "/trail.jsonl", "/unauthenticated.1.jsonl", "/unauthenticated.jsonl"};
constexpr size_t kMaxField = 2048;

std::string Cut(const std::string& s) { return s.size() <= kMaxField ? s : s.substr(0, kMaxField); }

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool IsDenial(const std::string& code) {
  return code == "AccessDenied" || code == "AccessDeniedException" || code == "AuthorizationError";
}

}  // namespace

bool IsReadOnly(std::string_view op) {
  for (std::string_view p : {"Get", "List", "Describe", "Head", "Invoke", "Converse", "Retrieve", "Simulate", "Test",
                             "Validate", "Select", "Count", "Search"})
    if (StartsWith(op, p)) return true;
  return false;
}

nlohmann::json AuditRecord::ToJson() const {
  // CloudTrail's "Unknown": the request never proved who sent it (its claimed key is kept).
  const char* type = principal_arn.empty() ? "Unknown"
                     : principal_arn.find(":user/") != std::string::npos ? "IAMUser"
                                                                        : "Root";
  nlohmann::json identity = {{"type", type},
                             {"arn", Cut(principal_arn)},
                             {"accountId", account}};
  if (!access_key_id.empty()) identity["accessKeyId"] = Cut(access_key_id);
  if (const size_t slash = principal_arn.rfind('/'); identity["type"] == "IAMUser" && slash != std::string::npos)
    identity["userName"] = principal_arn.substr(slash + 1);
  nlohmann::json r = {{"eventVersion", "1.08"},
                      {"eventTime", Iso8601(time_ms)},
                      {"eventSource", service + ".amazonaws.com"},
                      {"eventName", operation},
                      {"action", action},
                      {"awsRegion", region},
                      {"sourceIPAddress", source_ip},
                      {"userAgent", Cut(user_agent)},
                      {"userIdentity", identity},
                      {"requestID", request_id},
                      {"eventID", request_id},
                      {"eventType", "AwsApiCall"},
                      {"readOnly", IsReadOnly(operation)},
                      {"recipientAccountId", account},
                      {"httpStatus", http_status}};
  nlohmann::json arns = nlohmann::json::array();
  for (size_t i = 0; i < resources.size() && i < 20; ++i) arns.push_back({{"ARN", Cut(resources[i])}});
  r["resources"] = arns;
  if (!error_code.empty()) r["errorCode"] = Cut(error_code);
  return r;
}

Result<std::unique_ptr<AuditTrail>> AuditTrail::Open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::IOError("cannot create " + dir + ": " + std::strerror(errno));
  ::chmod(dir.c_str(), 0700);
  std::unique_ptr<AuditTrail> trail(new AuditTrail(dir));
  std::lock_guard<std::mutex> lock(trail->mu_);
  for (File* f : {&trail->authenticated_, &trail->unauthenticated_})
    if (Status s = trail->OpenFileLocked(f); !s.ok()) return s;
  return trail;
}

AuditTrail::~AuditTrail() {
  for (File* f : {&authenticated_, &unauthenticated_})
    if (f->fd >= 0) ::close(f->fd);
}

Status AuditTrail::OpenFileLocked(File* file) {
  const std::string path = dir_ + file->name;
  file->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (file->fd < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  ::fchmod(file->fd, 0600);
  struct stat st {};
  file->size = ::fstat(file->fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  return Status::Ok();
}

void AuditTrail::Append(const AuditRecord& record) {
  std::string line = record.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (line.size() > kMaxRecordBytes) {  // only many long resources get here: keep the first
    AuditRecord shorter = record;
    shorter.resources.resize(std::min<size_t>(1, shorter.resources.size()));
    line = shorter.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  AppendLocked(record.authenticated() ? &authenticated_ : &unauthenticated_, line);
}

void AuditTrail::AppendLocked(File* file, const std::string& line) {
  const std::string path = dir_ + file->name;
  if (file->size + line.size() > file->max_bytes && file->fd >= 0) {
    ::close(file->fd);
    file->fd = -1;
    if (std::rename(path.c_str(), (dir_ + file->older).c_str()) != 0)
      spdlog::warn("audit trail: cannot rotate {}: {}", path, std::strerror(errno));
    if (Status s = OpenFileLocked(file); !s.ok()) spdlog::error("audit trail: {}", s.message());
  }
  if (file->fd < 0) return;
  if (::write(file->fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    spdlog::error("audit trail: cannot append to {}: {}", path, std::strerror(errno));
  file->size += line.size();
}

Result<std::vector<nlohmann::json>> AuditTrail::Query(const std::string& dir, const AuditFilter& filter) {
  std::deque<nlohmann::json> matches, kind;  // all so far; the newest of the kind being read
  bool any_file = false;
  for (size_t f = 0; f < std::size(kFiles); ++f) {
    const char* name = kFiles[f];
    if (f % 2 == 0) {  // a kind's older file: the last kind's newest matches are complete
      matches.insert(matches.end(), kind.begin(), kind.end());
      kind.clear();
    }
    std::ifstream in(dir + name);
    if (!in) continue;
    any_file = true;
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > kMaxRecordBytes + 1) continue;  // not written by Append
      nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
      if (!r.is_object()) continue;  // a torn last line after a crash
      try {
      const nlohmann::json& identity = r.contains("userIdentity") ? r["userIdentity"] : nlohmann::json();
      const std::string arn = identity.is_object() ? identity.value("arn", std::string()) : std::string();
      const std::string action = r.value("action", std::string());
      const int64_t t = ParseIso8601(r.value("eventTime", std::string()));
      if (!filter.principal.empty() && !WildcardMatch(filter.principal, arn)) continue;
      if (!filter.action.empty() && !WildcardMatch(filter.action, action, /*ignore_case=*/true)) continue;
      if (t < filter.since_ms || t > filter.until_ms) continue;
      if (filter.denied_only && !IsDenial(r.value("errorCode", std::string()))) continue;
      kind.push_back(std::move(r));
      if (kind.size() > filter.limit) kind.pop_front();
      } catch (const nlohmann::json::exception&) {  // a field of the wrong type: not Append's
      }
    }
  }
  matches.insert(matches.end(), kind.begin(), kind.end());
  if (!any_file) return Status::NotFound("no audit trail in " + dir + " (lathe serve writes " + dir + kFile + ")");
  // Each kind is in time order; together, by time (eventTime is fixed-width ISO 8601).
  std::stable_sort(matches.begin(), matches.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("eventTime", std::string()) < b.value("eventTime", std::string());
  });
  while (matches.size() > filter.limit) matches.pop_front();
  return std::vector<nlohmann::json>(matches.begin(), matches.end());
}

}  // namespace lathe::iam
