// The HTTP client behind `lathe jobs`, `lathe models list|delete`, `lathe throughput`, `lathe invoke`
// and `lathe chat`: Bedrock's REST API, spoken to a `lathe serve` (or anything Bedrock-shaped),
// signed with SigV4 the way botocore signs it.
//
// Where it connects: --endpoint, else $AWS_ENDPOINT_URL, else http://127.0.0.1:8080.
// Which keys it signs with, first found: $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY; the server's
// own DATA_DIR/credentials.json (--data-dir, else $LATHE_HOME or ~/.local/share/lathe), so that the
// user who started `lathe serve` needs no setup; the [$AWS_PROFILE or default] profile of
// ~/.aws/credentials (or $AWS_SHARED_CREDENTIALS_FILE). Without keys requests go unsigned, which
// only a `lathe serve --no-auth` accepts. Region: $AWS_REGION, $AWS_DEFAULT_REGION, or us-east-1.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aws/sigv4.h"
#include "core/status.h"

namespace lathe::cli {

// The options every client command takes.
struct ClientOptions {
  std::string endpoint;  // empty: $AWS_ENDPOINT_URL or the default
  std::string data_dir;  // empty: the default data directory
  bool json = false;     // print the server's JSON instead of a table
};

// Adds --endpoint, --data-dir and --json to a command.
void AddClientOptions(CLI::App* cmd, ClientOptions* options);

// Where a client connects and what it signs with, resolved as described at the top of this file;
// BedrockClient and S3Client (s3_client.h) share it.
struct ClientIdentity {
  std::string endpoint;  // "http://127.0.0.1:8080", no trailing '/'
  std::string region;
  std::optional<api::Credentials> credentials;  // none: requests go unsigned
};
ClientIdentity ResolveClientIdentity(const ClientOptions& options);

class BedrockClient {
 public:
  explicit BedrockClient(const ClientOptions& options);

  // One request; path is "/model-customization-jobs?statusEquals=Completed" with its segments and
  // values already encoded (see Encode). A 2xx answer's JSON body is returned (an empty body is
  // {}). An error answer becomes a Status whose message is "<x-amzn-ErrorType>: <message>";
  // a server that cannot be reached, one that says to start `lathe serve`.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const nlohmann::json* body = nullptr);
  Result<nlohmann::json> Get(const std::string& path) { return Call("GET", path); }
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body) { return Call("POST", path, &body); }

  // Every page of a List operation (following nextToken): the summaries under `key`, e.g.
  // ListAll("/custom-models?maxResults=100", "modelSummaries"). A list that stopped at the first
  // page would hide resources.
  Result<nlohmann::json> ListAll(const std::string& path, const char* key);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;  // "http://127.0.0.1:8080", no trailing '/'
  std::string region_;
  std::optional<api::Credentials> credentials_;
};

// What a client command ends with: the error (exit 1), or the answer as JSON (--json) or as
// `print` shows it (exit 0).
int Reply(const Result<nlohmann::json>& r, bool as_json, const std::function<void(const nlohmann::json&)>& print);

// Percent-encodes everything outside RFC 3986's unreserved set, as botocore encodes a path label
// or a query value: "arn:aws:bedrock:...:custom-model/x/y" -> "arn%3Aaws%3Abedrock%3A...%2Fy".
std::string Encode(std::string_view s);

// Prints rows under a header, each column as wide as its widest cell; "" cells print as "-".
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// "2024-05-01T10:11:12.345Z" -> "2024-05-01 10:11:12" (for tables).
std::string ShortTime(const std::string& iso);

// A JSON value as table text: strings as is, numbers and others dumped, missing as "".
std::string Field(const nlohmann::json& obj, const char* key);

}  // namespace lathe::cli
