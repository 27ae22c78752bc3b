// SHA-256 (OpenSSL's EVP), used for manifests and lineage.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/env.h"

namespace lathe {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lower-case hex digest. The object cannot be updated afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
// Streams a file through SHA-256.
Status Sha256File(Env* env, const std::string& path, std::string* hex);

}  // namespace lathe
