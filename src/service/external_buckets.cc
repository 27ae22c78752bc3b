#include "service/external_buckets.h"

#include <cstdlib>

#include "core/env.h"
#include "service/s3_uri.h"

namespace lathe::service {
namespace {

bool Printable(const std::string& s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// An http(s) URL of a host, perhaps a port and a path: no user info (credentials have fields of
// their own), no query or fragment (the request's own would be appended to it).
Status CheckEndpoint(const std::string& url, const std::string& field) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument(field + " must be " + why); };
  if (url.empty() || url.size() > kMaxEndpointLength || !Printable(url))
    return bad("a URL of at most 1024 printable characters, like \"https://s3.eu-west-1.amazonaws.com\"");
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    return bad("an http:// or https:// URL");
  const size_t host_end = std::min(url.find('/', scheme + 3), url.size());
  if (host_end == scheme + 3) return bad("a URL that names a host");
  if (url.find_first_of("@?#", scheme + 3) != std::string::npos)
    return bad("a URL without user info, query or fragment (the keys are fields of their own)");
  return Status::Ok();
}

Status CheckCredential(const std::string& value, const std::string& field) {
  if (value.empty() || value.size() > kMaxCredentialLength || !Printable(value))
    return Status::InvalidArgument(field + " must be 1 to 1024 printable characters without spaces");
  return Status::Ok();
}

// The value of the environment variable named by `v` (an "...Env" field).
Result<std::string> FromEnvironment(const nlohmann::json& v, const std::string& field) {
  if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 128 ||
      v.get<std::string>().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
          std::string::npos)
    return Status::InvalidArgument(field + " must name an environment variable (letters, digits, '_')");
  const std::string name = v.get<std::string>();
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0')
    return Status::InvalidArgument(field + " names the environment variable " + name + ", which is not set");
  return std::string(value);
}

// {"accessKeyId", "secretAccessKey"} from a JSON file of their own (e.g. mode 0600).
Status FromCredentialsFile(const nlohmann::json& v, const std::string& field, ExternalBucket* out) {
  if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>()[0] != '/' ||
      v.get<std::string>().size() > 4096)
    return Status::InvalidArgument(field + " must be an absolute file path");
  const std::string path = v.get<std::string>();
  uint64_t size = 0;
  if (!Env::Default()->GetFileSize(path, &size).ok())
    return Status::InvalidArgument(field + ": cannot read " + path);
  if (size > kMaxCredentialsFileBytes)
    return Status::InvalidArgument(field + ": " + path + " is larger than 64 KiB");
  std::string text;
  if (!ReadFileToString(Env::Default(), path, &text).ok()) return Status::InvalidArgument(field + ": cannot read " + path);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  // The file's content is never quoted: it holds a secret.
  if (j.is_discarded() || !j.is_object() || !j.contains("accessKeyId") || !j.contains("secretAccessKey") ||
      !j["accessKeyId"].is_string() || !j["secretAccessKey"].is_string())
    return Status::InvalidArgument(field + ": " + path +
                                   " must be a JSON object {\"accessKeyId\": \"...\", \"secretAccessKey\": \"...\"}");
  out->access_key_id = j["accessKeyId"].get<std::string>();
  out->secret_access_key = j["secretAccessKey"].get<std::string>();
  return Status::Ok();
}

Result<ExternalBucket> ParseOne(const nlohmann::json& v, const std::string& at) {
  if (!v.is_object())
    return Status::InvalidArgument(at + " must be an object {\"endpoint\": \"https://...\", \"region\": ..., keys}");
  ExternalBucket b;
  bool inline_id = false, inline_secret = false, env_id = false, env_secret = false, file = false;
  for (const auto& item : v.items()) {
    // Named, not structured bindings: clang 14 (the fuzz build) cannot capture those in a lambda.
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const std::string field = at + "." + key;
    auto text = [&]() -> Result<std::string> {
      if (!value.is_string()) return Status::InvalidArgument(field + " must be a string");
      return value.get<std::string>();
    };
    if (key == "endpoint") {
      auto s = text();
      if (!s.ok()) return s.status();
      LATHE_RETURN_IF_ERROR(CheckEndpoint(*s, field));
      b.endpoint = *s;
      while (b.endpoint.back() == '/') b.endpoint.pop_back();
    } else if (key == "region") {
      auto s = text();
      if (!s.ok()) return s.status();
      if (s->empty() || s->size() > 64 || s->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        return Status::InvalidArgument(field + " must be a region name like \"us-east-1\" (a-z, 0-9, '-')");
      b.region = *s;
    } else if (key == "pathStyle") {
      if (!value.is_boolean()) return Status::InvalidArgument(field + " must be true or false");
      b.path_style = value.get<bool>();
    } else if (key == "caBundle") {
      auto s = text();
      if (!s.ok()) return s.status();
      if (s->empty() || (*s)[0] != '/' || s->size() > 4096 || !Env::Default()->FileExists(*s))
        return Status::InvalidArgument(field + " must be the absolute path of a PEM file that exists");
      b.ca_bundle = *s;
    } else if (key == "accessKeyId" || key == "secretAccessKey") {
      auto s = text();
      if (!s.ok()) return s.status();
      (key == "accessKeyId" ? b.access_key_id : b.secret_access_key) = *s;
      (key == "accessKeyId" ? inline_id : inline_secret) = true;
    } else if (key == "accessKeyIdEnv" || key == "secretAccessKeyEnv") {
      auto s = FromEnvironment(value, field);
      if (!s.ok()) return s.status();
      (key == "accessKeyIdEnv" ? b.access_key_id : b.secret_access_key) = *s;
      (key == "accessKeyIdEnv" ? env_id : env_secret) = true;
    } else if (key == "credentialsFile") {
      LATHE_RETURN_IF_ERROR(FromCredentialsFile(value, field, &b));
      file = true;
    } else {
      return Status::InvalidArgument(field + ": unknown field (known: endpoint, region, pathStyle, caBundle, "
                                     "accessKeyId, secretAccessKey, accessKeyIdEnv, secretAccessKeyEnv, credentialsFile)");
    }
  }
  if (b.endpoint.empty()) return Status::InvalidArgument(at + ".endpoint is required (the S3 service's URL)");
  // Exactly one place for the keys: two would leave the reader guessing which one wins.
  const int sources = (inline_id || inline_secret) + (env_id || env_secret) + file;
  if (sources != 1)
    return Status::InvalidArgument(at + " must give its keys one way: accessKeyId + secretAccessKey, "
                                   "accessKeyIdEnv + secretAccessKeyEnv, or credentialsFile");
  if (inline_id != inline_secret || env_id != env_secret)
    return Status::InvalidArgument(at + " must give both the access key id and the secret access key");
  LATHE_RETURN_IF_ERROR(CheckCredential(b.access_key_id, at + " access key id"));
  LATHE_RETURN_IF_ERROR(CheckCredential(b.secret_access_key, at + " secret access key"));
  return b;
}

}  // namespace

Result<std::map<std::string, ExternalBucket>> ParseExternalBuckets(const nlohmann::json& v, const std::string& where) {
  if (!v.is_object() || v.size() > kMaxExternalBuckets)
    return Status::InvalidArgument(where + " must be an object of at most " + std::to_string(kMaxExternalBuckets) +
                                   " buckets: {\"bucket-name\": {\"endpoint\": ..., ...}}");
  std::map<std::string, ExternalBucket> out;
  for (const auto& [name, spec] : v.items()) {
    // Checked before it is echoed: the bucket-name rules bound it and keep it printable.
    auto uri = ParseS3Uri("s3://" + name);
    if (!uri.ok() || !uri->key.empty() || name.empty())
      return Status::InvalidArgument(where + ": a bucket name must follow S3's rules (3-63 lowercase letters, "
                                     "digits, '.', '-'): " + (uri.ok() ? "\"" + name + "\"" : uri.status().message()));
    auto bucket = ParseOne(spec, where + "." + name);
    if (!bucket.ok()) return bucket.status();
    out[name] = std::move(*bucket);
  }
  return out;
}

}  // namespace lathe::service
