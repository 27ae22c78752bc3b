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

}  // namespace

Result<CredentialsSource> LoadOrCreateCredentials(const std::string& data_dir, const std::string& config_path) {
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
  api::Credentials c{"LATHE" + RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 15),
                RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40)};
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(data_dir));
  const mode_t old_mask = ::umask(077);  // the secret is never readable by others, not even briefly
  Status written = WriteFileAtomically(
      Env::Default(), path,
      nlohmann::json{{"accessKeyId", c.access_key_id}, {"secretAccessKey", c.secret_access_key}}.dump(2) + "\n");
  ::umask(old_mask);
  LATHE_RETURN_IF_ERROR(written);
  return CredentialsSource{c, path, true};
}

}  // namespace lathe::server
