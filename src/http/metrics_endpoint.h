// GET /metrics: the process's metrics (core/metrics.h) for Prometheus to scrape. `lathe serve`
// answers it on its own endpoint beside the AWS APIs (server/lathe_server.cc); a node without an
// HTTP server of its own (`lathe worker`) starts a small one that answers nothing else.
#pragma once

#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "http/message.h"

namespace lathe::http {

// Whether a request is a scrape rather than an AWS request to a bucket named "metrics": GET or
// HEAD of exactly /metrics, no query, and nothing that signs for AWS (no Authorization header,
// no x-amz-* header). A signed ListObjects of bucket "metrics" (`GET /metrics?list-type=2` or
// `GET /metrics` with Authorization) is not one. docs/scale-out.md, Operations.
bool IsMetricsScrape(const Request& request);

// Answers a scrape: the exposition text (format 0.0.4) for GET and HEAD, 405 otherwise.
void ServeMetrics(const metrics::Registry& registry, const Request& request, Response& response);

// A server on host:port that answers GET /metrics and 404 to every other path, with small
// limits (a few connections, two handler threads): Prometheus and a curl now and then.
class MetricsEndpoint {
 public:
  virtual ~MetricsEndpoint() = default;
  // The bound port (useful with port 0).
  virtual int port() const = 0;
  // Stops serving; the destructor does it too.
  virtual void Stop() = 0;
};

// Binds (an error naming host:port when taken) and serves on a thread of its own until the
// endpoint is stopped or destroyed. `registry` must outlive it.
Result<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(const std::string& host, int port,
                                                              const metrics::Registry* registry);

}  // namespace lathe::http
