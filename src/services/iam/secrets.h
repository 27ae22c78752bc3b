// Access keys' secrets, kept apart from the metadata store: SigV4 verification needs the secret
// itself (the signing key is derived from it per day, region and service), so it is stored as is,
// protected by the file system — DATA_DIR/iam/ is made 0700 and access-keys.json in it 0600, both
// re-applied on every write. The store's row says a key exists and whether it is active; the
// secret is written before the row and removed after it, so a crash leaves at most a secret with
// no key, which the next start drops (Retain).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"

namespace lathe::iam {

class AccessKeySecrets {
 public:
  // Reads DIR/access-keys.json (absent: none yet). `dir` "" keeps secrets in memory only (tests).
  static Result<std::unique_ptr<AccessKeySecrets>> Open(const std::string& dir);

  Status Put(const std::string& key_id, const std::string& secret);
  Status Remove(const std::string& key_id);
  std::optional<std::string> Get(const std::string& key_id) const;
  // Forgets the secrets of keys for which `exists` is false.
  Status Retain(const std::function<bool(const std::string& key_id)>& exists);

  // The file's largest accepted size and entry count (docs/serve.md, Limits).
  static constexpr size_t kMaxFileBytes = 4u << 20;
  static constexpr size_t kMaxEntries = 20000;

 private:
  explicit AccessKeySecrets(std::string dir) : dir_(std::move(dir)) {}
  Status SaveLocked();

  std::string dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> secrets_;
};

}  // namespace lathe::iam
