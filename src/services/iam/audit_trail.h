// The audit trail, like CloudTrail's: one JSON record per API call (time, principal, source
// address, action, resources, outcome, request id), appended to DATA_DIR/audit/trail.jsonl
// (folder 0700, file 0600) and never rewritten. At kMaxFileBytes the file becomes trail.1.jsonl
// (replacing the older one) and a new one starts, so the trail holds at most twice that.
// Requests that never proved who sent them (no or a bad signature, an unknown key) go to
// unauthenticated.jsonl instead, rotated the same way at kMaxUnauthenticatedBytes: anyone can
// send those, and they must not push the authenticated calls out of the trail.
// `lathe audit` reads it without a server (Query).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::iam {

// One call, in CloudTrail's field names (eventTime, eventSource, eventName, awsRegion,
// sourceIPAddress, userAgent, userIdentity, requestID, eventID, errorCode, errorMessage,
// resources, readOnly) plus lathe's "action" (the IAM action decided on) and "httpStatus".
struct AuditRecord {
  int64_t time_ms = 0;
  std::string service;    // signing name: "s3"
  std::string operation;  // "GetObject" ("" when refused before routing)
  std::string action;     // "s3:GetObject"
  std::vector<std::string> resources;
  std::string region, source_ip, user_agent, request_id;
  std::string principal_arn, account, access_key_id;  // principal_arn "": not authenticated
                                                      // (access_key_id: the one it claimed)
  int http_status = 0;
  std::string error_code;  // "" on success
  nlohmann::json ToJson() const;
  bool authenticated() const { return !principal_arn.empty(); }
};

// Whether an operation only reads (CloudTrail's readOnly): Get*, List*, Describe*, Head*, ...
bool IsReadOnly(std::string_view operation);

struct AuditFilter {
  std::string principal;  // an ARN, or a wildcard over ARNs ("arn:aws:iam::*:user/ci-*"); "" any
  std::string action;     // "s3:GetObject", or a wildcard ("s3:*"); "" any
  int64_t since_ms = 0, until_ms = INT64_MAX;
  bool denied_only = false;  // errorCode AccessDenied, AccessDeniedException or AuthorizationError
  size_t limit = 100;        // the newest that match, oldest first
};

class AuditTrail {
 public:
  static constexpr size_t kMaxFileBytes = 64u << 20;
  static constexpr size_t kMaxUnauthenticatedBytes = 16u << 20;
  static constexpr size_t kMaxRecordBytes = 16u << 10;  // longer fields are cut to fit

  // Creates `dir` (0700) if needed; records go to dir/trail.jsonl.
  static Result<std::unique_ptr<AuditTrail>> Open(const std::string& dir);
  ~AuditTrail();
  // Appends one record (one write(2) of one line); a failure is logged, never fails the call.
  void Append(const AuditRecord& record);

  // The records of the trail in `dir` that match, oldest first (at most filter.limit, the newest),
  // authenticated and unauthenticated together.
  static Result<std::vector<nlohmann::json>> Query(const std::string& dir, const AuditFilter& filter);

 private:
  // One rotated file: name and older hold "/trail.jsonl" and "/trail.1.jsonl".
  struct File {
    const char* name;
    const char* older;
    size_t max_bytes;
    int fd = -1;
    size_t size = 0;
  };
  explicit AuditTrail(std::string dir) : dir_(std::move(dir)) {}
  Status OpenFileLocked(File* file);
  void AppendLocked(File* file, const std::string& line);

  std::string dir_;
  std::mutex mu_;
  File authenticated_{"/trail.jsonl", "/trail.1.jsonl", kMaxFileBytes};
  File unauthenticated_{"/unauthenticated.jsonl", "/unauthenticated.1.jsonl", kMaxUnauthenticatedBytes};
};

}  // namespace lathe::iam
