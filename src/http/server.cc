#include "http/server.h"

#include "http/reactor.h"

namespace lathe::http {

void WritePlainTransportError(TransportError error, const Request& partial, Response& response) {
  switch (error) {
    case TransportError::kBadRequest:
      response.status = 400;
      response.body = "malformed request\n";
      break;
    case TransportError::kUriTooLong:
      response.status = 414;
      response.body = "request target too long\n";
      break;
    case TransportError::kHeadersTooLarge:
      response.status = 431;
      response.body = "request header fields too large\n";
      break;
    case TransportError::kTimeout:
      response.status = 408;
      response.body = "the request did not arrive in time\n";
      break;
    case TransportError::kBusy:
      response.status = 503;
      response.body = "the server is busy; retry later\n";
      break;
  }
  response.set_header("Content-Type", "text/plain; charset=utf-8");
}

class Server::Reactor : public http::Reactor {
  using http::Reactor::Reactor;
};

Server::Server(ServerLimits limits, Handler handler, TransportErrorWriter error_writer)
    : reactor_(std::make_unique<Reactor>(limits, std::move(handler), std::move(error_writer))) {}

Server::~Server() { reactor_->Stop(); }

Status Server::Listen(const std::string& host, int port) { return reactor_->Listen(host, port); }
int Server::port() const { return reactor_->port(); }
Status Server::EnableTls(const std::string& cert_file, const std::string& key_file) {
  return reactor_->tls().Load(cert_file, key_file);
}
Status Server::ReloadTls() { return reactor_->tls().Reload(); }
bool Server::tls() const { return reactor_->tls().current() != nullptr; }
void Server::Run() { reactor_->Run(); }
void Server::Stop() { reactor_->Stop(); }

}  // namespace lathe::http
