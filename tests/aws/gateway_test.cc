#include "aws/gateway.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "aws/query_protocol.h"
#include "aws/rest_json.h"
#include "aws/wire.h"
#include "aws/xml.h"
#include "core/sha256.h"

namespace lathe::aws {
namespace {
using nlohmann::json;

constexpr std::time_t kNow = 1764600000;  // 2025-12-01
const api::Credentials kKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

// Records whether anything read the body: the gateway must not buffer for unknown signers.
class CountingBody : public http::BodyReader {
 public:
  explicit CountingBody(std::string body, int64_t declared = -2)
      : body_(std::move(body)), declared_(declared == -2 ? static_cast<int64_t>(body_.size()) : declared) {}
  Result<size_t> Read(char* buf, size_t n) override {
    ++reads;
    size_t k = std::min(n, body_.size() - pos_);
    std::copy_n(body_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  int64_t declared_length() const override { return declared_; }
  int reads = 0;

 private:
  std::string body_;
  int64_t declared_;
  size_t pos_ = 0;
};

class EchoRest : public RestJsonService {
 public:
  EchoRest() {
    Add("GET", "/things/{id}", "GetThing", [](const RestInput& in) -> Result<RestOutput> {
      return RestOutput{200, json{{"id", in.labels.at("id")}, {"region", in.context->region}}, {}};
    });
    Add("GET", "/things/{id}/parts/{rest+}", "GetPart", [](const RestInput& in) -> Result<RestOutput> {
      return RestOutput{200, json{{"rest", in.labels.at("rest")}}, {}};
    });
    Add("POST", "/things", "CreateThing", [](const RestInput& in) -> Result<RestOutput> {
      auto body = in.Json();
      if (!body.ok()) return body.status();
      if (!(*body)["name"].is_string()) return Status::InvalidArgument("name: expected a string");
      return RestOutput{201, json{{"name", (*body)["name"]}}, {}};
    });
    Add("DELETE", "/things/{id}", "DeleteThing",
        [](const RestInput& in) -> Result<RestOutput> { return Status::NotFound("no thing " + in.labels.at("id")); });
  }
  std::string_view signing_name() const override { return "things"; }
};

class EchoTarget : public JsonTargetService {
 public:
  EchoTarget() : JsonTargetService(Protocol::kAwsJson10, "AWSThings") {
    Add("Ping", [](const RequestContext& ctx, const json& in) -> Result<json> { return json{{"pong", in.value("n", 0)}}; });
  }
  std::string_view signing_name() const override { return "states"; }
};

// An S3-like service that streams its body: the gateway reads nothing, the service checks what
// it reads against the signature's payload hash.
class StreamingUpload : public Service {
 public:
  std::string_view signing_name() const override { return "s3"; }
  Protocol protocol() const override { return Protocol::kRestXml; }
  size_t BodyLimit(const http::Request&) const override { return 0; }
  void Serve(const RequestContext& ctx, const http::Request& request, std::string_view body,
             http::Response& response) override {
    buffered_by_gateway = body.size();
    Result<std::string> read = http::ReadBody(request.body, 1 << 20);
    if (!read.ok() || !ctx.signature || ctx.signature->payload_hash_checked ||
        ctx.signature->signed_payload_hash != Sha256Hex(*read)) {
      WriteError(protocol(), Status::Aws("XAmzContentSHA256Mismatch", 400, "the body is not what was signed"), ctx,
                 &response);
      return;
    }
    response.status = 200;
    response.body = "stored " + std::to_string(read->size());
  }
  size_t buffered_by_gateway = 99;
};

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest()
      : gateway_(GatewayOptions{}, [](const std::string& id) -> std::optional<AccessKey> {
          if (id != kKey.access_key_id) return std::nullopt;
          return AccessKey{kKey.secret_access_key, Caller{id, "123456789012", "arn:aws:iam::123456789012:root", "123456789012"}};
        }) {
    gateway_.Add(std::make_shared<EchoRest>());
    gateway_.Add(std::make_shared<EchoTarget>());
    gateway_.Add(upload_);
    gateway_.set_clock([] { return kNow; });
  }

  // A request signed for `service` in `region`, as botocore would send it.
  http::Response Send(std::string method, std::string target, std::string body, std::string service,
                      std::string region = "ap-south-1", std::vector<http::Header> extra = {}, bool sign = true) {
    api::SignedRequest sr{method, target, {{"Host", "127.0.0.1:8080"}}, body};
    for (const auto& h : extra) sr.headers.emplace_back(h.name, h.value);
    if (sign) api::SignSigV4(&sr, region, service, kKey, kNow);
    http::Request req;
    req.method = method;
    req.target = target;
    for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
    body_ = std::make_unique<CountingBody>(body);
    req.body = body_.get();
    http::Response res;
    gateway_.Handle(req, res);
    return res;
  }

  Gateway gateway_;
  std::shared_ptr<StreamingUpload> upload_ = std::make_shared<StreamingUpload>();
  std::unique_ptr<CountingBody> body_;
};

TEST_F(GatewayTest, AStreamingServiceReadsItsBodyAndChecksTheSignedHash) {
  const std::string data(200000, 'z');
  http::Response res = Send("PUT", "/bucket/key", data, "s3");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, "stored 200000");
  EXPECT_EQ(upload_->buffered_by_gateway, 0u);  // the gateway buffered nothing

  // A body that is not the signed one gets through the gateway (it never read it) and is caught
  // by the service as it reads.
  api::SignedRequest sr{"PUT", "/bucket/key", {{"Host", "127.0.0.1:8080"}}, data};
  api::SignSigV4(&sr, "us-east-1", "s3", kKey, kNow);
  http::Request req;
  req.method = "PUT";
  req.target = "/bucket/key";
  for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
  CountingBody other(std::string(200000, 'y'));
  req.body = &other;
  gateway_.Handle(req, res = {});
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("XAmzContentSHA256Mismatch"), std::string::npos) << res.body;
}

TEST_F(GatewayTest, RoutesByPathTemplateAndUsesTheSignedRegion) {
  http::Response res = Send("GET", "/things/a%3Ab%2Fc", "", "things");
  ASSERT_EQ(res.status, 200) << res.body;
  json j = json::parse(res.body);
  EXPECT_EQ(j["id"], "a:b/c");  // one label, percent-decoded
  EXPECT_EQ(j["region"], "ap-south-1");
  ASSERT_NE(res.header("x-amzn-RequestId"), nullptr);
  EXPECT_EQ(res.header("x-amzn-RequestId")->size(), 36u);

  res = Send("GET", "/things/x/parts/p/q%20r", "", "things");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["rest"], "p/q r");
}

TEST_F(GatewayTest, ErrorsAreInTheRestJsonShape) {
  http::Response res = Send("DELETE", "/things/zz", "", "things");
  EXPECT_EQ(res.status, 404);
  ASSERT_NE(res.header("x-amzn-ErrorType"), nullptr);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(json::parse(res.body)["message"], "no thing zz");

  res = Send("GET", "/nowhere", "", "things");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "UnknownOperationException");

  res = Send("PUT", "/things/zz", "", "things");
  EXPECT_EQ(res.status, 405);

  res = Send("POST", "/things", "{\"name\": 7}", "things");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "ValidationException");

  res = Send("POST", "/things", "[1,2]", "things");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "ValidationException");
}

TEST_F(GatewayTest, DeepJsonIsRefusedBeforeParsing) {
  std::string deep(200000, '[');
  deep = "{\"name\": " + deep + std::string(200000, ']') + "}";
  http::Response res = Send("POST", "/things", deep, "things");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "ValidationException");
  EXPECT_NE(json::parse(res.body)["message"].get<std::string>().find("deeper than"), std::string::npos);
  // Brackets inside strings do not count.
  res = Send("POST", "/things", "{\"name\": \"" + std::string(1000, '[') + "\"}", "things");
  EXPECT_EQ(res.status, 201) << res.body;
}

TEST_F(GatewayTest, AwsJsonDispatchesOnTheTarget) {
  http::Response res = Send("POST", "/", "{\"n\": 3}", "states", "us-east-1",
                            {{"X-Amz-Target", "AWSThings.Ping"}, {"Content-Type", "application/x-amz-json-1.0"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["pong"], 3);
  res = Send("POST", "/", "{}", "states", "us-east-1", {{"X-Amz-Target", "AWSThings.Nope"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "UnknownOperationException");
  res = Send("POST", "/", "{", "states", "us-east-1", {{"X-Amz-Target", "AWSThings.Ping"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["__type"], "SerializationException");
}

TEST_F(GatewayTest, UnsignedAndForgedRequestsAreRefused) {
  http::Response res = Send("GET", "/things/a", "", "things", "us-east-1", {}, /*sign=*/false);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "MissingAuthenticationTokenException");

  // An unsigned query-protocol request gets the query protocol's XML error.
  res = Send("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", "sts", "us-east-1",
             {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, false);
  EXPECT_EQ(res.status, 403);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(res.body.c_str())) << res.body;
  EXPECT_STREQ(doc.child("ErrorResponse").child("Error").child_value("Code"), "MissingAuthenticationToken");

  // A forged signature.
  api::SignedRequest sr{"GET", "/things/a", {{"Host", "h"}}, ""};
  api::SignSigV4(&sr, "us-east-1", "things", {kKey.access_key_id, "wrong-secret"}, kNow);
  http::Request req;
  req.method = "GET";
  req.target = "/things/a";
  for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
  CountingBody empty("");
  req.body = &empty;
  gateway_.Handle(req, res = {});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "InvalidSignatureException");
}

TEST_F(GatewayTest, UnknownKeysAndOversizedBodiesAreRefusedBeforeReading) {
  api::SignedRequest sr{"POST", "/things", {{"Host", "h"}}, "{}"};
  api::SignSigV4(&sr, "us-east-1", "things", {"AKIDUNKNOWN", "x"}, kNow);
  http::Request req;
  req.method = "POST";
  req.target = "/things";
  for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
  CountingBody big(std::string(1000, 'x'), 15 << 20);
  req.body = &big;
  http::Response res;
  gateway_.Handle(req, res);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "UnrecognizedClientException");
  EXPECT_EQ(big.reads, 0);

  // A known key, but a declared body over the service's bound: 413 before reading.
  api::SignedRequest sr2{"POST", "/things", {{"Host", "h"}}, "{}"};
  api::SignSigV4(&sr2, "us-east-1", "things", kKey, kNow);
  req.headers.clear();
  for (auto& [n, v] : sr2.headers) req.headers.push_back({n, v});
  CountingBody big2(std::string(1000, 'x'), 15 << 20);
  req.body = &big2;
  gateway_.Handle(req, res = {});
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(big2.reads, 0);
}

TEST_F(GatewayTest, UnsignedBodiesAreNeverRead) {
  // 32 unsigned 15 MiB bodies once took the server to 633 MB: now none of them is read at all.
  for (int i = 0; i < 32; ++i) {
    http::Request req;
    req.method = "POST";
    req.target = "/things";
    CountingBody big(std::string(1000, 'x'), 15 << 20);
    req.body = &big;
    http::Response res;
    gateway_.Handle(req, res);
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(big.reads, 0);
  }
}

TEST_F(GatewayTest, ScopeMustNameAKnownServiceAndAWellFormedRegion) {
  http::Response res = Send("GET", "/things/a", "", "nosuchservice");
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("does not implement the AWS service 'nosuchservice'"), std::string::npos) << res.body;
  res = Send("GET", "/things/a", "", "things", "../../etc");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "IncompleteSignatureException");
}

TEST_F(GatewayTest, AnUnknownJsonServiceIsAnsweredInTheJsonVersionItSpoke) {
  // botocore reads a json 1.0 service's errors from an application/x-amz-json-1.0 answer.
  for (const char* version : {"1.0", "1.1"}) {
    const std::string type = std::string("application/x-amz-json-") + version;
    http::Response res = Send("POST", "/", "{}", "events", "us-east-1",
                              {{"X-Amz-Target", "AWSEvents.ListRules"}, {"Content-Type", type}});
    EXPECT_EQ(res.status, 404) << version;
    ASSERT_NE(res.header("Content-Type"), nullptr);
    EXPECT_EQ(*res.header("Content-Type"), type);
    json j = json::parse(res.body);
    EXPECT_EQ(j["__type"], "UnknownOperationException");
    EXPECT_NE(j["message"].get<std::string>().find("'events'"), std::string::npos) << res.body;
  }
}

class EchoBedrock : public RestJsonService {
 public:
  EchoBedrock() {
    Add("GET", "/foundation-models", "ListFoundationModels",
        [](const RestInput& in) -> Result<RestOutput> { return RestOutput{200, json{{"modelSummaries", json::array()}}, {}}; });
  }
  std::string_view signing_name() const override { return "bedrock"; }
};

class EchoIam : public QueryService {
 public:
  EchoIam() : QueryService("iam", "2010-05-08", std::string(QueryXmlNamespace("iam"))) {
    Register("ListRoles", [](const RequestContext&, const QueryParams&, pugi::xml_node) { return Status::Ok(); });
  }
};

TEST(GatewayBearerTest, ABedrockApiKeyIsRefusedByOtherProtocolsInTheirWords) {
  const std::string token = "lathe-api-key-0123456789abcdef";
  GatewayOptions options;
  options.bearer_tokens.push_back({token, kKey.access_key_id});
  Gateway gateway(options, [](const std::string& id) -> std::optional<AccessKey> {
    if (id != kKey.access_key_id) return std::nullopt;
    return AccessKey{kKey.secret_access_key, Caller{id, "123456789012", "arn:aws:iam::123456789012:root", "123456789012"}};
  });
  gateway.Add(std::make_shared<EchoBedrock>());
  gateway.Add(std::make_shared<EchoIam>());
  auto send = [&](std::string method, std::string target, std::string body, std::vector<http::Header> headers) {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers = std::move(headers);
    req.headers.push_back({"Authorization", "Bearer " + token});
    CountingBody reader(body);
    req.body = &reader;
    http::Response res;
    gateway.Handle(req, res);
    return res;
  };
  http::Response res = send("GET", "/foundation-models", "", {});
  EXPECT_EQ(res.status, 200) << res.body;

  // IAM's form, with Bedrock's key: IAM's XML error, which its client can read.
  res = send("POST", "/", "Action=ListRoles&Version=2010-05-08",
             {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
  EXPECT_EQ(res.status, 400);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(res.body.c_str())) << res.body;
  EXPECT_STREQ(doc.child("ErrorResponse").child("Error").child_value("Code"), "IncompleteSignature") << res.body;

  // An unknown Bedrock path with a valid key stays Bedrock's to answer.
  res = send("GET", "/nowhere", "", {});
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "UnknownOperationException");
}

TEST_F(GatewayTest, TransportErrorsSpeakTheMeantProtocol) {
  http::Request partial;
  partial.method = "POST";
  partial.target = "/";
  partial.headers.push_back({"X-Amz-Target", "AWSThings.Ping"});
  http::Response res;
  gateway_.WriteTransportError(http::TransportError::kHeadersTooLarge, partial, res);
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(json::parse(res.body)["__type"], "ValidationException");

  http::Request nothing;
  gateway_.WriteTransportError(http::TransportError::kTimeout, nothing, res = {});
  EXPECT_EQ(res.status, 408);
  EXPECT_NE(res.header("x-amzn-ErrorType"), nullptr);
}

TEST(WireTest, XmlTextDropsControlsAndInvalidUtf8) {
  std::string s = XmlText(std::string("a\x01" "b\xff" "c\n", 6));
  EXPECT_EQ(s.find('\x01'), std::string::npos);
  pugi::xml_document doc;
  doc.append_child("M").text().set(s.c_str());
  EXPECT_NE(s.find("c\n"), std::string::npos);
}

}  // namespace
}  // namespace lathe::aws
