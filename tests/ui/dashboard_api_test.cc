// The dashboard's JSON API over real backends (a data directory's store, the registry, Step
// Functions' executions), without sockets: job curves that grow as the poller samples progress,
// promote and rollback with the actor recorded, an execution's graph and progress, and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aws/rest_path.h"
#include "core/arn.h"
#include "service/bedrock_service.h"
#include "services/registry/registry.h"
#include "services/sns/delivery_worker.h"
#include "store/execution_store.h"
#include "test_util.h"
#include "ui/live_feed.h"
#include "ui_test_util.h"

namespace lathe::ui {
namespace {

using json = nlohmann::json;
using testing::Send;

constexpr const char* kKeyId = "LATHETESTKEY0002";
constexpr const char* kSecret = "another-secret-another-secret-000002";
constexpr const char* kAccount = "123456789012";

std::string Encode(const std::string& s) {
  std::string out;
  const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += std::string("%") + hex[c >> 4] + hex[c & 15];
  }
  return out;
}

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = dir_.path() + "/data";
    service::ServiceConfig config;
    config.data_dir = data_dir_;
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";
    config.scope.account = kAccount;
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    registry_ = std::make_unique<registry::Registry>(bedrock_->store(), "us-east-1", kAccount);
    auto executions = store::ExecutionStore::Open(bedrock_->store());
    ASSERT_TRUE(executions.ok());
    executions_ = std::move(*executions);
    Backends b;
    b.bedrock = bedrock_.get();
    b.store = bedrock_->store();
    b.registry = registry_.get();
    b.executions = executions_.get();
    b.account = kAccount;
    b.data_dir = data_dir_;
    dashboard_ = std::make_unique<Dashboard>(DashboardOptions{}, [](const std::string& id) -> std::optional<std::string> {
      if (id == kKeyId) return std::string(kSecret);
      return std::nullopt;
    }, b);
    http::Response login = Send(*dashboard_, "POST", "/ui/login",
                                std::string("accessKeyId=") + kKeyId + "&secretAccessKey=" + kSecret);
    cookie_ = {"Cookie", std::string(kSessionCookie) + "=" + testing::CookieId(login)};
    csrf_ = json::parse(Send(*dashboard_, "GET", "/ui/api/session", "", {cookie_}).body)["csrfToken"];
  }

  http::Response Get(const std::string& path) { return Send(*dashboard_, "GET", "/ui/api/" + path, "", {cookie_}); }
  json GetJson(const std::string& path) {
    http::Response r = Get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  http::Response Post(const std::string& path, const std::string& body, bool with_csrf = true) {
    std::vector<http::Header> h = {cookie_, {"Content-Type", "application/json"}};
    if (with_csrf) h.push_back({kCsrfHeader, csrf_});
    return Send(*dashboard_, "POST", "/ui/api/" + path, body, h);
  }

  void AddJob(const std::string& id, const std::string& status, const json& progress) {
    store::ResourceRow row;
    row.kind = service::kJobKind;
    row.id = id;
    row.name = "job-" + id;
    row.arn = "arn:aws:bedrock:us-east-1:" + std::string(kAccount) + ":model-customization-job/" + id;
    row.status = status;
    row.created_ms = NowMillis();
    row.doc = {{"jobArn", row.arn}, {"jobName", row.name}, {"hyperParameters", {{"epochCount", "2"}}},
               {"statusDetails", {{"trainingDetails", {{"status", status == "InProgress" ? "InProgress" : "Completed"}}}}}};
    if (!progress.is_null()) row.doc["_progress"] = progress;
    if (bedrock_->store()->Find(service::kJobKind, id).ok()) {
      ASSERT_TRUE(bedrock_->store()->Update(row).ok());
    } else {
      ASSERT_TRUE(bedrock_->store()->Insert(row).ok());
    }
  }

  lathe::testing::TempDir dir_;
  std::string data_dir_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<store::ExecutionStore> executions_;
  std::unique_ptr<Dashboard> dashboard_;
  http::Header cookie_;
  std::string csrf_;
};

TEST_F(DashboardApiTest, AJobsCurveIsItsStepCsvThenWhatThePollerSawSince) {
  AddJob("job1", "InProgress", {{"step", 3}, {"totalSteps", 10}, {"loss", 2.5}, {"etaSeconds", 7}});
  AddJob("job0", "Completed", nullptr);
  const std::string run = data_dir_ + "/jobs/job1/run/training_artifacts";
  std::filesystem::create_directories(run);
  std::ofstream(run + "/step_wise_training_metrics.csv")
      << "step_number,epoch_number,training_loss,perplexity\n1,1,3.5,33.1\n2,1,3.0,20.0\nbad,row\n";
  dashboard_->live().PollOnce();
  AddJob("job1", "InProgress", {{"step", 4}, {"totalSteps", 10}, {"loss", 2.0}, {"etaSeconds", 5}});
  dashboard_->live().PollOnce();
  json m = GetJson("jobs/job1/metrics");
  EXPECT_EQ(m["training"], json::parse("[[1,3.5],[2,3.0],[3,2.5],[4,2.0]]"));
  EXPECT_EQ(m["validation"], json::array());
  EXPECT_EQ(m["progress"]["step"], 4);
  EXPECT_EQ(GetJson("jobs/job1/metrics?afterStep=3")["training"], json::parse("[[4,2.0]]"));

  json overview = GetJson("overview");
  ASSERT_EQ(overview["runningJobs"].size(), 1u);
  EXPECT_EQ(overview["runningJobs"][0]["id"], "job1");
  EXPECT_EQ(overview["runningJobs"][0]["progress"]["etaSeconds"], 5);
  EXPECT_EQ(overview["jobCounts"]["InProgress"], 1);
  EXPECT_EQ(overview["jobCounts"]["Completed"], 1);
  EXPECT_TRUE(overview["disk"].contains("freeBytes"));
  EXPECT_TRUE(overview["costs"].contains("totals"));

  json jobs = GetJson("jobs?limit=1");
  EXPECT_EQ(jobs["total"], 2);
  EXPECT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(GetJson("jobs?status=Completed")["jobs"][0]["id"], "job0");
  json job = GetJson("jobs/job1");
  EXPECT_EQ(job["jobName"], "job-job1");
  EXPECT_EQ(job["hyperParameters"]["epochCount"], "2");

  // The live feed's state names the running job and its progress.
  json state = dashboard_->live().State();
  EXPECT_EQ(state["jobs"]["job1"]["progress"]["step"], 4);
  // A change the stores do not show (recounted costs) is a new version all the same.
  dashboard_->live().Changed();
  EXPECT_EQ(dashboard_->live().State()["version"], state["version"].get<uint64_t>() + 1);
  // The overview's costs are counted on its first call, and say when.
  json counted = GetJson("overview");
  EXPECT_TRUE(counted["costs"].contains("countedAt")) << counted["costs"];
}

TEST_F(DashboardApiTest, JobRoutesRefuseBadInput) {
  EXPECT_EQ(Get("jobs?status=Bogus").status, 400);
  EXPECT_EQ(Get("jobs?limit=0").status, 400);
  EXPECT_EQ(Get("jobs?limit=99999999999999999999").status, 400);
  EXPECT_EQ(Get("jobs?offset=-1").status, 400);
  EXPECT_EQ(Get("jobs/missing").status, 404);
  EXPECT_EQ(Get("jobs/" + Encode("a\x01" "b")).status, 400);
  EXPECT_EQ(Get("jobs/" + std::string(3000, 'j')).status, 400);
  EXPECT_EQ(Get("jobs/x/metrics?afterStep=abc").status, 400);
  EXPECT_EQ(Get("nothing/here").status, 404);
  EXPECT_EQ(Post("jobs/missing/stop", "").status, 404);
  EXPECT_EQ(Post("jobs/missing/stop", "", /*with_csrf=*/false).status, 403);
}

TEST_F(DashboardApiTest, AJobShowsTheRegistryVersionsItMadeWithTheirDataManifest) {
  AddJob("job7", "Completed", nullptr);
  auto row = bedrock_->store()->Find(service::kJobKind, "job7");
  ASSERT_TRUE(row.ok());
  row->doc["trainingDataConfig"] = {{"s3Uri", "s3://bank-data/train.jsonl"}};
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  json unregistered = GetJson("jobs/job7");
  EXPECT_EQ(unregistered["latheRegisteredVersions"], json::array());

  registry::NewVersion v;
  v.group = "bank";
  v.custom_model_arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x/7";
  v.base_model = "amazon.titan-text-express-v1";
  v.training_job_arn = row->arn;
  registry::DataObject d;
  d.uri = "s3://bank-data/train.jsonl";
  d.purpose = "training";
  d.sha256 = std::string(64, 'a');
  d.records = 400;
  d.format = "prompt-completion";
  d.etag = "0123abcd";
  v.data = {d};
  ASSERT_TRUE(registry_->Register(v).ok());
  v.training_job_arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/other";  // same data, another job
  ASSERT_TRUE(registry_->Register(v).ok());

  json made = GetJson("jobs/job7")["latheRegisteredVersions"];
  ASSERT_EQ(made.size(), 1u) << made;
  EXPECT_EQ(made[0]["group"], "bank");
  EXPECT_EQ(made[0]["version"], 1);
  EXPECT_EQ(made[0]["data"][0]["sha256"], std::string(64, 'a'));
  EXPECT_EQ(made[0]["data"][0]["records"], 400);
  EXPECT_EQ(made[0]["data"][0]["etag"], "0123abcd");
}

TEST_F(DashboardApiTest, PromoteAndRollBackRecordTheDashboardAsTheActor) {
  registry::NewVersion v;
  v.group = "bank";
  v.custom_model_arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x/1";
  v.base_model = "amazon.titan-text-express-v1";
  ASSERT_TRUE(registry_->Register(v).ok());
  ASSERT_TRUE(registry_->Register(v).ok());
  EXPECT_EQ(Post("registry/bank/aliases/production", R"({"action":"promote","version":1})").status, 200);
  http::Response promoted = Post("registry/bank/aliases/production", R"({"action":"promote","version":2,"reason":"better"})");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(json::parse(promoted.body)["toVersion"], 2);
  json group = GetJson("registry/bank");
  EXPECT_EQ(group["versions"].size(), 2u);
  EXPECT_EQ(group["aliases"]["production"]["version"], 2);
  ASSERT_EQ(group["aliases"]["production"]["history"].size(), 2u);
  EXPECT_EQ(group["aliases"]["production"]["history"][1]["actor"], std::string("dashboard:") + kKeyId);
  EXPECT_EQ(group["aliases"]["production"]["history"][1]["reason"], "better");
  http::Response back = Post("registry/bank/aliases/production", R"({"action":"rollback","reason":"worse answers"})");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(json::parse(back.body)["toVersion"], 1);
  EXPECT_EQ(json::parse(back.body)["rollback"], true);
  EXPECT_EQ(GetJson("registry")["groups"][0]["aliases"]["production"], 1);

  // Refused: no CSRF token, wrong types, unknown actions and versions, oversize and hostile input.
  EXPECT_EQ(Post("registry/bank/aliases/production", R"({"action":"rollback"})", false).status, 403);
  for (const char* body : {R"({"action":"promote","version":"2"})", R"({"action":"promote"})", R"({"action":"nuke"})",
                           R"({"action":"promote","version":0})", R"({"action":"promote","version":1.5})", "[]", "not json",
                           R"({"action":"rollback","reason":7})", R"({"a":[[[[[[[[[[1]]]]]]]]]]})"})
    EXPECT_EQ(Post("registry/bank/aliases/production", body).status, 400) << body;
  EXPECT_EQ(Post("registry/bank/aliases/production",
                 json{{"action", "rollback"}, {"reason", std::string(2000, 'r')}}.dump()).status, 400);
  EXPECT_EQ(Post("registry/bank/aliases/production", R"({"action":"promote","version":99})").status, 404);
  EXPECT_EQ(Post("registry/" + std::string(100, 'g') + "/aliases/production", R"({"action":"rollback"})").status, 400);
  EXPECT_EQ(Post("registry/nogroup/aliases/production", R"({"action":"rollback"})").status, 404);
  EXPECT_EQ(Get("registry/nogroup").status, 404);
}

TEST_F(DashboardApiTest, AnExecutionComesWithItsGraphAndEachStatesProgress) {
  const std::string machine = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline";
  const std::string arn = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run-1";
  store::ExecutionCommit c;
  c.execution_arn = arn;
  store::ExecutionRecord r;
  r.arn = arn;
  r.state_machine_arn = machine;
  r.name = "run-1";
  r.status = "RUNNING";
  r.start_ms = NowMillis();
  r.doc = {{"input", R"({"bucket":"b"})"},
           {"definition", R"({"StartAt":"Validate","States":{"Validate":{"Type":"Pass","Next":"Train"},
                              "Train":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}})"}};
  c.insert = r;
  auto event = [](int64_t id, const std::string& type, json details) {
    store::HistoryRecord h;
    h.id = id;
    h.previous_id = id - 1;
    h.type = type;
    h.timestamp_ms = NowMillis();
    h.details = std::move(details);
    return h;
  };
  c.history = {event(1, "ExecutionStarted", {{"input", R"({"bucket":"b"})"}}),
               event(2, "PassStateEntered", {{"name", "Validate"}, {"input", R"({"bucket":"b"})"}}),
               event(3, "PassStateExited", {{"name", "Validate"}, {"output", R"({"ok":true})"}}),
               event(4, "TaskStateEntered", {{"name", "Train"}, {"input", R"({"ok":true})"}})};
  ASSERT_TRUE(executions_->Commit(c).ok());
  json list = GetJson("executions");
  ASSERT_EQ(list["executions"].size(), 1u);
  EXPECT_EQ(list["executions"][0]["status"], "RUNNING");
  EXPECT_EQ(GetJson("pipelines/" + Encode(machine))["executions"].size(), 1u);
  json e = GetJson("executions/" + Encode(arn));
  EXPECT_EQ(e["input"]["bucket"], "b");
  EXPECT_EQ(e["graph"]["nodes"].size(), 2u);
  EXPECT_EQ(e["states"]["Validate"], "succeeded");
  EXPECT_EQ(e["states"]["Train"], "running");
  EXPECT_EQ(e["history"].size(), 4u);
  EXPECT_EQ(e["history"][2]["details"]["output"]["ok"], true);  // parsed for the page
  dashboard_->live().PollOnce();
  EXPECT_EQ(dashboard_->live().State()["executions"][arn], 4);
  EXPECT_EQ(Get("executions/" + Encode("arn:aws:states:us-east-1:1:execution:x:none")).status, 404);
  EXPECT_EQ(Get("executions?status=SLEEPING").status, 400);
  EXPECT_EQ(Get("executions?limit=501").status, 400);
}

TEST_F(DashboardApiTest, AnExecutionsHistoryCarriesTheStartOfLongPayloadsAndAStepHasItsWhole) {
  const std::string arn = "arn:aws:states:us-east-1:123456789012:execution:pipeline:big";
  store::ExecutionCommit c;
  c.execution_arn = arn;
  store::ExecutionRecord r;
  r.arn = arn;
  r.state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline";
  r.name = "big";
  r.status = "RUNNING";
  r.start_ms = NowMillis();
  r.doc = {{"definition", R"({"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}})"}};
  c.insert = r;
  const std::string big = json{{"text", std::string(200 * 1024, 'x') + "\u00e9"}}.dump();
  for (int64_t id = 1; id <= 300; ++id) {
    store::HistoryRecord h;
    h.id = id;
    h.previous_id = id - 1;
    h.type = id % 2 ? "PassStateEntered" : "PassStateExited";
    h.timestamp_ms = NowMillis();
    h.details = {{"name", "A"}, {id % 2 ? "input" : "output", id == 3 ? R"({"small":1})" : big}};
    c.history.push_back(std::move(h));
  }
  ASSERT_TRUE(executions_->Commit(c).ok());
  http::Response listed = Get("executions/" + Encode(arn));
  ASSERT_EQ(listed.status, 200);
  EXPECT_LT(listed.body.size(), 400u * 1024);  // 300 payloads of 200 KiB: bounded
  json e = json::parse(listed.body);
  ASSERT_EQ(e["history"].size(), 300u);
  const json& first = e["history"][0]["details"];
  EXPECT_EQ(first["input"].get<std::string>().size(), 2048u);
  EXPECT_EQ(first["truncated"]["input"], big.size());
  EXPECT_EQ(e["history"][2]["details"]["input"]["small"], 1);  // a short one whole, parsed
  EXPECT_FALSE(e["history"][2]["details"].contains("truncated"));
  EXPECT_EQ(e["history"][299]["details"]["output"], "");  // past the budget: nothing
  json full = GetJson("executions/" + Encode(arn) + "/events/1");
  EXPECT_EQ(full["details"]["input"]["text"].get<std::string>().size(), 200u * 1024 + 2);
  EXPECT_EQ(full["id"], 1);
  for (const char* bad : {"0", "-1", "x", "301", "99999999999999999999"})
    EXPECT_GE(Get("executions/" + Encode(arn) + "/events/" + bad).status, 400) << bad;
  EXPECT_EQ(Get("executions/" + Encode(arn) + "/events/301").status, 404);
  EXPECT_EQ(Get("executions/" + Encode(arn + "x") + "/events/1").status, 404);
}

TEST_F(DashboardApiTest, TheOutboxShowsItsNewestMessagesAndTheFeedWatchesABoundedNumberOfExecutions) {
  const std::string outbox = sns::OutboxDir(data_dir_);
  std::filesystem::create_directories(outbox);
  for (int i = 100; i < 400; ++i) {
    std::ofstream(outbox + "/2026120308" + std::to_string(i) + "-m.eml") << "Subject: message " << i << "\r\n\r\nbody";
    if (i % 50 == 0) std::ofstream(outbox + "/2026120309" + std::to_string(i) + "-m.tmp") << "not an email";
  }
  json page = GetJson("notifications");
  ASSERT_EQ(page["outbox"].size(), 20u);
  EXPECT_EQ(page["outbox"][0]["Subject"], "message 399");
  EXPECT_EQ(page["outbox"][19]["Subject"], "message 380");

  store::ExecutionCommit c;
  for (size_t i = 0; i < kMaxWatchedExecutions + 5; ++i) {
    store::ExecutionRecord r;
    r.arn = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run-" + std::to_string(i);
    r.state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline";
    r.name = "run-" + std::to_string(i);
    r.status = "RUNNING";
    r.start_ms = 1000 + static_cast<int64_t>(i);
    c = store::ExecutionCommit{};
    c.execution_arn = r.arn;
    c.insert = r;
    ASSERT_TRUE(executions_->Commit(c).ok());
  }
  EXPECT_EQ(executions_->Running(3)->size(), 3u);
  dashboard_->live().PollOnce();
  EXPECT_EQ(dashboard_->live().State()["executions"].size(), kMaxWatchedExecutions);
}

TEST_F(DashboardApiTest, ThePlaygroundRefusesBadBodiesBeforeAnyGeneration) {
  for (const char* body : {"{}", R"({"model":"m"})", R"({"model":"m","messages":[]})",
                           R"({"model":"m","messages":[{"role":"system","text":"x"}]})",
                           R"({"model":"m","messages":[{"role":"user","text":""}]})",
                           R"({"model":"m","messages":[{"role":"user","text":"hi"}],"maxTokens":0})",
                           R"({"model":"m","messages":[{"role":"user","text":"hi"}],"maxTokens":"9"})",
                           R"({"model":"m","messages":[{"role":"user","text":"hi"}],"temperature":5})",
                           R"({"model":7,"messages":[{"role":"user","text":"hi"}]})", "[1]"}) {
    http::Response r = Post("chat", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_FALSE(r.body_stream);
  }
  json many = {{"model", "m"}, {"messages", json::array()}};
  for (int i = 0; i < 65; ++i) many["messages"].push_back({{"role", "user"}, {"text", "x"}});
  EXPECT_EQ(Post("chat", many.dump()).status, 400);
  http::Response unknown = Post("chat", R"({"model":"no.such-model","messages":[{"role":"user","text":"hi"}]})");
  EXPECT_GE(unknown.status, 400);
  EXPECT_LT(unknown.status, 500);
  EXPECT_EQ(Post("chat", R"({"model":"m","messages":[{"role":"user","text":"hi"}]})", false).status, 403);
}

TEST_F(DashboardApiTest, WrongTypedFieldsAnswerJsonNotAnException) {
  // A record whose fields have unexpected types reads as blanks.
  AddJob("odd", "InProgress", json("not an object"));
  auto row = bedrock_->store()->Find(service::kJobKind, "odd");
  ASSERT_TRUE(row.ok());
  row->doc["baseModelArn"] = 5;
  row->doc["outputModelName"] = json::array({1});
  row->doc["trainingDataConfig"] = "s3://not/an/object";
  ASSERT_TRUE(bedrock_->store()->Update(*row).ok());
  json jobs = GetJson("jobs");
  ASSERT_EQ(jobs["jobs"].size(), 1u) << jobs.dump();
  EXPECT_EQ(jobs["jobs"][0]["baseModelArn"], "");
  EXPECT_EQ(jobs["jobs"][0]["customModelName"], "");
  for (const char* path : {"jobs/odd", "overview"}) {
    http::Response r = Get(path);
    EXPECT_LT(r.status, 500) << path << ": " << r.body;
    EXPECT_TRUE(json::parse(r.body, nullptr, false).is_object()) << path;
    EXPECT_NE(testing::HeaderOf(r, "Content-Security-Policy"), "") << path;
  }
  // Request bodies of the wrong types: 400 in the dashboard's JSON.
  registry::NewVersion v;
  v.group = "typed";
  v.custom_model_arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x/1";
  v.base_model = "amazon.titan-text-express-v1";
  ASSERT_TRUE(registry_->Register(v).ok());
  for (const char* body : {R"({"action":["promote"],"version":1})", R"({"action":"promote","version":"1"})",
                           R"({"action":"promote","version":1.5})", R"({"action":"promote","version":1,"reason":7})",
                           R"({"action":{"a":1}})", R"("promote")", "null"}) {
    http::Response r = Post("registry/typed/aliases/production", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_NE(json::parse(r.body, nullptr, false)["error"]["code"], nullptr) << body;
    EXPECT_NE(testing::HeaderOf(r, "Content-Security-Policy"), "") << body;
  }
  for (const char* body : {R"({"model":"m","messages":[{"role":"user","text":7}]})",
                           R"({"model":"m","messages":[{"role":["user"],"text":"hi"}]})",
                           R"({"model":"m","messages":["hi"]})", R"({"model":"m","messages":{"role":"user"}})",
                           R"({"model":"m","messages":[{"role":"user","text":"hi"}],"system":{"text":"x"}})"}) {
    EXPECT_EQ(Post("chat", body).status, 400) << body;
  }
}

TEST(DashboardWithoutBackendsTest, PagesWhoseServiceIsMissingAnswer503) {
  Dashboard d(DashboardOptions{}, [](const std::string&) { return std::optional<std::string>("s"); }, Backends{});
  http::Response login = Send(d, "POST", "/ui/login", "accessKeyId=K&secretAccessKey=s");
  http::Header cookie{"Cookie", std::string(kSessionCookie) + "=" + testing::CookieId(login)};
  for (const char* path : {"jobs", "registry", "executions", "datasets", "evaluations", "models"})
    EXPECT_EQ(Send(d, "GET", std::string("/ui/api/") + path, "", {cookie}).status, 503) << path;
  EXPECT_EQ(Send(d, "GET", "/ui/api/overview", "", {cookie}).status, 200);
  EXPECT_EQ(Send(d, "GET", "/ui/api/notifications", "", {cookie}).status, 200);
}

}  // namespace
}  // namespace lathe::ui
