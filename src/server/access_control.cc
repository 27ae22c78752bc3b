#include "server/access_control.h"

#include <spdlog/spdlog.h>

#include "aws/sigv4.h"
#include "core/arn.h"

namespace lathe::server {

iam::ResourceTagLookup ServerAccessControl::ResourceTags(store::MetadataStore* store) {
  if (!store) return {};
  return [store](const std::string& arn) {
    Result<std::map<std::string, std::string>> tags = store->Tags(arn);
    return tags.ok() ? *tags : std::map<std::string, std::string>();
  };
}

std::optional<std::string> ServerAccessControl::Authorize(const aws::RequestContext& context,
                                                          const http::Request& request,
                                                          const aws::AccessRequest& access) {
  return enforcer_.Authorize(context, request.remote_address, access);
}

std::optional<store::OutboxEvent> CloudTrailEvent(const iam::AuditRecord& record) {
  if (record.operation.empty() || iam::IsReadOnly(record.operation)) return std::nullopt;
  if (record.service == "s3" && (record.operation.find("Object") != std::string::npos ||
                                 record.operation.find("Part") != std::string::npos ||
                                 record.operation.find("MultipartUpload") != std::string::npos))
    return std::nullopt;  // data events: a trail must select them
  store::OutboxEvent e;
  e.source = "aws." + record.service;
  e.detail_type = "AWS API Call via CloudTrail";
  e.account = record.account;
  e.region = record.region;
  e.detail = record.ToJson();
  e.time_ms = record.time_ms;
  return e;
}

void ServerAccessControl::Record(const aws::RequestContext& context, const http::Request& request,
                                 const aws::AccessRequest& access, int http_status, std::string_view error_code) {
  iam::AuditRecord r;
  r.time_ms = NowMillis();
  r.service = context.service;
  r.operation = access.operation;
  r.action = access.action;
  r.resources = access.resources;
  r.region = context.region;
  r.source_ip = request.remote_address;
  if (const std::string* agent = request.header("User-Agent")) r.user_agent = *agent;
  r.request_id = context.request_id;
  r.principal_arn = context.caller.arn;
  r.account = context.caller.account;
  r.access_key_id = context.caller.access_key_id;
  if (r.access_key_id.empty())  // not authenticated: the key it claimed, for the record
    if (std::optional<api::ClaimedScope> claimed = api::ClaimedCredentialScope(request.header("Authorization"), request.query()))
      r.access_key_id = claimed->access_key_id;
  r.http_status = http_status;
  r.error_code = std::string(error_code);
  if (trail_) trail_->Append(r);
  if (!store_ || r.account.empty()) return;
  if (std::optional<store::OutboxEvent> e = CloudTrailEvent(r)) {
    store::WriteBatch batch;
    batch.events.push_back(std::move(*e));
    if (Status s = store_->Write(batch); !s.ok()) spdlog::warn("audit: the CloudTrail event was not published: {}", s.message());
  }
}

}  // namespace lathe::server
