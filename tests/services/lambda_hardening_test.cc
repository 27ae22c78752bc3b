// What a reviewer found in Lambda's backend and runtime, each pinned by a test: bounds counted
// without reading rows, races between invocations and updates, what a hostile function can
// write back, and what it can reach (descriptors, log files).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/checksum.h"
#include "services/lambda/backend.h"
#include "services/lambda_test_util.h"
#include "store/metadata_store.h"
#include "test_util.h"

namespace lathe::lambda {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;
using nlohmann::json;
using testing::CreateFunctionRequest;
using testing::MakeZip;

const Scope kScope{"123456789012", "us-east-1"};

using testing::HavePython;

int Mode(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 07777;
}

class LambdaHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    LambdaOptions o;
    o.root = dir_.path() + "/lambda";
    o.run_event_worker = false;
    backend_ = std::make_unique<LambdaBackend>(db_.get(), nullptr, o);
    ASSERT_TRUE(backend_->Start().ok());
  }
  static json Request(const std::string& name, const std::string& runtime, const std::string& handler,
                      const std::string& zip) {
    return CreateFunctionRequest(name, runtime, handler, zip);
  }
  Status CreateProvided(const std::string& name, const std::string& script) {
    return backend_->CreateFunction(kScope, Request(name, "provided", "x", MakeZip({{"bootstrap", script, 0100755}})))
        .status();
  }
  Status CreatePython(const std::string& name, const std::string& source) {
    json req = Request(name, "python3.12", "app.handler", MakeZip({{"app.py", source}}));
    req["Timeout"] = 60;  // python's start on a loaded 2-core machine; no test here is about timeouts
    return backend_->CreateFunction(kScope, req).status();
  }
  Result<InvokeOutput> Invoke(const std::string& name, const std::string& payload, const std::string& type = "") {
    InvokeInput in;
    in.function_name = name;
    in.payload = payload;
    in.invocation_type = type;
    return backend_->Invoke(kScope, in);
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<LambdaBackend> backend_;
};

TEST_F(LambdaHardeningTest, TheEventQueueIsBoundedByACountNotAListing) {
  ASSERT_TRUE(CreateProvided("q", "#!/bin/sh\ncat >/dev/null\n").ok());
  // A full queue, written straight to the store (the rows hold payloads Invoke never reads).
  std::vector<store::ResourceRow> rows;
  for (size_t i = 0; i + 1 < kMaxQueuedEvents; ++i) {
    store::ResourceRow r;
    r.kind = kInvocationKind;
    r.id = r.name = "queued-" + std::to_string(i);
    r.arn = "arn:aws:lambda:us-east-1:123456789012:function:q";
    r.status = "queued";
    r.doc = {{"account", kScope.account}, {"region", kScope.region}, {"function", r.arn}, {"payload", "{}"}};
    rows.push_back(std::move(r));
  }
  ASSERT_TRUE(db_->InsertAll(rows).ok());
  EXPECT_EQ(*db_->Count(kInvocationKind, {}), kMaxQueuedEvents - 1);
  // Two callers race for the last place: exactly one gets it.
  std::atomic<int> queued{0}, refused{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&] {
      auto out = Invoke("q", "{}", "Event");
      if (out.ok()) ++queued;
      else if (out.status().aws_code() == "TooManyRequestsException") ++refused;
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(queued.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(*db_->Count(kInvocationKind, {}), kMaxQueuedEvents);
}

TEST_F(LambdaHardeningTest, ADeeplyNestedErrorObjectIsAMarshalErrorNotACrash) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  // The function writes its own "error" record to the result descriptor: 3 million '['.
  ASSERT_TRUE(CreatePython("deep", "import os\ndef handler(e, c):\n"
                                   "    data = b'E' + b'[' * 3000000\n"
                                   "    while data:\n        data = data[os.write(3, data):]\n"
                                   "    return 1\n")
                  .ok());
  auto out = Invoke("deep", "{}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->function_error, "Unhandled");
  EXPECT_EQ(out->error_type, "Runtime.MarshalError");
  json e = json::parse(out->payload);
  EXPECT_EQ(e["errorType"], "Runtime.MarshalError");
}

TEST_F(LambdaHardeningTest, InvocationsDuringCodeUpdatesAlwaysFindTheirCode) {
  // Each invocation runs the code current when it takes its reference; an update in between must
  // not remove the folder under it (before: Runtime.InvalidEntrypoint, the bootstrap gone).
  ASSERT_TRUE(CreateProvided("busy", "#!/bin/sh\necho '\"v0\"'\n").ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, runs{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i)
    callers.emplace_back([&] {
      while (!done) {
        auto out = Invoke("busy", "{}");
        ++runs;
        if (!out.ok() || !out->function_error.empty()) ++failures;
      }
    });
  for (int v = 1; v <= 15; ++v) {
    const std::string script = "#!/bin/sh\necho '\"v" + std::to_string(v) + "\"'\n";
    ASSERT_TRUE(backend_->UpdateFunctionCode(kScope, "busy", {{"ZipFile", Base64Encode(MakeZip({{"bootstrap", script, 0100755}}))}})
                    .ok());
  }
  done = true;
  for (auto& t : callers) t.join();
  EXPECT_GT(runs.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  // Nothing retired is left behind once the invocations are over: one code folder remains.
  size_t folders = 0;
  for (const auto& e : fs::directory_iterator(dir_.path() + "/lambda/code")) folders += e.is_directory();
  EXPECT_EQ(folders, 1u);
}

TEST_F(LambdaHardeningTest, RevisionIdIsComparedWithTheStoredRow) {
  ASSERT_TRUE(CreateProvided("rev", "#!/bin/sh\necho 1\n").ok());
  auto cfg = backend_->GetFunctionConfiguration(kScope, "rev", "");
  ASSERT_TRUE(cfg.ok());
  const std::string rev = (*cfg)["RevisionId"];
  // Two updates naming the same revision: the second finds it changed.
  EXPECT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "rev", {{"RevisionId", rev}, {"Timeout", 5}}).ok());
  EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, "rev", {{"RevisionId", rev}, {"Timeout", 6}}).status().aws_code(),
            "PreconditionFailedException");
  const json code = {{"ZipFile", Base64Encode(MakeZip({{"bootstrap", "#!/bin/sh\necho 2\n", 0100755}}))}};
  json req = code;
  req["RevisionId"] = rev;
  EXPECT_EQ(backend_->UpdateFunctionCode(kScope, "rev", req).status().aws_code(), "PreconditionFailedException");
  req["RevisionId"] = (*backend_->GetFunctionConfiguration(kScope, "rev", ""))["RevisionId"];
  req["DryRun"] = true;
  EXPECT_TRUE(backend_->UpdateFunctionCode(kScope, "rev", req).ok());
  // A DryRun or RevisionId of the wrong type is the caller's error (400), not the server's.
  req["DryRun"] = "yes";
  auto bad = backend_->UpdateFunctionCode(kScope, "rev", req);
  EXPECT_EQ(bad.status().http_status(), 400) << bad.status().ToString();
  req["DryRun"] = false;
  req["RevisionId"] = 7;
  EXPECT_EQ(backend_->UpdateFunctionCode(kScope, "rev", req).status().http_status(), 400);
}

TEST_F(LambdaHardeningTest, LogsArePrivateToTheServersUser) {
  ASSERT_TRUE(CreateProvided("logs", "#!/bin/sh\necho secret >&2\necho 1\n").ok());
  auto out = Invoke("logs", "{}");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Mode(dir_.path() + "/lambda"), 0700);
  EXPECT_EQ(Mode(dir_.path() + "/lambda/code"), 0700);
  EXPECT_EQ(Mode(dir_.path() + "/lambda/logs"), 0700);
  size_t logs = 0;
  for (const auto& d : fs::directory_iterator(dir_.path() + "/lambda/logs")) {
    EXPECT_EQ(Mode(d.path()), 0700) << d.path();
    for (const auto& f : fs::directory_iterator(d.path())) {
      EXPECT_EQ(Mode(f.path()), 0600) << f.path();
      ++logs;
    }
  }
  EXPECT_EQ(logs, 1u);
}

TEST_F(LambdaHardeningTest, APythonFunctionSeesOnlyDescriptorsZeroToThree) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  // A descriptor the server holds without O_CLOEXEC must not reach the function either.
  const int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  ASSERT_TRUE(CreatePython("fds", "import os\ndef handler(e, c):\n"
                                  "    names = os.listdir('/proc/self/fd')\n"
                                  "    # the listing's own descriptor is closed by now\n"
                                  "    return sorted(int(n) for n in names if os.path.exists('/proc/self/fd/' + n))\n")
                  .ok());
  auto out = Invoke("fds", "{}");
  ::close(leaky);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->function_error, "") << out->payload;
  EXPECT_EQ(json::parse(out->payload), json::array({0, 1, 2, 3}));
}

TEST_F(LambdaHardeningTest, AFunctionThatClosesItsPipesAndRunsOnIsWaitedFor) {
  // The pipes close at once; the keeper ends a second later, and the server waits for it (on its
  // pidfd) before the answer counts, so the exit status is the function's own.
  ASSERT_TRUE(CreateProvided("lingers", "#!/bin/sh\necho '\"done\"'\nexec >&- 2>&-\nsleep 1\nexit 3\n").ok());
  auto out = Invoke("lingers", "{}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->error_type, "Runtime.ExitError") << out->payload;
  EXPECT_NE(out->payload.find("exit status 3"), std::string::npos) << out->payload;
}

}  // namespace
}  // namespace lathe::lambda
