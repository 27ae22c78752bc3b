#include "cli/s3_client.h"

#include <curl/curl.h>

#include <cstdlib>

#include <ctime>
#include <memory>

#include "aws/xml.h"
#include "core/env.h"
#include "core/sha256.h"

namespace lathe::cli {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;  // S3's XML errors are a few hundred bytes

// One request's bodies: the download's file, the upload's, and an error answer kept in memory.
struct Transfer {
  CURL* curl = nullptr;
  AtomicFileWriter* out = nullptr;  // GET: where a 2xx body goes
  SequentialFile* in = nullptr;     // PUT: what is sent
  std::string error_body;           // a non-2xx body, bounded
  Status local;                     // a local read or write that failed mid-transfer
};

bool Success(CURL* curl) {
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  return http >= 200 && http < 300;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (t->out != nullptr && Success(t->curl)) {
    t->local = t->out->Append(std::string_view(data, bytes));
    return t->local.ok() ? bytes : 0;  // 0 aborts the transfer
  }
  if (t->error_body.size() < kMaxErrorBody)
    t->error_body.append(data, std::min(bytes, kMaxErrorBody - t->error_body.size()));
  return bytes;
}

size_t ReadBody(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t got = 0;
  t->local = t->in->Read(size * n, buffer, &got);
  return t->local.ok() ? got : CURL_READFUNC_ABORT;
}

// "<Code>: <Message>" from S3's XML error; the HTTP status when there is no body (HEAD).
std::string S3Error(long http, const std::string& body) {
  pugi::xml_document doc;
  if (!body.empty() && aws::ParseXmlBounded(body, kMaxErrorBody, 8, &doc).ok()) {
    const pugi::xml_node error = doc.child("Error");
    const std::string code = error.child_value("Code"), message = error.child_value("Message");
    if (!code.empty()) return code + ": " + message;
  }
  if (http == 404) return "404: Not Found (no such bucket or key)";
  if (http == 403) return "403: Forbidden (AccessDenied)";
  return "HTTP " + std::to_string(http) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

// One signed request for `object`. `sha256` is the body's hash (S3 checks it against what
// arrives); `size` the body's length.
Status Perform(const ClientIdentity& who, const char* method, const service::S3Uri& object, Transfer* t,
               const std::string& sha256, uint64_t size, uint64_t* content_length = nullptr) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return Status::Internal("libcurl failed to initialize");
  const std::string uri = object.ToString();
  const size_t scheme = who.endpoint.find("://");
  if (scheme == std::string::npos)
    return Status::InvalidArgument("endpoint " + who.endpoint + ": expected a URL like http://127.0.0.1:8080");
  const size_t slash = std::min(who.endpoint.find('/', scheme + 3), who.endpoint.size());
  const std::string host = who.endpoint.substr(scheme + 3, slash - scheme - 3);
  const std::string path = who.endpoint.substr(slash) + S3ObjectPath(object);

  api::SignedRequest request{method, path, {{"Host", host}, {"X-Amz-Content-SHA256", sha256}}, ""};
  if (who.credentials) api::SignSigV4(&request, who.region, "s3", *who.credentials, std::time(nullptr));

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Internal("libcurl: cannot create a handle");
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  CURL* h = curl.get();
  t->curl = h;
  char curl_error[CURL_ERROR_SIZE] = {};
  const std::string url = who.endpoint + S3ObjectPath(object);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // An https:// server with its own CA (`lathe serve --tls-self-signed`), trusted as the AWS CLI
  // trusts it: AWS_CA_BUNDLE.
  if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca && *ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  const std::string verb = method;
  if (verb == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (verb == "GET") curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxDownloadBytes));
  if (verb == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  }
  const CURLcode rc = curl_easy_perform(h);
  if (!t->local.ok()) return Status::IOError(uri + ": " + t->local.message());
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT)
    return Status::IOError(uri + ": cannot reach the S3 endpoint " + who.endpoint + " (" +
                           (curl_error[0] ? curl_error : curl_easy_strerror(rc)) +
                           "). Is lathe serve running? Start it with `lathe serve`, or point --endpoint or "
                           "AWS_ENDPOINT_URL at it.");
  if (rc == CURLE_FILESIZE_EXCEEDED)
    return Status::InvalidArgument(uri + ": the object is larger than " + std::to_string(kMaxDownloadBytes) +
                                   " bytes, the most a lathe data command reads of one file");
  if (rc != CURLE_OK) return Status::IOError(uri + ": " + (curl_error[0] ? curl_error : curl_easy_strerror(rc)));
  long http = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
  if (http < 200 || http >= 300) {
    const std::string text = uri + ": " + S3Error(http, t->error_body);
    if (http == 404) return Status::NotFound(text);
    return http >= 500 ? Status::Internal(text) : Status::InvalidArgument(text);
  }
  if (content_length) {
    curl_off_t length = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length < 0) return Status::Corruption(uri + ": the answer to HeadObject has no Content-Length");
    *content_length = static_cast<uint64_t>(length);
  }
  return Status::Ok();
}

}  // namespace

std::string S3ObjectPath(const service::S3Uri& object) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "/" + object.bucket + "/";
  for (unsigned char c : object.key) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

S3Client::S3Client(const ClientOptions& options) : who_(ResolveClientIdentity(options)) {}

Status S3Client::Download(const service::S3Uri& object, const std::string& path) {
  std::unique_ptr<AtomicFileWriter> out;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(Env::Default(), path, &out));
  Transfer t;
  t.out = out.get();
  LATHE_RETURN_IF_ERROR(Perform(who_, "GET", object, &t, Sha256Hex(""), 0));
  return out->Commit();  // not committed on error: the temporary file goes with `out`
}

Status S3Client::Upload(const std::string& path, const service::S3Uri& object) {
  Env* env = Env::Default();
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  if (size > kMaxSinglePutBytes)
    return Status::InvalidArgument(path + " has " + std::to_string(size) + " bytes; one PutObject carries at most 5 GiB");
  std::string sha256;
  LATHE_RETURN_IF_ERROR(Sha256File(env, path, &sha256));
  std::unique_ptr<SequentialFile> in;
  LATHE_RETURN_IF_ERROR(env->NewSequentialFile(path, &in));
  Transfer t;
  t.in = in.get();
  return Perform(who_, "PUT", object, &t, sha256, size);
}

Result<uint64_t> S3Client::Head(const service::S3Uri& object) {
  Transfer t;
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(Perform(who_, "HEAD", object, &t, Sha256Hex(""), 0, &size));
  return size;
}

}  // namespace lathe::cli
