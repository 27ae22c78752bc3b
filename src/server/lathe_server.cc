#include "server/lathe_server.h"

#include "core/arn.h"
#include "server/job_object_store.h"
#include "services/s3/objects.h"
#include "store/blob_store.h"
#include "store/object_index.h"
#include "services/bedrock/operations.h"
#include "services/iam/service.h"
#include "services/s3/service.h"
#include "services/sts/service.h"

namespace lathe::server {

LatheServer::LatheServer(service::BedrockService* bedrock, ServeOptions options) : options_(std::move(options)) {
  const std::string account = options_.gateway.account;
  std::vector<api::Credentials> keys = options_.credentials;
  gateway_ = std::make_unique<aws::Gateway>(
      options_.gateway, [keys, account](const std::string& id) -> std::optional<aws::AccessKey> {
        for (const auto& k : keys)
          if (k.access_key_id == id)
            return aws::AccessKey{k.secret_access_key, aws::Caller{id, account, RootArn(account), account}};
        return std::nullopt;
      });
  iam_ = std::make_unique<iam::IamBackend>(bedrock->store());
  iam::IamBackend* roles = iam_.get();
  bedrock->jobs().set_role_checker([roles, account](const std::string& arn) { return roles->RoleExists(account, arn); });
  gateway_->Add(std::make_shared<bedrock::BedrockOperations>(bedrock));
  gateway_->Add(iam::NewIamService(iam_.get()));
  s3_ = std::make_unique<s3::S3Backend>(bedrock->store());
  OpenObjects(bedrock);
  gateway_->Add(std::make_shared<s3::S3Service>(s3_.get()));
  gateway_->Add(sts::NewStsService());
  aws::Gateway* gw = gateway_.get();
  http_ = std::make_unique<http::Server>(
      options_.limits, [gw](http::Request& req, http::Response& res) { gw->Handle(req, res); },
      [gw](http::TransportError e, const http::Request& partial, http::Response& res) {
        gw->WriteTransportError(e, partial, res);
      });
}

LatheServer::~LatheServer() = default;

void LatheServer::OpenObjects(service::BedrockService* bedrock) {
  Env* env = bedrock->config().env;
  auto blobs = store::BlobStore::Open(env, bedrock->config().data_dir + "/s3");
  if (!blobs.ok()) {
    open_status_ = blobs.status();
    return;
  }
  auto index = store::ObjectIndex::Open(bedrock->store());
  if (!index.ok()) {
    open_status_ = index.status();
    return;
  }
  blobs_ = std::move(*blobs);
  object_index_ = std::move(*index);
  objects_ = std::make_unique<s3::S3Objects>(s3_.get(), object_index_.get(), blobs_.get());
  // Uploads a crash cut short, and blobs no version refers to any more, go before anything is served.
  if (auto removed = objects_->RemoveOrphanBlobs(); !removed.ok()) open_status_ = removed.status();
  job_objects_ = std::make_unique<S3JobObjectStore>(env, s3_.get(), objects_.get());
  bedrock->set_object_store(job_objects_.get());
}

Status LatheServer::Listen() {
  LATHE_RETURN_IF_ERROR(open_status_);
  return http_->Listen(options_.host, options_.port);
}
int LatheServer::port() const { return http_->port(); }
void LatheServer::Run() { http_->Run(); }
void LatheServer::Stop() { http_->Stop(); }

}  // namespace lathe::server
