// GET /metrics on a standalone endpoint (what `lathe worker --metrics-listen` starts), over real
// loopback sockets, and the rule that tells a scrape from an S3 request to a bucket "metrics".
#include "http/metrics_endpoint.h"

#include <gtest/gtest.h>

#include "http_test_client.h"

namespace lathe::http {
namespace {

using testing::TestClient;

Request Make(const std::string& method, const std::string& target, std::vector<Header> headers = {}) {
  Request r;
  r.method = method;
  r.target = target;
  r.headers = std::move(headers);
  return r;
}

TEST(MetricsEndpoint, ServesTheRegistryAndNothingElse) {
  metrics::Registry registry;
  registry.Counters("test_scrapes_total", "h", {"k"}).With({"v"}).Add(4);
  auto endpoint = StartMetricsEndpoint("127.0.0.1", 0, &registry);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  const int port = (*endpoint)->port();
  ASSERT_GT(port, 0);

  TestClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  ASSERT_NE(r->header("Content-Type"), nullptr);
  EXPECT_EQ(*r->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("\ntest_scrapes_total{k=\"v\"} 4\n"), std::string::npos) << r->body;

  // The same connection, kept alive: another path, another method.
  ASSERT_TRUE(client.Send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = client.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(client.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  r = client.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  ASSERT_NE(r->header("Allow"), nullptr);

  // Recording goes on between scrapes.
  registry.Counters("test_scrapes_total", "h", {"k"}).With({"v"}).Add();
  TestClient again(port);
  ASSERT_TRUE(again.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = again.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->body.find("\ntest_scrapes_total{k=\"v\"} 5\n"), std::string::npos) << r->body;

  client.Close();
  again.Close();
  (*endpoint).reset();  // stopped and gone: the port is closed
  TestClient after(port);
  EXPECT_FALSE(after.connected());
}

TEST(MetricsEndpoint, ATakenPortIsAnErrorNamingIt) {
  metrics::Registry registry;
  auto first = StartMetricsEndpoint("127.0.0.1", 0, &registry);
  ASSERT_TRUE(first.ok());
  auto second = StartMetricsEndpoint("127.0.0.1", (*first)->port(), &registry);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(std::to_string((*first)->port())), std::string::npos)
      << second.status().message();
  EXPECT_EQ(StartMetricsEndpoint("127.0.0.1", 70000, &registry).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(StartMetricsEndpoint("127.0.0.1", -1, &registry).status().code(), Status::Code::kInvalidArgument);
}

TEST(MetricsEndpoint, AScrapeIsToldApartFromS3RequestsToABucketNamedMetrics) {
  EXPECT_TRUE(IsMetricsScrape(Make("GET", "/metrics")));
  EXPECT_TRUE(IsMetricsScrape(Make("HEAD", "/metrics", {{"Accept", "text/plain;version=0.0.4"}})));
  // Signed: ListObjects / GetBucket* of the bucket "metrics".
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics", {{"Authorization", "AWS4-HMAC-SHA256 Credential=..."}})));
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics", {{"X-Amz-Date", "20260101T000000Z"}})));
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics", {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}})));
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics?list-type=2")));
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics?X-Amz-Credential=a")));  // presigned
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics/key")));
  EXPECT_FALSE(IsMetricsScrape(Make("GET", "/metrics/")));
  EXPECT_FALSE(IsMetricsScrape(Make("PUT", "/metrics")));  // CreateBucket
  EXPECT_FALSE(IsMetricsScrape(Make("DELETE", "/metrics")));
}

}  // namespace
}  // namespace lathe::http
