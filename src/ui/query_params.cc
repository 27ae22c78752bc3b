#include "ui/query_params.h"

#include <cstdlib>

namespace lathe::ui {

Result<int64_t> IntParam(const std::map<std::string, std::string>& query, const std::string& name, int64_t fallback,
                         int64_t min, int64_t max) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  bool digits = v.size() <= 18;
  for (size_t i = 0; i < v.size() && digits; ++i) digits = (v[i] >= '0' && v[i] <= '9') || (i == 0 && v[i] == '-' && v.size() > 1);
  const int64_t n = digits ? std::strtoll(v.c_str(), nullptr, 10) : 0;
  if (!digits || n < min || n > max)
    return Status::InvalidArgument(name + ": an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

Status CheckName(const std::string& what, const std::string& value, size_t max_bytes) {
  if (value.empty() || value.size() > max_bytes)
    return Status::InvalidArgument(what + ": 1 to " + std::to_string(max_bytes) + " bytes");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(what + ": no control characters");
  return Status::Ok();
}

Status Unavailable(const std::string& what) {
  return Status::Aws("Unavailable", 503, "this server has no " + what + " (its storage did not open)", Status::Code::kInternal);
}

}  // namespace lathe::ui
