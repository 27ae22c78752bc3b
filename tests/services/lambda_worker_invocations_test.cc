// Functions on lathe workers (worker_invocations.h): an API node's LambdaBackend whose code runs on
// an InvocationWorker over the same store, with the code handed over through an in-memory object
// store; real child processes (python3), no sockets.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/checksum.h"
#include "services/lambda/backend.h"
#include "services/lambda/errors.h"
#include "services/lambda/task_integration.h"
#include "services/lambda/worker_invocations.h"
#include "services/lambda_test_util.h"
#include "store/metadata_store.h"
#include "store/work_leases.h"
#include "test_util.h"

namespace lathe::lambda {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;
using nlohmann::json;
using testing::CreateFunctionRequest;
using testing::MakeZip;

const Scope kScope{"123456789012", "us-east-1"};
constexpr char kBucket[] = "lathe-artifacts";

using testing::HavePython;

class WorkerInvocationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    objects_.objects[{kBucket, ".keep"}] = "";
    QueuedInvocationOptions q;
    q.account = kScope.account;
    q.bucket = kBucket;
    q.claim_wait_ms = 60000;
    q.lease_ms = 5000;
    q.poll_ms = 20;
    queued_ = std::make_unique<QueuedInvocations>(db_.get(), &objects_, q);
    LambdaOptions o;
    o.root = dir_.path() + "/api/lambda";
    o.run_event_worker = false;
    o.placement = queued_.get();
    api_ = std::make_unique<LambdaBackend>(db_.get(), nullptr, o);
    ASSERT_TRUE(api_->Start().ok());
    config_.data_dir = dir_.path() + "/worker";
    config_.scope.account = kScope.account;
    config_.artifact_bucket = kBucket;
    config_.lease_seconds = 5;
    config_.worker_id = "worker-a";
    config_.worker_capacity = {2, 0, int64_t{8} << 30};
    RuntimeOptions r;
    r.root = config_.data_dir + "/lambda";
    ASSERT_TRUE(MakePrivateDir(r.root).ok());
    runtime_ = std::make_unique<FunctionRuntime>(r);
    ASSERT_TRUE(runtime_->Prepare().ok());
    worker_ = std::make_unique<InvocationWorker>(db_.get(), &objects_, runtime_.get(), CodeRoot(), config_);
  }
  void TearDown() override {
    worker_.reset();
    api_.reset();
  }
  std::string CodeRoot() const { return config_.data_dir + "/lambda/worker-code"; }
  Result<json> CreatePython(const std::string& name, const std::string& source) {
    json req = CreateFunctionRequest(name, "python3.12", "app.handler", MakeZip({{"app.py", source}}));
    req["Timeout"] = 60;
    return api_->CreateFunction(kScope, req);
  }
  Result<InvokeOutput> Invoke(const std::string& name, const std::string& payload) {
    InvokeInput in;
    in.function_name = name;
    in.payload = payload;
    return api_->Invoke(kScope, in);
  }
  int64_t Queued() {
    store::WorkLeases leases(db_.get());
    auto depth = leases.DepthByKind();
    EXPECT_TRUE(depth.ok());
    auto it = depth->find(kInvocationWorkKind);
    return it == depth->end() ? 0 : it->second.queued;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
  testing::MapObjectStore objects_;
  std::unique_ptr<QueuedInvocations> queued_;
  std::unique_ptr<LambdaBackend> api_;
  service::ServiceConfig config_;
  std::unique_ptr<FunctionRuntime> runtime_;
  std::unique_ptr<InvocationWorker> worker_;
};

constexpr char kWhere[] = R"(import os
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"cwd": os.getcwd(), "doubled": event["n"] * 2}
)";

TEST_F(WorkerInvocationsTest, TheCodeRunsOnTheWorkerAndTheAnswerComesBack) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  auto created = CreatePython("where", kWhere);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // The code went to the artifact bucket when the function was made, under its code id.
  const std::string sha = (*created)["CodeSha256"];
  bool shared = false;
  for (const auto& [key, bytes] : objects_.objects)
    if (key.first == kBucket && key.second.rfind("lambda-code/", 0) == 0) shared = CodeSha256(bytes) == sha;
  EXPECT_TRUE(shared);
  ASSERT_TRUE(worker_->Start(2).ok());
  auto out = Invoke("where", R"({"n": 21})");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->function_error.empty());
  const json answer = json::parse(out->payload);
  EXPECT_EQ(answer["doubled"], 42);
  // It ran in the worker's unpacked copy, not the API node's code folder.
  EXPECT_EQ(answer["cwd"].get<std::string>().rfind(fs::canonical(CodeRoot()).string(), 0), 0u) << answer["cwd"];
  // The result row was read and removed; the item is done.
  auto left = db_->List(kInvocationResultKind);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_EQ(Queued(), 0);

  // A function error is the function's, as when it runs on the API node.
  auto failed = Invoke("where", R"({"fail": true})");
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->function_error, "Unhandled");
  EXPECT_EQ(failed->error_type, "ValueError");
  EXPECT_NE(failed->payload.find("asked to fail"), std::string::npos);

  // A Step Functions Task state reaches it the same way.
  LambdaTaskIntegration integration(api_.get());
  states::TaskCall call;
  call.service = "lambda";
  call.action = "invoke";
  call.account = kScope.account;
  call.region = kScope.region;
  call.parameters = {{"FunctionName", "where"}, {"Payload", {{"n", 5}}}};
  states::TaskOutcome task = integration.Start(call);
  ASSERT_TRUE(task.ok) << task.error << ": " << task.cause;
  EXPECT_EQ(task.result["Payload"]["doubled"], 10);
  EXPECT_EQ(task.result["StatusCode"], 200);
}

// The bucket holds the code of the functions there are, and nothing else.
TEST_F(WorkerInvocationsTest, TheSharedCodeFollowsTheFunction) {
  auto shared = [&] {
    std::vector<std::string> shas;
    for (const auto& [key, bytes] : objects_.objects)
      if (key.first == kBucket && key.second.rfind("lambda-code/", 0) == 0) shas.push_back(CodeSha256(bytes));
    return shas;
  };
  auto created = api_->CreateFunction(
      kScope, CreateFunctionRequest("follow", "provided.al2023", "x", MakeZip({{"bootstrap", "#!/bin/sh\necho 1\n", 0100755}})));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(shared(), std::vector<std::string>{(*created)["CodeSha256"].get<std::string>()});
  auto updated = api_->UpdateFunctionCode(
      kScope, "follow", {{"ZipFile", Base64Encode(MakeZip({{"bootstrap", "#!/bin/sh\necho 2\n", 0100755}}))}});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(shared(), std::vector<std::string>{(*updated)["CodeSha256"].get<std::string>()});
  ASSERT_TRUE(api_->DeleteFunction(kScope, "follow", "").ok());
  EXPECT_TRUE(shared().empty());
}

TEST_F(WorkerInvocationsTest, NoWorkerClaimsItAndTheCallerIsToldWhy) {
  QueuedInvocationOptions q;
  q.account = kScope.account;
  q.bucket = kBucket;
  q.claim_wait_ms = 200;
  q.poll_ms = 20;
  QueuedInvocations impatient(db_.get(), &objects_, q);
  FunctionSpec fn;
  fn.name = "nobody";
  fn.uid = "uid1";
  fn.runtime = "python3.12";
  const std::string zip_path = dir_.path() + "/code.zip";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), zip_path, MakeZip({{"app.py", kWhere}})).ok());
  auto out = impatient.Invoke(fn, HeldCode{"abc123", zip_path, "x"}, "{}", "req-1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().aws_code(), "ServiceException");
  EXPECT_NE(out.status().message().find("no lathe worker claimed"), std::string::npos) << out.status().ToString();
  EXPECT_EQ(Queued(), 0);  // taken out of the queue: no worker runs it later
}

TEST_F(WorkerInvocationsTest, CodeThatDoesNotMatchItsShaIsNotRun) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  auto created = CreatePython("tampered", kWhere);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  for (auto& [key, bytes] : objects_.objects)
    if (key.second.rfind("lambda-code/", 0) == 0)
      bytes = MakeZip({{"app.py", "import os\ndef handler(e, c):\n    return 'not the uploaded code'\n"}});
  ASSERT_TRUE(worker_->Start(1).ok());
  auto out = Invoke("tampered", R"({"n": 1})");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().aws_code(), "ServiceException");
  EXPECT_NE(out.status().message().find("does not match its CodeSha256"), std::string::npos) << out.status().ToString();
  EXPECT_NE(out.status().message().find("worker-a"), std::string::npos);
}

// Items come from the shared store: a worker checks them as it would a request.
TEST_F(WorkerInvocationsTest, HostileItemsAreAnsweredWithErrorsAndWriteNothingOutside) {
  store::WorkLeases leases(db_.get());
  const json good_fn = {{"name", "f"}, {"uid", "u1"}, {"runtime", "python3.12"}, {"handler", "app.handler"},
                        {"timeout", 3}, {"memory", 128}, {"environment", json::object()}};
  auto with = [&](const char* key, json value) {
    json f = good_fn;
    f[key] = std::move(value);
    return f;
  };
  struct Case {
    std::string id;
    json doc;
    std::string says;
  };
  std::vector<Case> cases = {
      {"no-function", {{"payload", "{}"}}, "names no function"},
      {"uid-escapes", {{"function", with("uid", "../../x")}, {"payload", "{}"}}, "uid"},
      {"timeout-text", {{"function", with("timeout", "3")}, {"payload", "{}"}}, "not a number"},
      {"code-escapes", {{"function", good_fn}, {"code", {{"id", "../../../etc"}, {"sha256", "x"}}}, {"payload", "{}"}},
       "no usable code id"},
      {"payload-object", {{"function", good_fn}, {"code", {{"id", "abc"}}}, {"payload", {{"a", 1}}}}, "no usable payload"},
      {"code-missing", {{"function", good_fn}, {"code", {{"id", "abc"}, {"sha256", "x"}}}, {"payload", "{}"}},
       "cannot be fetched"},
  };
  for (const auto& c : cases) {
    store::WorkItem item;
    item.kind = kInvocationWorkKind;
    item.id = c.id;
    item.needs.cpus = 1;
    item.doc = c.doc;
    ASSERT_TRUE(leases.Enqueue(item).ok());
    auto ran = worker_->RunOne();
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    EXPECT_TRUE(*ran);
    auto row = db_->Find(kInvocationResultKind, c.id);
    ASSERT_TRUE(row.ok()) << c.id;
    EXPECT_EQ(row->doc["error"]["code"], "ServiceException") << c.id;
    EXPECT_NE(row->doc["error"]["message"].get<std::string>().find(c.says), std::string::npos)
        << c.id << ": " << row->doc.dump();
  }
  EXPECT_FALSE(fs::exists(dir_.path() + "/etc"));
  EXPECT_FALSE(fs::exists(config_.data_dir + "/x"));
  EXPECT_EQ(Queued(), 0);
}

// A worker keeps at most kMaxWorkerCodeFolders functions unpacked, dropping the least recently used.
TEST_F(WorkerInvocationsTest, AWorkerKeepsABoundedNumberOfUnpackedFunctions) {
  store::WorkLeases leases(db_.get());
  const json fn = {{"name", "echo"}, {"uid", "u2"}, {"runtime", "provided.al2023"}, {"handler", "x"},
                   {"timeout", 30}, {"memory", 128}};
  auto code_id = [](size_t i) { return "code" + std::to_string(i); };
  for (size_t i = 0; i <= kMaxWorkerCodeFolders; ++i) {
    const std::string zip = MakeZip({{"bootstrap", "#!/bin/sh\nprintf '{\"n\": " + std::to_string(i) + "}'\n", 0100755}});
    objects_.objects[{kBucket, CodeObjectKey(code_id(i))}] = zip;
    store::WorkItem item;
    item.kind = kInvocationWorkKind;
    item.id = "run" + std::to_string(i);
    item.needs.cpus = 1;
    item.doc = {{"function", fn}, {"code", {{"id", code_id(i)}, {"sha256", CodeSha256(zip)}}}, {"payload", "{}"}};
    ASSERT_TRUE(leases.Enqueue(item).ok());
    auto ran = worker_->RunOne();
    ASSERT_TRUE(ran.ok() && *ran);
    auto row = db_->Find(kInvocationResultKind, item.id);
    ASSERT_TRUE(row.ok());
    ASSERT_EQ(row->doc.value("payload", ""), "{\"n\": " + std::to_string(i) + "}") << row->doc.dump();
  }
  size_t kept = 0;
  for (const auto& e : fs::directory_iterator(CodeRoot())) kept += e.is_directory() ? 1 : 0;
  EXPECT_EQ(kept, kMaxWorkerCodeFolders);
  EXPECT_FALSE(fs::exists(CodeRoot() + "/" + code_id(0)));
  EXPECT_TRUE(fs::exists(CodeRoot() + "/" + code_id(kMaxWorkerCodeFolders) + "/task/bootstrap"));
}

}  // namespace
}  // namespace lathe::lambda
