#include "http/metrics_endpoint.h"

#include <thread>

#include "http/server.h"

namespace lathe::http {

bool IsMetricsScrape(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (request.target != "/metrics") return false;  // no query: S3's ListObjects sends one
  if (request.header("Authorization")) return false;
  for (const Header& h : request.headers)
    if (h.name.size() >= 6 && HeaderNameEquals(std::string_view(h.name).substr(0, 6), "x-amz-")) return false;
  return true;
}

void ServeMetrics(const metrics::Registry& registry, const Request& request, Response& response) {
  if (request.method != "GET" && request.method != "HEAD") {
    response.status = 405;
    response.set_header("Allow", "GET, HEAD");
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.body = "only GET /metrics is served here\n";
    return;
  }
  response.status = 200;
  response.set_header("Content-Type", metrics::kExpositionContentType);
  response.set_header("Cache-Control", "no-store");
  response.body = registry.Exposition();
}

namespace {

class StandaloneEndpoint : public MetricsEndpoint {
 public:
  StandaloneEndpoint(ServerLimits limits, const metrics::Registry* registry)
      : server_(limits, [registry](Request& request, Response& response) {
          if (request.path() == "/metrics") return ServeMetrics(*registry, request, response);
          response.status = 404;
          response.set_header("Content-Type", "text/plain; charset=utf-8");
          response.body = "this endpoint serves GET /metrics only\n";
        }) {}
  ~StandaloneEndpoint() override { Stop(); }
  Status Listen(const std::string& host, int port) {
    LATHE_RETURN_IF_ERROR(server_.Listen(host, port));
    thread_ = std::thread([this] { server_.Run(); });
    return Status::Ok();
  }
  int port() const override { return server_.port(); }
  void Stop() override {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  Server server_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(const std::string& host, int port,
                                                              const metrics::Registry* registry) {
  if (port < 0 || port > 65535) return Status::InvalidArgument("a metrics port is 0 to 65535, not " + std::to_string(port));
  ServerLimits limits;
  limits.max_connections = 16;
  limits.max_connections_per_client = 8;
  limits.max_header_bytes = 16384;
  limits.max_header_count = 64;
  limits.worker_threads = 2;
  limits.max_queued_requests = 16;
  auto endpoint = std::make_unique<StandaloneEndpoint>(limits, registry);
  LATHE_RETURN_IF_ERROR(endpoint->Listen(host, port));
  return std::unique_ptr<MetricsEndpoint>(std::move(endpoint));
}

}  // namespace lathe::http
