#include "http/tls_self_signed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace lathe::http {

namespace {

constexpr long kDay = 24 * 3600;
constexpr long kCaDays = 3650;
constexpr long kServerDays = 397;  // the most that browsers and Apple's clients accept
constexpr long kRenewBeforeDays = 30;

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Key NewKey() { return Key(EVP_EC_gen("P-256"), EVP_PKEY_free); }

bool IsIp(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `common_name`, signed by issuer_key (issuer null: self-signed).
Cert Make(EVP_PKEY* key, const std::string& common_name, long days, X509* issuer, EVP_PKEY* issuer_key,
          const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new(), X509_free);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * kDay);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("lathe"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  for (const auto& [nid, value] : extensions) {
    if (!AddExtension(cert.get(), issuer ? issuer : cert.get(), nid, value)) return Cert(nullptr, X509_free);
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) return Cert(nullptr, X509_free);
  return cert;
}

FILE* OpenForWrite(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  return fd < 0 ? nullptr : ::fdopen(fd, "w");
}

Status WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = OpenForWrite(path, 0600);
  if (!f) return Status::IOError("cannot write " + path);
  bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fclose(f) == 0 && ok;
  return ok ? Status::Ok() : Status::IOError("cannot write " + path);
}

Status WriteCerts(const std::string& path, std::initializer_list<X509*> certs) {
  FILE* f = OpenForWrite(path, 0644);
  if (!f) return Status::IOError("cannot write " + path);
  bool ok = true;
  for (X509* c : certs) ok = ok && PEM_write_X509(f, c) == 1;
  ok = std::fclose(f) == 0 && ok;
  return ok ? Status::Ok() : Status::IOError("cannot write " + path);
}

Key ReadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Key(nullptr, EVP_PKEY_free);
  Key key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::fclose(f);
  return key;
}

Cert ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Cert(nullptr, X509_free);
  Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr), X509_free);
  std::fclose(f);
  return cert;
}

// Valid for kRenewBeforeDays more, and naming `host`.
bool StillGood(X509* cert, const std::string& host) {
  if (X509_cmp_time(X509_get0_notAfter(cert), nullptr) <= 0) return false;
  time_t soon = time(nullptr) + kRenewBeforeDays * kDay;
  if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0) return false;
  return IsIp(host) ? X509_check_ip_asc(cert, host.c_str(), 0) == 1
                    : X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
}

}  // namespace

Result<SelfSignedFiles> MakeSelfSigned(const std::string& dir, const std::string& host_in) {
  // Any address (0.0.0.0, ::) is reached as 127.0.0.1 on this machine; other names are the
  // operator's to add with --tls-cert.
  const std::string host = host_in.empty() || host_in == "0.0.0.0" || host_in == "::" ? "127.0.0.1" : host_in;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  SelfSignedFiles files{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem", false};
  const std::string ca_key_path = dir + "/ca-key.pem";

  Key ca_key = ReadKey(ca_key_path);
  Cert ca = ReadCert(files.ca_cert);
  if (!ca_key || !ca || X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ca_key = NewKey();
    if (!ca_key) return Status::Internal("cannot make a key for the local CA");
    ca = Make(ca_key.get(), "lathe local CA", kCaDays, nullptr, nullptr,
              {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
               {NID_key_usage, "critical,keyCertSign,cRLSign"},
               {NID_subject_key_identifier, "hash"}});
    if (!ca) return Status::Internal("cannot make the local CA's certificate");
    LATHE_RETURN_IF_ERROR(WriteKey(ca_key_path, ca_key.get()));
    LATHE_RETURN_IF_ERROR(WriteCerts(files.ca_cert, {ca.get()}));
    files.created = true;
  }
  Cert existing = ReadCert(files.cert);
  Key existing_key = ReadKey(files.key);
  if (!files.created && existing && existing_key && StillGood(existing.get(), host) &&
      X509_verify(existing.get(), ca_key.get()) == 1) {
    return files;
  }
  Key key = NewKey();
  if (!key) return Status::Internal("cannot make a key for the server certificate");
  const std::string named = std::string(IsIp(host) ? "IP:" : "DNS:") + host;
  std::string names = named;
  for (const char* also : {"IP:127.0.0.1", "IP:::1", "DNS:localhost"}) {
    if (named != also) names += std::string(",") + also;
  }
  Cert cert = Make(key.get(), host, kServerDays, ca.get(), ca_key.get(),
                   {{NID_basic_constraints, "critical,CA:FALSE"},
                    {NID_key_usage, "critical,digitalSignature"},
                    {NID_ext_key_usage, "serverAuth"},
                    {NID_subject_alt_name, names},
                    {NID_authority_key_identifier, "keyid"}});
  if (!cert) return Status::Internal("cannot make the server certificate for " + host);
  LATHE_RETURN_IF_ERROR(WriteKey(files.key, key.get()));
  LATHE_RETURN_IF_ERROR(WriteCerts(files.cert, {cert.get(), ca.get()}));
  files.created = true;
  return files;
}

}  // namespace lathe::http
