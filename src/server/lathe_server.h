// `lathe serve`'s composition root: the HTTP transport, the gateway, and every AWS service on
// it, wired once. It owns no semantics: services keep theirs, the gateway dispatches.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/gateway.h"
#include "http/server.h"
#include "service/bedrock_service.h"

namespace lathe::iam {
class IamBackend;
}
namespace lathe::s3 {
class S3Backend;
class S3Objects;
}
namespace lathe::store {
class BlobStore;
class ObjectIndex;
}

namespace lathe::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (see LatheServer::port())
  std::vector<api::Credentials> credentials;  // accepted access keys (all act as the account's root)
  http::ServerLimits limits;
  aws::GatewayOptions gateway;
};

class LatheServer {
 public:
  // `bedrock` must outlive the server. Its jobs read and write s3:// URIs through this server's
  // S3 store: start its job runner (BedrockService::Start) after constructing the server.
  LatheServer(service::BedrockService* bedrock, ServeOptions options);
  ~LatheServer();
  // Binds; a taken port is an error naming the address. An S3 store that could not be opened
  // (DATA_DIR/s3) is reported here.
  Status Listen();
  int port() const;
  void Run();   // serves until Stop()
  void Stop();  // from any thread
  aws::Gateway& gateway() { return *gateway_; }

 private:
  // The S3 objects' store in DATA_DIR/s3 and its index, and the jobs' view of them.
  void OpenObjects(service::BedrockService* bedrock);

  ServeOptions options_;
  std::unique_ptr<iam::IamBackend> iam_;
  std::unique_ptr<s3::S3Backend> s3_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<store::ObjectIndex> object_index_;
  std::unique_ptr<s3::S3Objects> objects_;
  std::unique_ptr<service::JobObjectStore> job_objects_;  // what Bedrock jobs see of objects_
  Status open_status_;                                   // why the S3 store is missing, if it is
  std::unique_ptr<aws::Gateway> gateway_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace lathe::server
