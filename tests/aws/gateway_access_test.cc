// The gateway's authorization seam (aws/access.h), in process: the service's declared action and
// resources reach the AccessControl after the signature checks out, a refusal is AccessDenied in
// the protocol's own error shape (403) without the service running, and every answered request
// is recorded with its outcome — also with --no-auth, which never asks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "aws/gateway.h"
#include "aws/query_protocol.h"
#include "aws/rest_json.h"
#include "core/metrics.h"

namespace lathe::aws {
namespace {
using nlohmann::json;

constexpr std::time_t kNow = 1764600000;
const api::Credentials kKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

class Body : public http::BodyReader {
 public:
  explicit Body(std::string b) : b_(std::move(b)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, b_.size() - pos_);
    std::copy_n(b_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  int64_t declared_length() const override { return static_cast<int64_t>(b_.size()); }

 private:
  std::string b_;
  size_t pos_ = 0;
};

class Things : public RestJsonService {
 public:
  Things() {
    SetAccessRules([](const OperationView& op) {
      return Require("things:" + std::string(op.operation), {"arn:aws:things:::thing/" + op.Label("id")});
    });
    Add("GET", "/things/{id}", "GetThing", [this](const RestInput& in) -> Result<RestOutput> {
      ++served;
      return RestOutput{200, json{{"id", in.labels.at("id")}}, {}};
    });
  }
  std::string_view signing_name() const override { return "things"; }
  int served = 0;
};

class Iam : public QueryService {
 public:
  Iam() : QueryService("iam", "2010-05-08", std::string(QueryXmlNamespace("iam"))) {
    Register("ListRoles", [this](const RequestContext&, const QueryParams&, pugi::xml_node) {
      ++served;
      return Status::Ok();
    });
  }
  int served = 0;
};

struct Recorded {
  std::string operation, action, resource, outcome;
  int status = 0;
};

// Refuses every action named in `deny`; records what it is told.
class FakeControl : public AccessControl {
 public:
  std::optional<std::string> Authorize(const RequestContext& ctx, const http::Request&,
                                       const AccessRequest& access) override {
    ++asked;
    for (const AccessCheck& c : access.checks)
      if (c.action == deny) return "User: " + ctx.caller.arn + " is not authorized to perform: " + c.action;
    return std::nullopt;
  }
  void Record(const RequestContext&, const http::Request&, const AccessRequest& access, int status,
              std::string_view outcome) override {
    records.push_back({access.operation, access.action, access.resources.empty() ? "" : access.resources[0],
                       std::string(outcome), status});
  }
  std::string deny;
  int asked = 0;
  std::vector<Recorded> records;
};

class GatewayAccessTest : public ::testing::Test {
 protected:
  void Make(bool no_auth) {
    GatewayOptions options;
    options.no_auth = no_auth;
    gateway_ = std::make_unique<Gateway>(options, [](const std::string& id) -> std::optional<AccessKey> {
      if (id != kKey.access_key_id) return std::nullopt;
      return AccessKey{kKey.secret_access_key, Caller{id, "123456789012", "arn:aws:iam::123456789012:user/ci", "AIDA"}};
    });
    gateway_->Add(things_);
    gateway_->Add(iam_);
    gateway_->set_clock([] { return kNow; });
    gateway_->set_access_control(&control_);
  }
  http::Response Send(std::string method, std::string target, std::string body, std::string service,
                      std::vector<http::Header> extra = {}) {
    api::SignedRequest sr{method, target, {{"Host", "127.0.0.1:8080"}}, body};
    for (const auto& h : extra) sr.headers.emplace_back(h.name, h.value);
    api::SignSigV4(&sr, "us-east-1", service, kKey, kNow);
    http::Request req;
    req.method = method;
    req.target = target;
    for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
    Body reader(body);
    req.body = &reader;
    http::Response res;
    gateway_->Handle(req, res);
    return res;
  }

  std::shared_ptr<Things> things_ = std::make_shared<Things>();
  std::shared_ptr<Iam> iam_ = std::make_shared<Iam>();
  FakeControl control_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayAccessTest, AllowedRequestsAreServedAndRecordedWithTheirDeclaredAction) {
  Make(false);
  http::Response res = Send("GET", "/things/t1", "", "things");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(things_->served, 1);
  ASSERT_EQ(control_.records.size(), 1u);
  EXPECT_EQ(control_.records[0].operation, "GetThing");
  EXPECT_EQ(control_.records[0].action, "things:GetThing");
  EXPECT_EQ(control_.records[0].resource, "arn:aws:things:::thing/t1");
  EXPECT_EQ(control_.records[0].outcome, "");
  EXPECT_EQ(control_.records[0].status, 200);
}

TEST_F(GatewayAccessTest, RefusalsAreAccessDeniedInEachProtocolsShapeAndNothingRuns) {
  Make(false);
  control_.deny = "things:GetThing";
  http::Response res = Send("GET", "/things/t1", "", "things");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(*res.header("x-amzn-ErrorType"), "AccessDeniedException");
  EXPECT_EQ(json::parse(res.body)["message"],
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: things:GetThing");
  EXPECT_EQ(things_->served, 0);
  ASSERT_EQ(control_.records.size(), 1u);
  EXPECT_EQ(control_.records[0].outcome, "AccessDeniedException");
  EXPECT_EQ(control_.records[0].status, 403);

  control_.deny = "iam:ListRoles";  // a query service without rules: <service>:<Action> on *
  res = Send("POST", "/", "Action=ListRoles&Version=2010-05-08", "iam",
             {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
  EXPECT_EQ(res.status, 403);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(res.body.c_str())) << res.body;
  EXPECT_STREQ(doc.child("ErrorResponse").child("Error").child_value("Code"), "AccessDenied") << res.body;
  EXPECT_EQ(iam_->served, 0);
  EXPECT_EQ(control_.records.back().resource, "*");
}

TEST_F(GatewayAccessTest, UnroutableRequestsNeedNothingAndAreRefusedByTheService) {
  Make(false);
  control_.deny = "things:GetThing";
  http::Response res = Send("GET", "/nothing/here", "", "things");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(control_.records.back().action, "");
}

TEST_F(GatewayAccessTest, NoAuthNeverAsksButStillRecords) {
  Make(true);
  control_.deny = "things:GetThing";
  http::Request req;
  req.method = "GET";
  req.target = "/things/t2";
  req.headers.push_back({"Host", "127.0.0.1:8080"});
  Body reader("");
  req.body = &reader;
  http::Response res;
  gateway_->Handle(req, res);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(control_.asked, 0);
  ASSERT_EQ(control_.records.size(), 1u);
  EXPECT_EQ(control_.records[0].action, "things:GetThing");
}

// The value of one series in the process's /metrics text; 0 when it is not there yet.
double Scraped(const std::string& series) {
  const std::string text = "\n" + metrics::DefaultRegistry().Exposition();
  const size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 2));
}

TEST_F(GatewayAccessTest, AnsweredRequestsAreCountedByServiceOperationAndStatusClass) {
  Make(false);
  const std::string ok = R"(lathe_http_requests_total{service="things",operation="GetThing",code_class="2xx"})";
  const std::string denied = R"(lathe_http_requests_total{service="things",operation="GetThing",code_class="4xx"})";
  const std::string denied_code = R"(lathe_http_request_errors_total{service="things",error="AccessDeniedException"})";
  const std::string timed = R"(lathe_http_request_duration_seconds_count{service="things",operation="GetThing"})";
  const std::string unknown = R"(lathe_http_requests_total{service="unknown",operation="unknown",code_class="4xx"})";
  const double ok0 = Scraped(ok), denied0 = Scraped(denied), code0 = Scraped(denied_code), timed0 = Scraped(timed),
               unknown0 = Scraped(unknown);
  ASSERT_EQ(Send("GET", "/things/t1", "", "things").status, 200);
  ASSERT_EQ(Send("GET", "/things/t2", "", "things").status, 200);
  control_.deny = "things:GetThing";
  ASSERT_EQ(Send("GET", "/things/t3", "", "things").status, 403);
  // A scope naming a service lathe lacks is counted as "unknown", not under the name it sent.
  ASSERT_EQ(Send("GET", "/x", "", "made-up-service-12345").status, 404);
  EXPECT_EQ(Scraped(ok) - ok0, 2);
  EXPECT_EQ(Scraped(denied) - denied0, 1);
  EXPECT_EQ(Scraped(denied_code) - code0, 1);
  EXPECT_EQ(Scraped(timed) - timed0, 3);
  EXPECT_EQ(Scraped(unknown) - unknown0, 1);
  EXPECT_EQ(metrics::DefaultRegistry().Exposition().find("made-up-service-12345"), std::string::npos);
}

}  // namespace
}  // namespace lathe::aws
