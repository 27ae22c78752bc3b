#include "cli/client.h"

#include "cli/commands.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>

#include "core/env.h"
#include "engine/default_model.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

constexpr const char* kDefaultEndpoint = "http://127.0.0.1:8080";

std::string EnvOr(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// DATA_DIR/credentials.json, written by `lathe serve` on its first start.
std::optional<api::Credentials> FromServerFile(const std::string& data_dir) {
  std::string text;
  if (!ReadFileToString(Env::Default(), data_dir + "/credentials.json", &text).ok()) return std::nullopt;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.value("accessKeyId", json()).is_string() || !j.value("secretAccessKey", json()).is_string())
    return std::nullopt;
  return api::Credentials{j["accessKeyId"], j["secretAccessKey"]};
}

// The AWS CLI's INI file: "[profile]" sections of "key = value" lines; '#' and ';' start comments.
std::optional<api::Credentials> FromAwsFile() {
  const std::string home = EnvOr("HOME");
  std::ifstream in(EnvOr("AWS_SHARED_CREDENTIALS_FILE", home.empty() ? "" : home + "/.aws/credentials"));
  const std::string wanted = EnvOr("AWS_PROFILE", "default");
  std::string line, section;
  api::Credentials c;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      continue;
    }
    const size_t eq = line.find('=');
    if (section != wanted || eq == std::string::npos) continue;
    const std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Keeps x-amzn-ErrorType, which names the error the way SDKs name their exceptions.
size_t KeepErrorType(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (name == "x-amzn-errortype") *static_cast<std::string*>(out) = Trim(line.substr(colon + 1));
  }
  return size * n;
}

// What a Bedrock error answer says, as a Status whose code matches the error where lathe has one.
Status ErrorFromAnswer(long http, std::string type, const std::string& body) {
  type = type.substr(0, type.find(':'));  // AWS may append ":http://internal.amazon.com/..."
  json j = json::parse(body, nullptr, false);
  std::string message = body.substr(0, 300);
  if (j.is_object()) message = j.value("message", j.value("Message", message));
  if (type.empty()) type = "HTTP " + std::to_string(http);
  const std::string text = type + ": " + message;
  if (type == "ResourceNotFoundException") return Status::NotFound(text);
  if (type == "ConflictException") return Status::Conflict(text);
  if (type == "ThrottlingException") return Status::Throttled(text);
  if (type == "MissingAuthenticationTokenException")
    return Status::InvalidArgument(text + " (no keys found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                                          "or pass the server's --data-dir)");
  return http >= 500 ? Status::Internal(text) : Status::InvalidArgument(text);
}

}  // namespace

void AddClientOptions(CLI::App* cmd, ClientOptions* options) {
  cmd->add_option("--endpoint", options->endpoint,
                  "URL of lathe serve (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:8080)");
  cmd->add_option("--data-dir", options->data_dir,
                  "The server's data directory, to sign with its credentials.json when $AWS_ACCESS_KEY_ID is unset");
  cmd->add_flag("--json", options->json, "Print the server's JSON answer");
}

ClientIdentity ResolveClientIdentity(const ClientOptions& options) {
  ClientIdentity who;
  who.endpoint = options.endpoint.empty() ? EnvOr("AWS_ENDPOINT_URL", kDefaultEndpoint) : options.endpoint;
  while (!who.endpoint.empty() && who.endpoint.back() == '/') who.endpoint.pop_back();
  who.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1"));
  const std::string id = EnvOr("AWS_ACCESS_KEY_ID"), secret = EnvOr("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() && !secret.empty()) who.credentials = api::Credentials{id, secret};
  if (!who.credentials)
    who.credentials = FromServerFile(options.data_dir.empty() ? engine::DefaultDataDir() : options.data_dir);
  if (!who.credentials) who.credentials = FromAwsFile();
  return who;
}

BedrockClient::BedrockClient(const ClientOptions& options) {
  ClientIdentity who = ResolveClientIdentity(options);
  endpoint_ = std::move(who.endpoint);
  region_ = std::move(who.region);
  credentials_ = std::move(who.credentials);
}

Result<json> BedrockClient::Call(const std::string& method, const std::string& path, const json* body) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return Status::Internal("libcurl failed to initialize");
  // "http://host:port/prefix" -> the Host header and the path prefix the request target starts with.
  const size_t scheme = endpoint_.find("://");
  if (scheme == std::string::npos)
    return Status::InvalidArgument("endpoint " + endpoint_ + ": expected a URL like http://127.0.0.1:8080");
  const size_t slash = std::min(endpoint_.find('/', scheme + 3), endpoint_.size());
  const std::string host = endpoint_.substr(scheme + 3, slash - scheme - 3);
  const std::string payload = body ? body->dump(-1, ' ', false, json::error_handler_t::replace) : "";

  // Signed here, not with CURLOPT_AWS_SIGV4: libcurl 7.88 (Debian 12) signs the request path as
  // sent, while AWS and lathe serve sign it encoded once more (a model ARN's %3A as %253A), and it
  // signs the query unsorted. api::SignSigV4 signs as botocore does, byte for byte.
  api::SignedRequest request{method, endpoint_.substr(slash) + path, {{"Host", host}}, payload};
  if (body) request.headers.emplace_back("Content-Type", "application/json");
  if (credentials_) api::SignSigV4(&request, region_, "bedrock", *credentials_, std::time(nullptr));

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Internal("libcurl: cannot create a handle");
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  headers = curl_slist_append(headers, "Accept: application/json");
  for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);

  std::string answer, error_type;
  char curl_error[CURL_ERROR_SIZE] = {};
  const std::string url = endpoint_ + path;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, KeepErrorType);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &error_type);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // An https:// server with its own CA (`lathe serve --tls-self-signed`), trusted as the AWS CLI
  // trusts it: AWS_CA_BUNDLE.
  if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca && *ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  // No overall timeout: a first invocation loads the model and generation may take minutes.
  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT)
    return Status::IOError("cannot reach lathe serve at " + endpoint_ + " (" +
                           (curl_error[0] ? curl_error : curl_easy_strerror(rc)) +
                           "). Is it running? Start it with `lathe serve`, or point --endpoint or "
                           "AWS_ENDPOINT_URL at it.");
  if (rc != CURLE_OK)
    return Status::IOError(method + " " + url + ": " + (curl_error[0] ? curl_error : curl_easy_strerror(rc)));
  long http = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
  if (http < 200 || http >= 300) return ErrorFromAnswer(http, error_type, answer);
  if (Trim(answer).empty()) return json::object();
  json j = json::parse(answer, nullptr, false);
  if (j.is_discarded())
    return Status::Corruption(method + " " + url + ": the answer is not JSON: " + answer.substr(0, 200));
  return j;
}

Result<json> BedrockClient::ListAll(const std::string& path, const char* key) {
  json all = json::array();
  std::string next;
  do {
    auto r = Get(path + (next.empty() ? "" : std::string(path.find('?') == std::string::npos ? "?" : "&") +
                                                 "nextToken=" + Encode(next)));
    if (!r.ok()) return r.status();
    for (const auto& s : r->value(key, json::array())) all.push_back(s);
    next = Field(*r, "nextToken");
  } while (!next.empty());
  return all;
}

int Reply(const Result<json>& r, bool as_json, const std::function<void(const json&)>& print) {
  if (!r.ok()) return ReportError(r.status());
  if (as_json) PrintJson(*r);
  else print(*r);
  return kExitOk;
}

std::string Encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  auto cell = [](const std::vector<std::string>& row, size_t i) {
    return i < row.size() && !row[i].empty() ? row[i] : std::string("-");
  };
  for (size_t i = 0; i < header.size(); ++i) {
    width[i] = header[i].size();
    for (const auto& r : rows) width[i] = std::max(width[i], cell(r, i).size());
  }
  auto print = [&](const std::vector<std::string>& row, bool is_header) {
    std::string line;
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string text = is_header ? header[i] : cell(row, i);
      line += text;
      if (i + 1 < header.size()) line += std::string(width[i] - text.size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  };
  print(header, true);
  for (const auto& r : rows) print(r, false);
}

std::string ShortTime(const std::string& iso) {
  if (iso.size() < 19 || iso[10] != 'T') return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

std::string Field(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  const json& v = obj[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace lathe::cli
