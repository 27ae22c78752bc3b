// The key SNS signs its http/https messages with, and the certificate subscribers verify them
// with. lathe makes an RSA-2048 key and a self-signed certificate once, keeps both in
// DATA_DIR/sns/ (the key readable by its owner only), and serves the certificate at
// SigningCertURL (/SimpleNotificationService-<id>.pem on lathe's own endpoint), so a subscriber's
// usual verification code (fetch the certificate, check the signature) works unchanged; only
// the check that the URL is an amazonaws.com host must be relaxed (docs/compatibility.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::sns {

class SigningKey {
 public:
  // Loads DATA_DIR/sns/signing-key.pem and signing-cert.pem, making both when absent.
  static Result<std::unique_ptr<SigningKey>> LoadOrCreate(const std::string& dir);
  ~SigningKey();

  // base64 RSA PKCS#1 v1.5 signature of `text`: SHA1 for SignatureVersion 1, SHA256 for 2.
  Result<std::string> Sign(std::string_view text, int signature_version) const;
  const std::string& certificate_pem() const { return cert_pem_; }
  // "SimpleNotificationService-<32 hex>.pem": changes when the certificate does.
  const std::string& certificate_file_name() const { return cert_name_; }

 private:
  SigningKey() = default;
  void* key_ = nullptr;  // EVP_PKEY*, kept out of this header
  std::string cert_pem_, cert_name_;
};

}  // namespace lathe::sns
