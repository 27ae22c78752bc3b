// AWS's published example of a streamed S3 upload ("Transferring Payload in Multiple Chunks",
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): the seed request, its key and
// time, and the signatures AWS printed. Shared by sigv4_test.cc (the seed) and
// aws_chunked_test.cc (the chunks).
#pragma once

#include <optional>
#include <string>

#include "aws/sigv4.h"

namespace lathe::api::testing {

inline constexpr const char* kStreamingSeedSignature =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
// The example key pair and time of AWS's S3 SigV4 documentation.
inline const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
inline constexpr std::time_t kS3DocTime = 1369353600;  // 20130524T000000Z

// PUT examplebucket/chunkObject.txt with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, body unsent.
inline SignedRequest StreamingSeedRequest() {
  return SignedRequest{"PUT",
                       "/examplebucket/chunkObject.txt",
                       {{"Host", "s3.amazonaws.com"},
                        {"x-amz-date", "20130524T000000Z"},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                        {"Content-Encoding", "aws-chunked"},
                        {"x-amz-decoded-content-length", "66560"},
                        {"Content-Length", "66824"},
                        {"Authorization",
                         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                         "aws4_request,SignedHeaders=content-encoding;content-length;host;"
                         "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                         "x-amz-storage-class,Signature=" +
                             std::string(kStreamingSeedSignature)}},
                       ""};
}

// The example's body: 65536 and 1024 bytes of 'a' and the final chunk, each signed in a chain
// from the seed signature, with AWS's printed chunk signatures.
inline constexpr const char* kStreamingChunkSignatures[] = {
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};
inline std::string StreamingExampleBody() {
  std::string body;
  const size_t sizes[] = {65536, 1024, 0};
  const char* hex_sizes[] = {"10000", "400", "0"};
  for (int i = 0; i < 3; ++i)
    body += std::string(hex_sizes[i]) + ";chunk-signature=" + kStreamingChunkSignatures[i] + "\r\n" +
            std::string(sizes[i], 'a') + "\r\n";
  return body;
}

inline SecretLookup S3DocLookup() {
  return [](const std::string& id) -> std::optional<std::string> {
    if (id == kS3DocCredentials.access_key_id) return kS3DocCredentials.secret_access_key;
    return std::nullopt;
  };
}

}  // namespace lathe::api::testing
