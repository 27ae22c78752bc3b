#include "services/sns/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace lathe::sns {
namespace {

constexpr long kConnectTimeoutSeconds = 5;
constexpr long kTotalTimeoutSeconds = 15;  // AWS waits 15 s for an HTTP endpoint's answer
constexpr size_t kMaxResponseBytes = 64 * 1024;  // read and dropped; a subscriber's answer is ignored

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t DiscardBody(char* data, size_t size, size_t n, void* counter) {
  size_t* seen = static_cast<size_t*>(counter);
  *seen += size * n;
  return *seen > kMaxResponseBytes ? 0 : size * n;  // 0 aborts an endless answer
}

struct ReadState {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* state) {
  auto* s = static_cast<ReadState*>(state);
  const size_t take = std::min(size * n, s->data->size() - s->pos);
  std::memcpy(buf, s->data->data() + s->pos, take);
  s->pos += take;
  return take;
}

}  // namespace

Status CurlTransport::PostHttp(const std::string& url, const HeaderList& headers, const std::string& body) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::Internal("libcurl could not start");
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  size_t seen = 0;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, kTotalTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &seen);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 200 && status < 300))
    return Status::IOError(std::string("POST failed: ") + curl_easy_strerror(rc));
  if (status < 200 || status >= 300) return Status::IOError("the endpoint answered HTTP " + std::to_string(status));
  return Status::Ok();
}

Status CurlTransport::SendMail(const SmtpRelay& relay, const std::string& to, const std::string& eml) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::Internal("libcurl could not start");
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  ReadState state{&eml};
  curl_easy_setopt(curl, CURLOPT_URL, relay.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + relay.from + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &state);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!relay.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, relay.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, relay.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Status::IOError(std::string("SMTP relay ") + relay.url + ": " + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace lathe::sns
