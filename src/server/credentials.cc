#include "server/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

#include "core/env.h"

namespace lathe::server {
namespace {

std::string RandomString(const char* alphabet, size_t n) {
  std::random_device rd;  // the kernel's CSPRNG on Linux
  std::string s(n, ' ');
  const size_t size = std::char_traits<char>::length(alphabet);
  for (auto& c : s) c = alphabet[rd() % size];
  return s;
}

Result<api::Credentials> FromJson(const std::string& path) {
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), path, &text));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.value("accessKeyId", nlohmann::json()).is_string() ||
      !j.value("secretAccessKey", nlohmann::json()).is_string())
    return Status::InvalidArgument(path + ": expected {\"accessKeyId\": \"...\", \"secretAccessKey\": \"...\"}");
  return api::Credentials{j["accessKeyId"], j["secretAccessKey"]};
}

// The config file's key pair, else the environment's, else DATA_DIR/credentials.json, which
// `create` makes (with fresh keys) when it is absent; NotFound otherwise.
Result<CredentialsSource> LoadKeyPair(const std::string& data_dir, const std::string& config_path, bool create);

}  // namespace

// "bedrockApiKeys": ["token", ...] in the config file, bounded like the keys AWS issues.
Result<std::vector<std::string>> ApiKeys(const std::string& config_path) {
  std::vector<std::string> keys;
  if (config_path.empty()) return keys;
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), config_path, &text));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("bedrockApiKeys")) return keys;
  const auto& list = j["bedrockApiKeys"];
  constexpr size_t kMaxKeys = 100, kMinLength = 16, kMaxLength = 1024;
  if (!list.is_array() || list.size() > kMaxKeys)
    return Status::InvalidArgument(config_path + ": \"bedrockApiKeys\" must be a list of at most 100 strings");
  for (const auto& k : list) {
    if (!k.is_string() || k.get<std::string>().size() < kMinLength || k.get<std::string>().size() > kMaxLength ||
        k.get<std::string>().find_first_of(" \t\r\n") != std::string::npos)
      return Status::InvalidArgument(config_path + ": each of \"bedrockApiKeys\" must be a string of 16 to 1024 "
                                     "characters without white space");
    keys.push_back(k);
  }
  return keys;
}

Result<CredentialsSource> LoadOrCreateCredentials(const std::string& data_dir, const std::string& config_path) {
  auto api_keys = ApiKeys(config_path);
  if (!api_keys.ok()) return api_keys.status();
  auto found = LoadKeyPair(data_dir, config_path, /*create=*/true);
  if (!found.ok()) return found;
  found->bedrock_api_keys = std::move(*api_keys);
  // The keys lathe issued itself (for OpenAI's clients and AWS_BEARER_TOKEN_BEDROCK) belong to
  // the key pair of the same file.
  const std::string issued = data_dir + "/credentials.json";
  if (found->origin == issued) {
    auto own = ApiKeys(issued);
    if (!own.ok()) return own.status();
    found->bedrock_api_keys.insert(found->bedrock_api_keys.end(), own->begin(), own->end());
  }
  return found;
}

Result<CredentialsSource> LoadCredentials(const std::string& data_dir, const std::string& config_path) {
  return LoadKeyPair(data_dir, config_path, /*create=*/false);
}

namespace {
Result<CredentialsSource> LoadKeyPair(const std::string& data_dir, const std::string& config_path, bool create) {
  if (!config_path.empty()) {
    std::string text;
    LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), config_path, &text));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object() && (j.contains("accessKeyId") || j.contains("secretAccessKey"))) {
      auto c = FromJson(config_path);
      if (!c.ok()) return c.status();
      return CredentialsSource{*c, "config file " + config_path};
    }
  }
  const char* id = std::getenv("LATHE_ACCESS_KEY_ID");
  const char* secret = std::getenv("LATHE_SECRET_ACCESS_KEY");
  if (id && *id && secret && *secret) return CredentialsSource{{id, secret}, "environment"};
  if ((id && *id) != (secret && *secret))
    return Status::InvalidArgument("set both LATHE_ACCESS_KEY_ID and LATHE_SECRET_ACCESS_KEY, or neither");

  const std::string path = data_dir + "/credentials.json";
  if (Env::Default()->FileExists(path)) {
    auto c = FromJson(path);
    if (!c.ok()) return c.status();
    return CredentialsSource{*c, path};
  }
  if (!create)
    return Status::NotFound("no access keys: neither accessKeyId/secretAccessKey in the config, nor "
                            "LATHE_ACCESS_KEY_ID/LATHE_SECRET_ACCESS_KEY, nor " + path);
  api::Credentials c{"LATHE" + RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 15),
                RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40)};
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(data_dir));
  const mode_t old_mask = ::umask(077);  // the secret is never readable by others, not even briefly
  // An API key too, so that a new server is usable by OpenAI's clients (OPENAI_API_KEY) and
  // Bedrock API key users without editing a config.
  const std::string api_key =
      "lathe-" + RandomString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 40);
  Status written = WriteFileAtomically(Env::Default(), path,
                                       nlohmann::json{{"accessKeyId", c.access_key_id},
                                                      {"secretAccessKey", c.secret_access_key},
                                                      {"bedrockApiKeys", {api_key}}}
                                               .dump(2) +
                                           "\n");
  ::umask(old_mask);
  LATHE_RETURN_IF_ERROR(written);
  return CredentialsSource{c, path, true};
}
}  // namespace

}  // namespace lathe::server
