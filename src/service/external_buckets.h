// Buckets that live in another S3-compatible service (AWS S3, MinIO, Ceph RGW, another lathe)
// rather than in lathe's own store: the config's "externalBuckets" (docs/serve.md). Jobs reading
// or writing s3://<such a bucket>/... go to that service (server/external_job_objects.h), so that
// every node of a scale-out setup sees the same training data and outputs.
//
// Checked when `lathe serve` starts, each error naming the field: a config that cannot work
// never gets as far as a job. Credentials may be written in the file, or named: environment
// variables or a file of their own, so that the config can be shared without its secrets.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::service {

struct ExternalBucket {
  std::string endpoint;           // "https://s3.eu-west-1.amazonaws.com", no trailing '/'
  std::string region = "us-east-1";
  std::string access_key_id;      // resolved from the file, the environment or credentialsFile
  std::string secret_access_key;  // never logged, never echoed in an error
  bool path_style = true;         // http://host/bucket/key; false: http://bucket.host/key
  std::string ca_bundle;          // PEM file trusted for https:// ("" = the system's CAs)
};

// Bounds on "externalBuckets" (docs/serve.md, Limits).
inline constexpr size_t kMaxExternalBuckets = 256;
inline constexpr size_t kMaxEndpointLength = 1024;
inline constexpr size_t kMaxCredentialLength = 1024;
inline constexpr size_t kMaxCredentialsFileBytes = 64 * 1024;

// The "externalBuckets" object: bucket name -> {"endpoint", "region", "pathStyle", "caBundle",
// and the keys: "accessKeyId" + "secretAccessKey", or "accessKeyIdEnv" + "secretAccessKeyEnv"
// (names of environment variables), or "credentialsFile" (a JSON file holding accessKeyId and
// secretAccessKey)}. `where` prefixes errors ("lathe.json: \"externalBuckets\""). Environment
// variables and files are read now.
Result<std::map<std::string, ExternalBucket>> ParseExternalBuckets(const nlohmann::json& v, const std::string& where);

}  // namespace lathe::service
