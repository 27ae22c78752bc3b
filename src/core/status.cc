#include "core/status.h"

namespace lathe {

std::string Status::ToString() const {
  const char* prefix = "";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: prefix = "invalid argument: "; break;
    case Code::kNotFound: prefix = "not found: "; break;
    case Code::kAlreadyExists: prefix = "already exists: "; break;
    case Code::kIOError: prefix = "IO error: "; break;
    case Code::kCorruption: prefix = "corrupt: "; break;
    case Code::kUnsupported: prefix = "unsupported: "; break;
    case Code::kInternal: prefix = "internal error: "; break;
    case Code::kConflict: prefix = "conflict: "; break;
    case Code::kThrottled: prefix = "throttled: "; break;
    case Code::kQuotaExceeded: prefix = "quota exceeded: "; break;
  }
  return prefix + message_;
}

}  // namespace lathe
