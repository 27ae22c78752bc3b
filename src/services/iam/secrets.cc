#include "services/iam/secrets.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/env.h"

namespace lathe::iam {

namespace {
constexpr char kFile[] = "access-keys.json";
}

Result<std::unique_ptr<AccessKeySecrets>> AccessKeySecrets::Open(const std::string& dir) {
  std::unique_ptr<AccessKeySecrets> secrets(new AccessKeySecrets(dir));
  if (dir.empty()) return secrets;
  Env* env = Env::Default();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return Status::IOError(dir + ": cannot make it private (chmod 0700)");
  const std::string path = dir + "/" + kFile;
  if (!env->FileExists(path)) return secrets;
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  if (size > kMaxFileBytes) return Status::Corruption(path + " is larger than any lathe writes");
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_object() || doc["keys"].size() > kMaxEntries)
    return Status::Corruption(path + " is not an access key file lathe wrote");
  for (const auto& [id, secret] : doc["keys"].items()) {
    if (!secret.is_string()) return Status::Corruption(path + ": the secret of " + id.substr(0, 32) + " is not text");
    secrets->secrets_[id] = secret.get<std::string>();
  }
  return secrets;
}

Status AccessKeySecrets::SaveLocked() {
  if (dir_.empty()) return Status::Ok();
  if (::chmod(dir_.c_str(), 0700) != 0) return Status::IOError(dir_ + ": cannot make it private (chmod 0700)");
  const std::string path = dir_ + "/" + kFile;
  nlohmann::json doc = {{"version", 1}, {"keys", secrets_}};
  // The temporary file is written inside the 0700 folder: no one else can reach it even before
  // the chmod below.
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), path, doc.dump(1) + "\n"));
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError(path + ": cannot make it private (chmod 0600)");
  return Status::Ok();
}

Status AccessKeySecrets::Put(const std::string& key_id, const std::string& secret) {
  std::lock_guard<std::mutex> lock(mu_);
  if (secrets_.size() >= kMaxEntries && !secrets_.count(key_id))
    return Status::QuotaExceeded("too many access keys on this server");
  secrets_[key_id] = secret;
  Status s = SaveLocked();
  if (!s.ok()) secrets_.erase(key_id);
  return s;
}

Status AccessKeySecrets::Remove(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (secrets_.erase(key_id) == 0) return Status::Ok();
  return SaveLocked();
}

std::optional<std::string> AccessKeySecrets::Get(const std::string& key_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = secrets_.find(key_id);
  if (it == secrets_.end()) return std::nullopt;
  return it->second;
}

Status AccessKeySecrets::Retain(const std::function<bool(const std::string&)>& exists) {
  std::lock_guard<std::mutex> lock(mu_);
  bool changed = false;
  for (auto it = secrets_.begin(); it != secrets_.end();) {
    if (exists(it->first)) {
      ++it;
    } else {
      it = secrets_.erase(it);
      changed = true;
    }
  }
  return changed ? SaveLocked() : Status::Ok();
}

}  // namespace lathe::iam
