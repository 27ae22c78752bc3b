// s3://bucket/key URIs, as Bedrock's jobs and `lathe data` name objects in lathe's S3 store.
//
// The key is the rest of the URI after "s3://bucket/", byte for byte: no percent-decoding and no
// path interpretation ("a b.jsonl", "100%.jsonl", "données/x", "../x" are keys as written), as
// the AWS CLI and Bedrock read them. Keys are never used as local paths (the store names its
// files by random ids; jobs copy an object to a file name of their own).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::service {

inline constexpr size_t kMaxS3KeyBytes = 1024;  // S3's limit on an object key
// "s3://" + the longest bucket name + "/" + the longest key.
inline constexpr size_t kMaxS3UriLength = 5 + 63 + 1 + kMaxS3KeyBytes;

struct S3Uri {
  std::string bucket;
  std::string key;  // "" for the bucket itself; a prefix ends with '/'
  std::string ToString() const { return "s3://" + bucket + (key.empty() ? "" : "/" + key); }
};

bool IsS3Uri(std::string_view uri);  // starts with "s3://"

// Any s3:// URI. Checked in this order, and nothing is echoed that is not printable:
//  - length (at most kMaxS3UriLength), then no control characters (bytes < 0x20, 0x7f);
//  - the bucket: the syntax of S3's general purpose bucket names (3-63 lowercase letters,
//    digits, '.', '-'; a letter or digit first and last; no ".."). A name S3 would refuse for
//    another reason (an IP address's shape, a reserved prefix) cannot have been created, so it
//    is answered NoSuchBucket later;
//  - the key: valid UTF-8, at most 1024 bytes.
// InvalidArgument naming the URI and the rule it breaks.
Result<S3Uri> ParseS3Uri(std::string_view uri);

// An object to read: a key is required, and one ending in '/' names a folder, not an object.
Result<S3Uri> ParseS3ObjectUri(std::string_view uri);

// Where outputs go: the bucket (key "") or a prefix, always returned ending in '/' so that names
// joined to it stay below it ("s3://b/out" and "s3://b/out/" both mean out/).
Result<S3Uri> ParseS3PrefixUri(std::string_view uri);

}  // namespace lathe::service
