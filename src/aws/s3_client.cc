#include "aws/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "aws/s3_upload_body.h"
#include "aws/sigv4_internal.h"
#include "core/env.h"
#include "core/sha256.h"

namespace lathe::aws {
namespace {

// One request's state, shared with libcurl's callbacks.
struct Transfer {
  long status = 0;                  // from the last status line (a 100 Continue comes first)
  AtomicFileWriter* out = nullptr;  // GET: where a 2xx body goes
  SequentialFile* in = nullptr;     // PUT: what is sent
  uint64_t max_bytes = UINT64_MAX;  // GET: the most bytes copied
  uint64_t written = 0;
  bool too_large = false;
  int64_t content_length = -1;
  S3ObjectHead head;
  std::string error_body;           // a non-2xx body, bounded
  bool error_body_cut = false;      // the transfer was ended there: enough of it is kept
  Status local;                     // a local read or write that failed mid-transfer
};

bool Success(long status) { return status >= 200 && status < 300; }

std::string Trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue): start over
    const size_t space = line.find(' ');
    t->status = space == line.npos ? 0 : std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    t->head = S3ObjectHead{};
    t->content_length = -1;
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon == line.npos || colon > 64) return line.size();
  const std::string name = api::sigv4::Lower(line.substr(0, colon));
  const std::string value = Trimmed(line.substr(colon + 1));
  if (name == "content-length" && !value.empty() && value.size() < 20 &&
      value.find_first_not_of("0123456789") == std::string::npos) {
    t->content_length = static_cast<int64_t>(std::strtoull(value.c_str(), nullptr, 10));
    // Refused from the length it announces, before a byte of the body is copied.
    if (Success(t->status) && t->out != nullptr && static_cast<uint64_t>(t->content_length) > t->max_bytes) {
      t->too_large = true;
      return 0;  // aborts the transfer
    }
  } else if (name == "etag") {
    std::string etag = value.substr(0, 256);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    t->head.etag = etag;
  } else if (name == "x-amz-version-id") {
    t->head.version_id = value.substr(0, 1024);
  } else if (name == "last-modified" && value.size() < 64) {
    const time_t when = curl_getdate(value.c_str(), nullptr);
    if (when > 0) t->head.modified_ms = static_cast<int64_t>(when) * 1000;
  }
  return line.size();
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (t->out != nullptr && Success(t->status)) {
    if (t->written + bytes > t->max_bytes) {  // longer than announced (or no length announced)
      t->too_large = true;
      return 0;
    }
    t->written += bytes;
    t->local = t->out->Append(std::string_view(data, bytes));
    return t->local.ok() ? bytes : 0;  // 0 aborts the transfer
  }
  // An error answer is read up to kMaxS3ErrorBody and no further: a body that never ends (a
  // broken or hostile endpoint trickling bytes) would otherwise hold the request forever, as it
  // never stalls long enough for kS3StallSeconds.
  const size_t room = kMaxS3ErrorBody - t->error_body.size();
  t->error_body.append(data, std::min(bytes, room));
  if (bytes < room) return bytes;
  t->error_body_cut = true;
  return 0;  // aborts the transfer; the status line and what was read say what went wrong
}

size_t OnUpload(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t got = 0;
  t->local = t->in->Read(size * n, buffer, &got);
  return t->local.ok() ? got : CURL_READFUNC_ABORT;
}

std::string UriOf(const std::string& bucket, const std::string& key) { return "s3://" + bucket + "/" + key; }

// One signed request. `payload_sha256`: the body's hash; `size`: its length (PUT).
Status Perform(const S3Endpoint& endpoint, const char* method, const std::string& bucket, const std::string& key,
               std::string_view query, Transfer* t, const std::string& payload_sha256, uint64_t size,
               const std::string& content_type = "") {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return Status::Internal("libcurl failed to initialize");
  const std::string what = UriOf(bucket, key);
  Result<S3HttpRequest> request =
      BuildS3Request(endpoint, method, bucket, key, query, payload_sha256, std::time(nullptr), content_type);
  if (!request.ok()) return Status::InvalidArgument(what + ": " + request.status().message());

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Internal("libcurl: cannot create a handle");
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : request->signed_request.headers)
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  CURL* h = curl.get();
  char curl_error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, request->url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would leave the signed host
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // The path goes as signed: without this libcurl collapses "/./" and "/../" in keys (valid S3
  // keys), sending another path than the signature covers, or one in another bucket.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  if (!endpoint.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, endpoint.ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kS3ConnectTimeoutSeconds);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, kS3StallSeconds);
  const std::string verb = method;
  if (verb == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (verb == "HEAD" || verb == "DELETE" || (verb == "GET" && t->out == nullptr))
    curl_easy_setopt(h, CURLOPT_TIMEOUT, kS3HeadTimeoutSeconds);
  if (verb == "DELETE") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  if (verb == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  }
  const CURLcode rc = curl_easy_perform(h);
  if (t->too_large)
    return Status::InvalidArgument(what + " is larger than " + std::to_string(t->max_bytes) +
                                   " bytes, the most read of this object");
  if (!t->local.ok()) return Status::IOError(what + ": " + t->local.message());
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT)
    return Status::IOError(what + ": cannot reach the S3 endpoint " + endpoint.url + " (" +
                           (curl_error[0] ? curl_error : curl_easy_strerror(rc)) + ")" +
                           (endpoint.unreachable_hint.empty() ? "" : ". " + endpoint.unreachable_hint));
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->error_body_cut))
    return Status::IOError(what + ": " + (curl_error[0] ? curl_error : curl_easy_strerror(rc)));
  long http = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
  if (!Success(http)) return S3ErrorStatus(http, t->error_body, what, key.empty() ? "NoSuchBucket" : "NoSuchKey");
  if (t->content_length >= 0) t->head.size = static_cast<uint64_t>(t->content_length);
  return Status::Ok();
}

}  // namespace

Status S3Client::HeadBucket(const std::string& bucket) {
  Transfer t;
  Status s = Perform(endpoint_, "HEAD", bucket, "", "", &t, std::string(api::sigv4::kEmptySha256), 0);
  if (s.ok() || (s.http_status() != 403 && s.http_status() != 400)) return s;
  Transfer listed;  // the same question with a body, which carries S3's code
  Status why = Perform(endpoint_, "GET", bucket, "", "list-type=2&max-keys=0", &listed,
                       std::string(api::sigv4::kEmptySha256), 0);
  return why.ok() ? s : why;
}

Result<S3ObjectHead> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  Transfer t;
  LATHE_RETURN_IF_ERROR(Perform(endpoint_, "HEAD", bucket, key, "", &t, std::string(api::sigv4::kEmptySha256), 0));
  if (t.content_length < 0) return Status::Corruption(UriOf(bucket, key) + ": HeadObject's answer has no Content-Length");
  return t.head;
}

Status S3Client::GetObject(const std::string& bucket, const std::string& key, const std::string& path,
                           uint64_t max_bytes, S3ObjectHead* head) {
  std::unique_ptr<AtomicFileWriter> out;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(Env::Default(), path, &out));
  Transfer t;
  t.out = out.get();
  t.max_bytes = max_bytes;
  LATHE_RETURN_IF_ERROR(Perform(endpoint_, "GET", bucket, key, "", &t, std::string(api::sigv4::kEmptySha256), 0));
  if (head != nullptr) {
    *head = t.head;
    head->size = t.written;
  }
  return out->Commit();  // not committed on error: the temporary file goes with `out`
}

Status S3Client::PutObject(const std::string& path, const std::string& bucket, const std::string& key,
                           const std::string& content_type) {
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
  return Perform(endpoint_, "PUT", bucket, key, "", &t, sha256, size, content_type);
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  Transfer t;
  return Perform(endpoint_, "DELETE", bucket, key, "", &t, std::string(api::sigv4::kEmptySha256), 0);
}

}  // namespace lathe::aws
