#include "core/sha256.h"

#include <openssl/evp.h>

namespace lathe {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

Status Sha256File(Env* env, const std::string& path, std::string* hex) {
  std::unique_ptr<SequentialFile> f;
  LATHE_RETURN_IF_ERROR(env->NewSequentialFile(path, &f));
  Sha256 h;
  std::string buf(1 << 20, '\0');
  while (true) {
    size_t n = 0;
    LATHE_RETURN_IF_ERROR(f->Read(buf.size(), buf.data(), &n));
    if (n == 0) break;
    h.Update(std::string_view(buf.data(), n));
  }
  *hex = h.HexDigest();
  return Status::Ok();
}

}  // namespace lathe
