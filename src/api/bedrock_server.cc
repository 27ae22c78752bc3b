#include "api/bedrock_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/arn.h"

namespace lathe::api {
using nlohmann::json;
namespace {

std::string NewRequestId() {
  std::string id = NewResourceId(32);  // shaped like AWS's: 8-4-4-4-12
  return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" +
         id.substr(20, 12);
}

void SendError(httplib::Response& res, int http, const std::string& type, const std::string& message) {
  res.status = http;
  res.set_header("x-amzn-ErrorType", type);
  res.set_content(json{{"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendJson(httplib::Response& res, int http, const json& body) {
  res.status = http;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::map<std::string, std::string> Query(const httplib::Request& req) {
  std::map<std::string, std::string> q;
  for (const auto& [k, v] : req.params) q[k] = v;
  return q;
}

Result<json> Body(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("The request body is not a JSON object");
  return j;
}

Result<std::map<std::string, std::string>> TagMap(const json& list) {
  if (!list.is_array()) return Status::InvalidArgument("tags: expected a list of {key, value}");
  std::map<std::string, std::string> tags;
  for (const auto& t : list) {
    if (!t.is_object() || !t.contains("key") || !t["key"].is_string() || !t.contains("value") || !t["value"].is_string())
      return Status::InvalidArgument("tags: each tag needs a string key and value");
    tags[t["key"]] = t["value"];
  }
  return tags;
}

constexpr size_t kMaxRequestBytes = 16u << 20;

}  // namespace

std::pair<int, const char*> ErrorFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported: return {400, "ValidationException"};
    case Status::Code::kNotFound: return {404, "ResourceNotFoundException"};
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return {400, "ConflictException"};
    case Status::Code::kThrottled: return {429, "ThrottlingException"};
    case Status::Code::kQuotaExceeded:  // the tag limit has an exception of its own in Bedrock's model
      return {400, s.message().rfind(service::kTooManyTags, 0) == 0 ? "TooManyTagsException" : "ServiceQuotaExceededException"};
    default: return {500, "InternalServerException"};
  }
}

BedrockServer::BedrockServer(service::BedrockService* service, ServerOptions options)
    : service_(service), options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  const size_t threads = static_cast<size_t>(std::max(options_.threads, 2));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Bodies are read before the handler verifies the signature: bound them, so unauthenticated
  // requests cannot exhaust memory. Bedrock's own requests are far smaller.
  http_->set_payload_max_length(kMaxRequestBytes);
  Routes();
}

BedrockServer::~BedrockServer() = default;

Status BedrockServer::Bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) return Status::IOError("cannot listen on " + options_.host + " (any port)");
  } else {
    if (!http_->bind_to_port(options_.host, options_.port))
      return Status::IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             " (in use? another lathe serve?)");
    port_ = options_.port;
  }
  return Status::Ok();
}

void BedrockServer::Run() { http_->listen_after_bind(); }
void BedrockServer::Stop() { http_->stop(); }

void BedrockServer::Routes() {
  using Handler = std::function<Result<std::pair<int, json>>(const httplib::Request&)>;
  // Every route: request id, SigV4, the handler, and Bedrock's error shape for what went wrong.
  auto route = [this](Handler h) {
    return [this, h](const httplib::Request& req, httplib::Response& res) {
      const auto start = std::chrono::steady_clock::now();
      res.set_header("x-amzn-RequestId", NewRequestId());
      if (!options_.no_auth) {
        SignedRequest sr{req.method, req.target, {req.headers.begin(), req.headers.end()}, req.body};
        auto lookup = [this](const std::string& key) -> std::optional<std::string> {
          for (const auto& c : options_.credentials)
            if (c.access_key_id == key) return c.secret_access_key;
          return std::nullopt;
        };
        VerifyOptions verify;
        verify.max_skew_seconds = options_.max_skew_seconds;
        verify.expected_service = "bedrock";  // boto3 signs Bedrock and Bedrock Runtime as "bedrock"
        auto verified = VerifySigV4(sr, lookup, std::time(nullptr), verify);
        if (auto* f = std::get_if<AuthFailure>(&verified)) {
          SendError(res, f->http_status, f->error_type, f->message);
          spdlog::info("{} {} -> {} {}", req.method, req.path, f->http_status, f->error_type);
          return;
        }
      }
      Result<std::pair<int, json>> r = Status::Internal("no answer");
      try {
        r = h(req);
      } catch (const std::exception& e) {
        r = Status::Internal(std::string("unexpected error: ") + e.what());
      }
      if (r.ok()) {
        SendJson(res, r->first, r->second);
      } else {
        auto [http, type] = ErrorFor(r.status());
        SendError(res, http, type, r.status().message());
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      spdlog::info("{} {} -> {} ({:.1f} ms)", req.method, req.path, res.status, ms);
    };
  };
  auto ok = [](int http, json body) -> Result<std::pair<int, json>> { return std::make_pair(http, std::move(body)); };
  auto from = [ok](Result<json> r, int http = 200) -> Result<std::pair<int, json>> {
    if (!r.ok()) return r.status();
    return ok(http, std::move(*r));
  };
  auto done = [ok](Status s) -> Result<std::pair<int, json>> {
    if (!s.ok()) return s;
    return ok(200, json::object());
  };
  service::BedrockService* svc = service_;

  // Control plane (paths as in botocore's bedrock/2023-04-20 service model).
  http_->Post("/model-customization-jobs", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    return from(svc->jobs().Create(*body), 201);
  }));
  http_->Get("/model-customization-jobs", route([=](const httplib::Request& req) { return from(svc->jobs().List(Query(req))); }));
  http_->Post(R"(/model-customization-jobs/(.+)/stop)", route([=](const httplib::Request& req) {
    return done(svc->jobs().Stop(req.matches[1]));
  }));
  http_->Get(R"(/model-customization-jobs/(.+))", route([=](const httplib::Request& req) { return from(svc->jobs().Get(req.matches[1])); }));

  http_->Get("/foundation-models", route([=](const httplib::Request& req) { return from(svc->ListFoundationModels(Query(req))); }));
  http_->Get(R"(/foundation-models/(.+))", route([=](const httplib::Request& req) { return from(svc->GetFoundationModel(req.matches[1])); }));

  http_->Get("/custom-models", route([=](const httplib::Request& req) { return from(svc->custom_models().List(Query(req))); }));
  http_->Get(R"(/custom-models/(.+))", route([=](const httplib::Request& req) { return from(svc->custom_models().Get(req.matches[1])); }));
  http_->Delete(R"(/custom-models/(.+))", route([=](const httplib::Request& req) {
    return done(svc->custom_models().Delete(req.matches[1], [svc](const std::string& arn) {
      return svc->throughput().Serves(arn) || svc->jobs().UsesBaseModel(arn);
    }));
  }));

  http_->Post("/provisioned-model-throughput", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    return from(svc->throughput().Create(*body), 201);
  }));
  http_->Get("/provisioned-model-throughputs", route([=](const httplib::Request& req) { return from(svc->throughput().List(Query(req))); }));
  http_->Get(R"(/provisioned-model-throughput/(.+))", route([=](const httplib::Request& req) { return from(svc->throughput().Get(req.matches[1])); }));
  http_->Patch(R"(/provisioned-model-throughput/(.+))", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    return done(svc->throughput().Update(req.matches[1], *body));
  }));
  http_->Delete(R"(/provisioned-model-throughput/(.+))", route([=](const httplib::Request& req) {
    return done(svc->throughput().Delete(req.matches[1]));
  }));

  http_->Post("/tagResource", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    auto tags = TagMap(body->value("tags", json::array()));
    if (!tags.ok()) return tags.status();
    return done(svc->TagResource(body->value("resourceARN", ""), *tags));
  }));
  http_->Post("/untagResource", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    std::vector<std::string> keys;
    for (const auto& k : body->value("tagKeys", json::array()))
      if (k.is_string()) keys.push_back(k);
    return done(svc->UntagResource(body->value("resourceARN", ""), keys));
  }));
  http_->Post("/listTagsForResource", route([=](const httplib::Request& req) -> Result<std::pair<int, json>> {
    auto body = Body(req);
    if (!body.ok()) return body.status();
    auto tags = svc->ListTags(body->value("resourceARN", ""));
    if (!tags.ok()) return tags.status();
    json list = json::array();
    for (const auto& [k, v] : *tags) list.push_back({{"key", k}, {"value", v}});
    return ok(200, json{{"tags", list}});
  }));

  // Runtime (bedrock-runtime/2023-09-30). The model id arrives percent-encoded; httplib decodes it.
  http_->Post(R"(/model/(.+)/invoke)", route([=](const httplib::Request& req) {
    return from(svc->runtime().Invoke(req.matches[1], req.body));
  }));
  http_->Post(R"(/model/(.+)/converse)", route([=](const httplib::Request& req) {
    return from(svc->runtime().Converse(req.matches[1], req.body));
  }));

  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      res.set_header("x-amzn-ErrorType", "UnknownOperationException");
      res.set_content(json{{"message", "No Bedrock operation at " + req.method + " " + req.path}}.dump(
                          -1, ' ', false, json::error_handler_t::replace),
                      "application/json");
    }
  });
}

}  // namespace lathe::api
