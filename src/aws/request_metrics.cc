#include "aws/request_metrics.h"

#include <string>

#include "core/metrics.h"

namespace lathe::aws {
namespace {

struct RequestFamilies {
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& duration;
  metrics::Family<metrics::Counter>& errors;
};

RequestFamilies& Families() {
  metrics::Registry& r = metrics::DefaultRegistry();
  // A dozen services with up to ~100 operations each; the bounds keep a bug from growing them.
  static RequestFamilies f{
      r.Counters("lathe_http_requests_total", "AWS API requests answered, by service, operation and status class",
                 {"service", "operation", "code_class"}, 2000),
      r.Histograms("lathe_http_request_duration_seconds", "Time from the request's head to its answer",
                   {"service", "operation"}, metrics::LatencyBuckets(), 1000),
      r.Counters("lathe_http_request_errors_total", "AWS API requests answered with an error, by error code",
                 {"service", "error"}, 1000)};
  return f;
}

}  // namespace

void RecordRequest(std::string_view service, std::string_view operation, int http_status,
                   std::string_view error_code, double seconds) {
  const std::string s = service.empty() ? "unknown" : std::string(service);
  const std::string op = operation.empty() ? "unknown" : std::string(operation);
  const int hundreds = http_status / 100;
  const std::string code_class = hundreds >= 1 && hundreds <= 5 ? std::to_string(hundreds) + "xx" : "other";
  RequestFamilies& f = Families();
  f.requests.With({s, op, code_class}).Add();
  f.duration.With({s, op}).Observe(seconds);
  if (http_status >= 400)
    f.errors.With({s, error_code.empty() ? std::to_string(http_status) : std::string(error_code)}).Add();
}

}  // namespace lathe::aws
