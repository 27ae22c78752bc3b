#include "services/sns/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "core/checksum.h"
#include "core/env.h"
#include "core/sha256.h"

namespace lathe::sns {
namespace {

constexpr int kRsaBits = 2048;
constexpr long kCertificateDays = 3650;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<std::string> NewSelfSignedCertificate(EVP_PKEY* key) {
  X509* cert = X509_new();
  if (!cert) return Status::Internal("out of memory making the SNS signing certificate");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), kCertificateDays * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("lathe"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("lathe SNS message signing"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  std::string pem;
  if (X509_sign(cert, key, EVP_sha256()) > 0) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (PEM_write_bio_X509(bio, cert) == 1) pem = BioText(bio);
    BIO_free(bio);
  }
  X509_free(cert);
  if (pem.empty()) return Status::Internal("could not make the SNS signing certificate");
  return pem;
}

}  // namespace

SigningKey::~SigningKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

Result<std::unique_ptr<SigningKey>> SigningKey::LoadOrCreate(const std::string& dir) {
  Env* env = Env::Default();
  const std::string key_path = dir + "/signing-key.pem", cert_path = dir + "/signing-cert.pem";
  std::unique_ptr<SigningKey> k(new SigningKey());
  std::string key_pem, cert_pem;
  if (env->FileExists(key_path) && env->FileExists(cert_path)) {
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, key_path, &key_pem));
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, cert_path, &cert_pem));
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    k->key_ = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!k->key_) return Status::Corruption(key_path + ": not a PEM private key; remove it and " + cert_path +
                                            " to make a new pair");
  } else {
    LATHE_RETURN_IF_ERROR(env->CreateDirs(dir));
    EVP_PKEY* key = EVP_RSA_gen(kRsaBits);
    if (!key) return Status::Internal("could not make the SNS signing key");
    k->key_ = key;
    BIO* bio = BIO_new(BIO_s_mem());
    if (PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) key_pem = BioText(bio);
    BIO_free(bio);
    Result<std::string> cert = NewSelfSignedCertificate(key);
    if (!cert.ok()) return cert.status();
    cert_pem = *cert;
    // The certificate last: a crash between the two leaves no pair, and both are made again.
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, key_path, key_pem));
    ::chmod(key_path.c_str(), 0600);
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, cert_path, cert_pem));
  }
  k->cert_pem_ = cert_pem;
  k->cert_name_ = "SimpleNotificationService-" + Sha256Hex(cert_pem).substr(0, 32) + ".pem";
  return k;
}

Result<std::string> SigningKey::Sign(std::string_view text, int signature_version) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return Status::Internal("out of memory signing an SNS message");
  const EVP_MD* md = signature_version == 2 ? EVP_sha256() : EVP_sha1();
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(static_cast<EVP_PKEY*>(key_))), '\0');
  size_t len = sig.size();
  const bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, static_cast<EVP_PKEY*>(key_)) == 1 &&
                  EVP_DigestSignUpdate(ctx, text.data(), text.size()) == 1 &&
                  EVP_DigestSignFinal(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("could not sign an SNS message");
  sig.resize(len);
  return Base64Encode(sig);
}

}  // namespace lathe::sns
