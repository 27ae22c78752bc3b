#include "aws/s3_request.h"

#include <pugixml.hpp>

#include "aws/wire.h"
#include "aws/xml.h"

namespace lathe::aws {

std::string EncodeS3Key(std::string_view key) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

Result<S3HttpRequest> BuildS3Request(const S3Endpoint& endpoint, std::string_view method, std::string_view bucket,
                                     std::string_view key, std::string_view query, std::string_view payload_sha256,
                                     std::time_t now, std::string_view content_type) {
  const std::string& url = endpoint.url;
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    return Status::InvalidArgument("S3 endpoint " + url + ": expected an http:// or https:// URL");
  const size_t host_end = std::min(url.find('/', scheme + 3), url.size());
  const std::string host = url.substr(scheme + 3, host_end - scheme - 3);
  std::string base_path = url.substr(host_end);
  while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
  if (host.empty()) return Status::InvalidArgument("S3 endpoint " + url + ": no host");

  std::string path, sent_host, origin;
  if (endpoint.path_style) {
    sent_host = host;
    origin = url.substr(0, host_end);
    path = base_path + "/" + std::string(bucket);
    if (!key.empty()) path += "/" + EncodeS3Key(key);
  } else {
    // Virtual-hosted: the bucket becomes the first label of the host.
    sent_host = std::string(bucket) + "." + host;
    origin = url.substr(0, scheme + 3) + sent_host;
    path = base_path + "/" + EncodeS3Key(key);
  }
  std::string target = path + (query.empty() ? "" : "?" + std::string(query));
  S3HttpRequest out;
  out.url = origin + target;
  out.signed_request = api::SignedRequest{std::string(method), std::move(target),
                                          {{"Host", sent_host}, {"X-Amz-Content-SHA256", std::string(payload_sha256)}},
                                          ""};
  if (!content_type.empty()) out.signed_request.headers.emplace_back("Content-Type", std::string(content_type));
  if (endpoint.credentials) api::SignSigV4(&out.signed_request, endpoint.region, "s3", *endpoint.credentials, now);
  return out;
}

Status S3ErrorStatus(long http_status, std::string_view body, const std::string& what,
                     std::string_view not_found_code) {
  std::string code, message, redirect_to;
  pugi::xml_document doc;
  if (!body.empty() && ParseXmlBounded(body, kMaxS3ErrorBody, 8, &doc).ok()) {
    const pugi::xml_node error = doc.child("Error");
    code = error.child_value("Code");
    message = error.child_value("Message");
    redirect_to = error.child_value("Endpoint");
  }
  if (code.empty()) {  // HEAD, or a body that is not S3's: the code S3 would send for the status
    if (http_status == 404) code = not_found_code;
    else if (http_status == 403) code = "AccessDenied";
    else if (http_status == 301) code = "PermanentRedirect";
    else if (http_status == 400) code = "BadRequest";
    else if (http_status == 503) code = "ServiceUnavailable";
    else if (http_status >= 500) code = "InternalError";
    else code = "HTTP" + std::to_string(http_status);
    message = body.empty() ? "(no message: HTTP " + std::to_string(http_status) + ")"
                           : Printable(body.substr(0, 200), 200);
  }
  // Echoed into job failure messages: keep it printable and short, whatever the remote sent. A
  // code has no "..." appended: it is compared, not read.
  code = Printable(std::string_view(code).substr(0, 64), 64);
  std::string text = what + ": " + code + ": " + Printable(message, 400);
  if (!redirect_to.empty()) text += " (S3 names the endpoint " + Printable(redirect_to, 200) + ")";
  const Status::Code generic = http_status == 404  ? Status::Code::kNotFound
                               : http_status >= 500 ? Status::Code::kInternal
                                                    : Status::Code::kInvalidArgument;
  return Status::Aws(std::move(code), static_cast<int>(http_status), std::move(text), generic);
}

}  // namespace lathe::aws
