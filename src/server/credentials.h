// The access keys `lathe serve` accepts: from the config file (accessKeyId, secretAccessKey),
// else LATHE_ACCESS_KEY_ID / LATHE_SECRET_ACCESS_KEY, else DATA_DIR/credentials.json, created with
// fresh random keys on first start (mode 0600) so a new server is never open by accident; that file
// also holds an API key lathe issues ("bedrockApiKeys": Bedrock's bearer token, OpenAI's key).
#pragma once

#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "core/status.h"

namespace lathe::server {

struct CredentialsSource {
  api::Credentials credentials;
  std::string origin;    // "config file", "environment", or the credentials file's path
  bool created = false;  // a new credentials file was written
  // Bedrock API keys (config key "bedrockApiKeys"): bearer tokens that act as `credentials`,
  // also OpenAI's API keys for /v1/. A credentials.json lathe creates holds one of its own.
  std::vector<std::string> bedrock_api_keys;
};

Result<CredentialsSource> LoadOrCreateCredentials(const std::string& data_dir, const std::string& config_path);

// The key pair LoadOrCreateCredentials would find, in the same order, but never a new one: for a
// process that signs requests to an API node (`lathe worker`) rather than serving, and must not
// mint keys of its own. NotFound when none is set; no bedrockApiKeys (only serving needs them).
Result<CredentialsSource> LoadCredentials(const std::string& data_dir, const std::string& config_path);

}  // namespace lathe::server
