// What SigV4 verification costs `lathe serve` per request, next to its irreducible crypto measured
// in the same run. bench/bench_serve.py drives its load unsigned (`--no-auth`: no HTTP load tool
// signs SigV4), so this is the part of a boto3 request's server time that benchmark leaves out.
//
// The request is what boto3 sends for GetModelCustomizationJob (a percent-encoded ARN in the path,
// botocore's headers), signed by api::SignSigV4 and checked by api::VerifySigV4 as the server does.
// The peer is the least any verifier must compute: SHA-256 of a canonical request of the same size
// and the five HMAC-SHA256s of the key derivation and signature (OpenSSL).
//
//   build/bench/bench_sigv4 [ITERATIONS]      (prints one JSON line last, for bench_serve.py)
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "aws/sigv4.h"

using namespace lathe::api;

namespace {

const Credentials kKeys{"LATHEBENCHKEY0000001", "lathe-bench-secret-0123456789abcdefghijkl"};

SignedRequest BotoGetJob(std::time_t now) {
  SignedRequest r;
  r.method = "GET";
  r.target =
      "/model-customization-jobs/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Amodel-customization-job/"
      "amazon.titan-text-express-v1/lvll0vc7m7mw";
  r.headers = {{"Host", "127.0.0.1:8080"},
               {"Accept-Encoding", "identity"},
               {"User-Agent", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python#3.11.4 cfg/retry-mode#legacy"},
               {"amz-sdk-invocation-id", "3f6c1a2e-5b7d-4c8e-9f0a-1b2c3d4e5f60"},
               {"amz-sdk-request", "attempt=1"}};
  SignSigV4(&r, "us-east-1", "bedrock", kKeys, now);
  return r;
}

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

// The crypto a verifier cannot skip: hash the canonical request, derive the key, sign.
std::string MinimalCrypto(const std::string& canonical) {
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  std::string k = Hmac("AWS4" + kKeys.secret_access_key, "20261128");
  k = Hmac(Hmac(Hmac(k, "us-east-1"), "bedrock"), "aws4_request");
  return Hmac(k, "AWS4-HMAC-SHA256\n20261128T000000Z\n20261128/us-east-1/bedrock/aws4_request\n" +
                     std::string(reinterpret_cast<char*>(digest), 32));
}

template <typename F>
double MicrosPerCall(int iterations, F f) {
  for (int i = 0; i < iterations / 10 + 1; ++i) f();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const std::time_t now = std::time(nullptr);
  const SignedRequest request = BotoGetJob(now);
  auto lookup = [](const std::string& key) -> std::optional<std::string> {
    if (key == kKeys.access_key_id) return kKeys.secret_access_key;
    return std::nullopt;
  };
  if (!std::holds_alternative<VerifiedRequest>(VerifySigV4(request, lookup, now))) {
    std::fprintf(stderr, "bench_sigv4: the signed request does not verify\n");
    return 1;
  }
  // A canonical request of the size the server builds for this one (method, path, query, the
  // signed headers, their names, the payload hash).
  std::string canonical = request.method + "\n" + request.target + "\n\n";
  for (const auto& [k, v] : request.headers)
    if (k != "Authorization" && k != "User-Agent") canonical += k + ":" + v + "\n";
  canonical += "\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  int verified = 0;
  std::string sink;
  const double verify_us = MicrosPerCall(iterations, [&] {
    verified += std::holds_alternative<VerifiedRequest>(VerifySigV4(request, lookup, now)) ? 1 : 0;
  });
  const double crypto_us = MicrosPerCall(iterations, [&] { sink = MinimalCrypto(canonical); });
  std::printf("SigV4, boto3's GetModelCustomizationJob request, %d iterations (one thread):\n", iterations);
  std::printf("  api::VerifySigV4          %8.2f us/request\n", verify_us);
  std::printf("  minimal crypto (OpenSSL)  %8.2f us/request   (SHA-256 + 5 HMAC-SHA256)\n", crypto_us);
  std::printf("  ratio verify / minimal    %8.2f\n", verify_us / crypto_us);
  std::printf("%s\n", nlohmann::json{{"verify_us", verify_us}, {"minimal_crypto_us", crypto_us},
                                     {"verified", verified > 0 && !sink.empty()}}
                          .dump()
                          .c_str());
  return 0;
}
