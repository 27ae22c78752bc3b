// What /metrics tells of the AWS requests the gateway answered (docs/scale-out.md, Operations):
//   lathe_http_requests_total{service, operation, code_class}   counter
//   lathe_http_request_duration_seconds{service, operation}     histogram
//   lathe_http_request_errors_total{service, error}             counter (4xx and 5xx answers)
// Labels come from closed sets: the service that answered (or "unknown"), the operation its
// table routed to (or "unknown" when none did: a refused signature, an unroutable path), the
// AWS error code, never from the request's raw path.
#pragma once

#include <string_view>

namespace lathe::aws {

void RecordRequest(std::string_view service, std::string_view operation, int http_status,
                   std::string_view error_code, double seconds);

}  // namespace lathe::aws
