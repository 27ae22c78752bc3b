// STS's error codes and HTTP statuses (botocore's sts/2011-06-15 service-2.json). GetCallerIdentity
// declares none; the others are listed for the operations that will come.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::sts {

inline Status MalformedPolicyDocument(std::string m) {
  return Status::Aws("MalformedPolicyDocument", 400, std::move(m));
}
inline Status PackedPolicyTooLarge(std::string m) { return Status::Aws("PackedPolicyTooLarge", 400, std::move(m)); }
inline Status RegionDisabled(std::string m) { return Status::Aws("RegionDisabledException", 403, std::move(m)); }

}  // namespace lathe::sts
