// The parts of lathe serve that need no model: config files, list queries (data locations:
// data_locations_test.cc).
#include <gtest/gtest.h>

#include <map>

#include "core/arn.h"
#include "service/resource_json.h"
#include "service/service_config.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::TempDir;

TEST(ServiceConfig, FileKeysOverrideDefaultsAndMistakesNameTheKey) {
  TempDir dir;
  ServiceConfig defaults;
  defaults.model_aliases = DefaultModelAliases();
  EXPECT_EQ(defaults.model_aliases.at("anthropic.claude-3-haiku-20240307-v1:0"), kDefaultModelId);
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"region": "eu-west-3", "account": "123456789012",
      "models": {"acme.tiny": "/m/tiny"}, "modelAliases": {"amazon.titan-text-lite-v1": "acme.tiny"},
      "onDemandSlots": 2, "modelMemoryBytes": 1073741824})"), defaults);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->scope.region, "eu-west-3");
  EXPECT_EQ(c->models.at("acme.tiny"), "/m/tiny");
  EXPECT_EQ(c->model_aliases.at("amazon.titan-text-lite-v1"), "acme.tiny");
  EXPECT_EQ(c->model_aliases.at("meta.llama2-13b-v1"), kDefaultModelId);  // defaults kept
  EXPECT_EQ(c->on_demand_slots, 2);
  EXPECT_EQ(c->model_memory_bytes, int64_t{1} << 30);
  EXPECT_GT(defaults.model_memory_bytes, 0);  // a quarter of this machine's memory

  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"regoin": "x"})", "unknown key \"regoin\""},
           {R"({"onDemandSlots": "2"})", "\"onDemandSlots\" must be an integer"},
           {R"({"models": {"a.b": 3}})", "\"models.a.b\" must be a string"},
           {R"({"account": "42"})", "\"account\" must be 12 digits"},
           {R"({"modelMemoryBytes": -1})", "\"modelMemoryBytes\" must be an integer number of bytes"},
           {R"({"modelMemoryBytes": "4GiB"})", "\"modelMemoryBytes\" must be an integer number of bytes"},
           {R"([1, 2])", "not a JSON object"}}) {
    const std::string path = dir.Write("bad.json", text);
    auto bad = LoadServiceConfig(path, defaults);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(path), std::string::npos) << bad.status().message();
    EXPECT_NE(bad.status().message().find(needle), std::string::npos) << bad.status().message();
  }
}

TEST(ServiceConfig, GatewayKeysStrictRolesRegionsAndApiKeys) {
  TempDir dir;
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"strictRoles": true, "allowedRegions": ["us-east-1", "ap-south-1"],
      "bedrockApiKeys": ["0123456789abcdef0123"]})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->strict_roles);
  EXPECT_EQ(c->allowed_regions, (std::vector<std::string>{"us-east-1", "ap-south-1"}));
  EXPECT_FALSE(ServiceConfig{}.strict_roles);
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"strictRoles": "yes"})", "\"strictRoles\" must be true or false"},
           {R"({"allowedRegions": "us-east-1"})", "\"allowedRegions\" must be a list"},
           {R"({"allowedRegions": ["US EAST"]})", "\"allowedRegions\" must be region names"},
           {R"({"allowedRegions": [")" + std::string(65, 'a') + R"("]})", "\"allowedRegions\" must be region names"}}) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), ServiceConfig{});
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(needle), std::string::npos) << bad.status().message();
  }
}

TEST(ServiceConfig, ContinuousBatchingIsOnUnlessTurnedOff) {
  TempDir dir;
  EXPECT_TRUE(ServiceConfig{}.continuous_batching);
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"continuousBatching": false})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->continuous_batching);
  for (const char* text : {R"({"continuousBatching": "no"})", R"({"continuousBatching": 0})"}) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), ServiceConfig{});
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find("\"continuousBatching\" must be true or false"), std::string::npos)
        << bad.status().message();
  }
}

TEST(ServiceConfig, StrictAwsCompatibilityIsOffUnlessSet) {
  TempDir dir;
  EXPECT_FALSE(ServiceConfig{}.strict_aws_compatibility);
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"strictAwsCompatibility": true})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->strict_aws_compatibility);
  auto bad = LoadServiceConfig(dir.Write("bad.json", R"({"strictAwsCompatibility": 1})"), ServiceConfig{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"strictAwsCompatibility\" must be true or false"), std::string::npos)
      << bad.status().message();
}

TEST(ServiceConfig, MetricsAreServedUnlessTurnedOff) {
  TempDir dir;
  EXPECT_TRUE(ServiceConfig{}.metrics);
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"metrics": false})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->metrics);
  auto bad = LoadServiceConfig(dir.Write("bad.json", R"({"metrics": "off"})"), ServiceConfig{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"metrics\" must be true or false"), std::string::npos)
      << bad.status().message();
}

store::ResourceRow Row(const std::string& name, int64_t created, const std::string& status,
                       const std::string& base = "b1") {
  store::ResourceRow r;
  r.kind = "job";
  r.id = r.name = r.arn = name;
  r.created_ms = created;
  r.status = status;
  r.doc = {{"baseModelArn", base}};
  return r;
}

TEST(ServiceConfig, SmtpRelayAndPublicUrlForSns) {
  TempDir dir;
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"smtpRelay": {"url": "smtp://127.0.0.1:2525", "from": "lathe@example.com"},
                                                    "publicUrl": "http://lathe.internal:8080/"})"),
                             ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->smtp_relay.url, "smtp://127.0.0.1:2525");
  EXPECT_EQ(c->smtp_relay.from, "lathe@example.com");
  EXPECT_EQ(c->public_url, "http://lathe.internal:8080");
  for (const char* text : {R"({"smtpRelay": "smtp://x"})", R"({"smtpRelay": {"url": "http://x", "from": "a@b"}})",
                           R"({"smtpRelay": {"url": "smtp://x"}})", R"({"smtpRelay": {"url": "smtp://x", "from": "a@b", "port": "25"}})",
                           R"({"smtpRelay": {"url": "smtp://x
RCPT", "from": "a@b"}})", R"({"publicUrl": "ftp://x"})",
                           R"({"publicUrl": "http://a b"})"}) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), ServiceConfig{});
    EXPECT_FALSE(bad.ok()) << text;
  }
}

TEST(ServiceConfig, WeightPrecisionIsCheckedModelByModel) {
  TempDir dir;
  auto c = LoadServiceConfig(dir.Write("c.json", R"({"weightPrecision": {"lathe.default-v1": "q8_0", "*": "bf16"}})"),
                             ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->weight_precision.at("lathe.default-v1"), "q8_0");
  EXPECT_EQ(c->weight_precision.at("*"), "bf16");
  const std::string long_key(3000, 'm');
  for (const std::string& text : {std::string(R"({"weightPrecision": "q8_0"})"), std::string(R"({"weightPrecision": {"m": 8}})"),
                                  std::string(R"({"weightPrecision": {"m": "Q8_0"}})"), std::string(R"({"weightPrecision": {"": "f32"}})"),
                                  R"({"weightPrecision": {")" + long_key + R"(": "f32"}})"}) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), ServiceConfig{});
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find("weightPrecision"), std::string::npos) << bad.status().message();
    EXPECT_LT(bad.status().message().size(), 600u);
  }
}

TEST(ServiceConfig, JobsOnWorkersAreChosenAndBounded) {
  TempDir dir;
  auto defaults = LoadServiceConfig(dir.Write("d.json", "{}"), ServiceConfig{});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->job_placement, ServiceConfig::JobPlacement::kHere);
  EXPECT_EQ(defaults->artifact_bucket, "lathe-artifacts");
  EXPECT_EQ(defaults->lease_seconds, 30);
  auto c = LoadServiceConfig(
      dir.Write("c.json", R"({"runJobsOn": "workers", "artifactBucket": "team.ckpt-1", "leaseSeconds": 5})"), ServiceConfig{});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->job_placement, ServiceConfig::JobPlacement::kWorkers);
  EXPECT_EQ(c->artifact_bucket, "team.ckpt-1");
  EXPECT_EQ(c->lease_seconds, 5);
  const std::map<std::string, std::string> refused = {
      {R"({"runJobsOn": "worker"})", "runJobsOn"},       {R"({"runJobsOn": true})", "runJobsOn"},
      {R"({"artifactBucket": "Upper"})", "artifactBucket"}, {R"({"artifactBucket": "a/b"})", "artifactBucket"},
      {R"({"artifactBucket": "../x"})", "artifactBucket"},  {R"({"artifactBucket": ""})", "artifactBucket"},
      {R"({"artifactBucket": ")" + std::string(64, 'a') + R"("})", "artifactBucket"},
      {R"({"leaseSeconds": 4})", "leaseSeconds"},           {R"({"leaseSeconds": 3601})", "leaseSeconds"},
      {R"({"leaseSeconds": "30"})", "leaseSeconds"},        {R"({"leaseSeconds": 2.5})", "leaseSeconds"}};
  for (const auto& [text, key] : refused) {
    auto bad = LoadServiceConfig(dir.Write("bad.json", text), ServiceConfig{});
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(key), std::string::npos) << bad.status().message();
  }
}

TEST(ListPage, FiltersSortsAndPagesLikeBedrockInTheStore) {
  TempDir dir;
  auto db = store::MetadataStore::Open(dir.path() + "/lathe.db");
  ASSERT_TRUE(db.ok());
  for (const auto& r : {Row("alpha", 1000, "Completed"), Row("beta", 2000, "Failed"),
                        Row("alphabet", 3000, "Completed", "b2"), Row("gamma", 4000, "Completed")})
    ASSERT_TRUE((*db)->Insert(r).ok());
  auto names = [](const std::vector<store::ResourceRow>& rows) {
    std::vector<std::string> n;
    for (const auto& r : rows) n.push_back(r.name);
    return n;
  };
  auto q = ParseListQuery({{"statusEquals", "Completed"}, {"maxResults", "2"}}, rules::kJobName);
  ASSERT_TRUE(q.ok());
  std::string next;
  auto page = ListPage(db->get(), "job", *q, {}, &next);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(names(*page), (std::vector<std::string>{"gamma", "alphabet"}));  // newest first by default
  ASSERT_FALSE(next.empty());
  q = ParseListQuery({{"statusEquals", "Completed"}, {"maxResults", "2"}, {"nextToken", next}}, rules::kJobName);
  page = ListPage(db->get(), "job", *q, {}, &next);
  EXPECT_EQ(names(*page), std::vector<std::string>{"alpha"});
  EXPECT_TRUE(next.empty());

  q = ParseListQuery({{"nameContains", "alpha"}, {"sortOrder", "Ascending"}, {"creationTimeAfter", Iso8601(500)}}, rules::kJobName);
  page = ListPage(db->get(), "job", *q, {}, &next);
  EXPECT_EQ(names(*page), (std::vector<std::string>{"alpha", "alphabet"}));
  page = ListPage(db->get(), "job", *q, {{"baseModelArn", "b2"}}, &next);
  EXPECT_EQ(names(*page), std::vector<std::string>{"alphabet"});
  q = ParseListQuery({{"creationTimeBefore", Iso8601(3000)}, {"sortOrder", "Ascending"}}, rules::kJobName);
  page = ListPage(db->get(), "job", *q, {}, &next);
  EXPECT_EQ(names(*page), (std::vector<std::string>{"alpha", "beta"}));

  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"maxResults", "0"}, {"maxResults", "1001"}, {"sortOrder", "Up"}, {"creationTimeBefore", "soon"}}) {
    auto bad = ParseListQuery({{k, v}}, rules::kJobName);
    ASSERT_FALSE(bad.ok()) << k << "=" << v;
    EXPECT_NE(bad.status().message().find(k), std::string::npos) << bad.status().message();
  }
  // A token is checked against the list it is given to: a forged one, or another kind's.
  q = ParseListQuery({{"nextToken", "abc"}}, rules::kJobName);
  ASSERT_TRUE(q.ok());
  auto forged = ListPage(db->get(), "job", *q, {}, &next);
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.status().message().find("nextToken"), std::string::npos) << forged.status().message();
  q = ParseListQuery({{"maxResults", "1"}}, rules::kJobName);
  ASSERT_TRUE(ListPage(db->get(), "job", *q, {}, &next).ok());
  ASSERT_FALSE(next.empty());
  const std::string token = next;
  q = ParseListQuery({{"nextToken", token}}, rules::kJobName);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(ListPage(db->get(), "job", *q, {}, &next).ok());
  EXPECT_FALSE(ListPage(db->get(), "custom-model", *q, {}, &next).ok());
}

TEST(Tags, TwoHundredAreAllowedMoreAreTooManyTags) {
  EXPECT_TRUE(CheckTagCount(kMaxTags, "jobTags").ok());
  Status s = CheckTagCount(kMaxTags + 1, "jobTags");
  EXPECT_EQ(s.code(), Status::Code::kQuotaExceeded);
  EXPECT_EQ(s.aws_code(), "TooManyTagsException");  // the API answers it as it is
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_NE(s.message().find("jobTags holds 201 tags"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lathe::service
