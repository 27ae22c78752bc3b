// `lathe serve`'s HTTP face: Bedrock's control plane and runtime over restJson1, as boto3 and the
// AWS CLI speak them, with SigV4 on every request. A thin shell over service::BedrockService:
// it parses paths, queries and bodies, and turns Status codes into Bedrock's errors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/sigv4.h"
#include "core/status.h"
#include "service/bedrock_service.h"

namespace httplib {
class Server;
}

namespace lathe::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0: any free port (see BedrockServer::port())
  bool no_auth = false;                   // accept unsigned requests (throwaway local use only)
  std::vector<Credentials> credentials;  // accepted access keys
  int max_skew_seconds = 900;
  int threads = 32;                       // requests waiting for a generation slot hold one each
};

class BedrockServer {
 public:
  BedrockServer(service::BedrockService* service, ServerOptions options);
  ~BedrockServer();
  // Binds the socket; NotFound-free errors name the address.
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop() (from another thread or a signal handler's helper thread).
  void Run();
  void Stop();

 private:
  void Routes();
  service::BedrockService* service_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
};

// Bedrock's error for a Status: {HTTP status, x-amzn-ErrorType}. A Status made by Status::Aws
// answers its own code and status; others map by code().
std::pair<int, std::string> ErrorFor(const Status& s);

// A control-plane request body: {} when empty, else a JSON object (service::ParseRequestJson
// bounds its nesting before parsing); ValidationException otherwise.
Result<nlohmann::json> ParseBody(std::string_view body);

}  // namespace lathe::api
