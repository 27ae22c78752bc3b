// S3's naming rules, checked by hand (lengths before patterns, no regular expressions).
#pragma once

#include <string_view>

#include "core/status.h"

namespace lathe::s3 {

// General purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules"): 3-63
// characters of lowercase letters, digits, '.' and '-'; a letter or digit first and last; no
// "..", not shaped like an IPv4 address; none of the prefixes and suffixes S3 reserves.
// InvalidBucketName (400) saying which rule the name breaks.
Status ValidateBucketName(std::string_view name);

// Whether `s` has the shape of an AWS region name ("ap-south-1", "us-gov-west-1"): at most 32
// characters, lowercase words joined by '-', the first of two letters, the last a number.
bool IsRegionName(std::string_view s);

}  // namespace lathe::s3
