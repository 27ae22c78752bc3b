// Lambda's backend with a real metadata store, real code folders and real child processes
// (python3 for python3.x functions, /bin/sh scripts for `provided`); no sockets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>
#include <string>

#include "core/checksum.h"
#include "services/lambda/backend.h"
#include "services/lambda/errors.h"
#include "services/lambda/event_target.h"
#include "services/lambda/task_integration.h"
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
using testing::ZipEntry;

const Scope kScope{"123456789012", "us-east-1"};

using testing::HavePython;

class LambdaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    Open();
  }
  void Open(ZipLimits zip = {}, bool worker = true) {
    backend_.reset();
    LambdaOptions o;
    o.root = dir_.path() + "/lambda";
    o.zip = zip;
    o.run_event_worker = worker;
    backend_ = std::make_unique<LambdaBackend>(db_.get(), nullptr, o);
    ASSERT_TRUE(backend_->Start().ok());
  }
  static json Request(const std::string& name, const std::string& runtime, const std::string& handler,
                      const std::string& zip) {
    return CreateFunctionRequest(name, runtime, handler, zip);
  }
  Result<json> CreatePython(const std::string& name, const std::string& source, json extra = json::object()) {
    json req = Request(name, "python3.12", "app.handler", MakeZip({{"app.py", source}}));
    // Generous unless a test is about the timeout: python's start on a loaded 2-core machine.
    req["Timeout"] = 60;
    req.update(extra);
    return backend_->CreateFunction(kScope, req);
  }
  Result<InvokeOutput> Invoke(const std::string& name, const std::string& payload, const std::string& type = "",
                              const std::string& log = "") {
    InvokeInput in;
    in.function_name = name;
    in.payload = payload;
    in.invocation_type = type;
    in.log_type = log;
    return backend_->Invoke(kScope, in);
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<LambdaBackend> backend_;
};

TEST_F(LambdaBackendTest, PythonHandlerGetsTheEventContextAndEnvironment) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  auto created = CreatePython("hello", R"(import os
def handler(event, context):
    print("log line from the handler")
    return {"event": event, "name": context.function_name, "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn, "request": context.aws_request_id,
            "left": 0 < context.get_remaining_time_in_millis() <= 5000, "var": os.environ.get("GREETING"),
            "fn_env": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "cwd": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"]}
)",
                              {{"Timeout", 5}, {"Environment", {{"Variables", {{"GREETING", "hi"}}}}}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:hello");
  EXPECT_EQ((*created)["Environment"]["Variables"]["GREETING"], "hi");
  EXPECT_EQ((*created)["Timeout"], 5);
  auto out = Invoke("hello", R"({"a": [1, 2]})", "", "Tail");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status_code, 200);
  EXPECT_EQ(out->function_error, "");
  json p = json::parse(out->payload);
  EXPECT_EQ(p["event"], json::parse(R"({"a": [1, 2]})"));
  EXPECT_EQ(p["name"], "hello");
  EXPECT_EQ(p["memory"], "128");
  EXPECT_EQ(p["arn"], "arn:aws:lambda:us-east-1:123456789012:function:hello");
  EXPECT_EQ(p["request"], out->request_id);
  EXPECT_EQ(p["left"], true);
  EXPECT_EQ(p["var"], "hi");
  EXPECT_EQ(p["fn_env"], "hello");
  EXPECT_EQ(p["cwd"], true);
  auto log = Base64Decode(out->log_result);
  ASSERT_TRUE(log.has_value());
  EXPECT_NE(log->find("START RequestId: " + out->request_id), std::string::npos) << *log;
  EXPECT_NE(log->find("log line from the handler"), std::string::npos) << *log;
  EXPECT_NE(log->find("REPORT RequestId: " + out->request_id), std::string::npos) << *log;
  // By ARN and partial ARN too; an empty payload is the event {}.
  auto by_arn = Invoke("arn:aws:lambda:us-east-1:123456789012:function:hello", "");
  ASSERT_TRUE(by_arn.ok()) << by_arn.status().ToString();
  EXPECT_EQ(json::parse(by_arn->payload)["event"], json::object());
  EXPECT_TRUE(Invoke("123456789012:function:hello", "{}").ok());
  EXPECT_TRUE(Invoke("hello:$LATEST", "{}").ok());
}

TEST_F(LambdaBackendTest, AnExceptionIsAnUnhandledFunctionErrorAsAwsWritesIt) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  ASSERT_TRUE(CreatePython("fails", "def handler(event, context):\n    raise KeyError('missing thing')\n").ok());
  auto out = Invoke("fails", "{}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status_code, 200);
  EXPECT_EQ(out->function_error, "Unhandled");
  json e = json::parse(out->payload);
  EXPECT_EQ(e["errorType"], "KeyError");
  EXPECT_EQ(e["errorMessage"], "'missing thing'");
  ASSERT_TRUE(e["stackTrace"].is_array());
  ASSERT_FALSE(e["stackTrace"].empty());
  EXPECT_NE(e["stackTrace"][0].get<std::string>().find("app.py\", line 2, in handler"), std::string::npos) << e.dump();
  // A handler that is not there, and a module that is not.
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "fails", {{"Handler", "app.nothere"}}).ok());
  e = json::parse(Invoke("fails", "{}")->payload);
  EXPECT_EQ(e["errorType"], "Runtime.HandlerNotFound");
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "fails", {{"Handler", "nomodule.handler"}}).ok());
  e = json::parse(Invoke("fails", "{}")->payload);
  EXPECT_EQ(e["errorType"], "Runtime.ImportModuleError");
  EXPECT_NE(e["errorMessage"].get<std::string>().find("Unable to import module 'nomodule'"), std::string::npos);
  // A result JSON cannot hold.
  ASSERT_TRUE(backend_->UpdateFunctionCode(kScope, "fails",
                                           {{"ZipFile", Base64Encode(MakeZip({{"nomodule.py",
                                                                              "def handler(e, c):\n    return {1, 2}\n"}}))}})
                  .ok());
  e = json::parse(Invoke("fails", "{}")->payload);
  EXPECT_EQ(e["errorType"], "Runtime.MarshalError");
}

TEST_F(LambdaBackendTest, ATimeoutKillsTheFunctionAndSaysSoAsAws) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  ASSERT_TRUE(CreatePython("sleeper", R"(import subprocess, time
def handler(event, context):
    print("going to sleep", flush=True)
    subprocess.Popen(["sleep", "60"])  # its child dies with it
    time.sleep(60)
)", {{"Timeout", 3}}).ok());
  auto out = Invoke("sleeper", "{}", "", "Tail");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->function_error, "Unhandled");
  json e = json::parse(out->payload);
  EXPECT_EQ(e["errorType"], "Sandbox.Timedout");
  EXPECT_NE(e["errorMessage"].get<std::string>().find("Task timed out after 3.00 seconds"), std::string::npos) << e;
  const std::string log = *Base64Decode(out->log_result);
  EXPECT_NE(log.find("going to sleep"), std::string::npos) << log;
  EXPECT_NE(log.find("Task timed out after 3.00 seconds"), std::string::npos) << log;
}

TEST_F(LambdaBackendTest, MemoryIsBoundedByTheFunctionsMemorySize) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not on PATH";
  ASSERT_TRUE(CreatePython("hungry", "def handler(event, context):\n    b = bytearray(event['mb'] << 20)\n    return len(b)\n").ok());
  auto small = Invoke("hungry", R"({"mb": 16})");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->function_error, "") << small->payload;
  EXPECT_EQ(small->payload, std::to_string(16 << 20));
  auto big = Invoke("hungry", R"({"mb": 512})");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->function_error, "Unhandled");
  EXPECT_EQ(json::parse(big->payload)["errorType"], "MemoryError") << big->payload;
  // With more memory configured, the same allocation succeeds.
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "hungry", {{"MemorySize", 1024}}).ok());
  auto more = Invoke("hungry", R"({"mb": 512})");
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->function_error, "") << more->payload;
}

TEST_F(LambdaBackendTest, ProvidedRuntimeRunsTheBootstrapWithTheEventOnStdin) {
  const std::string script = "#!/bin/sh\necho \"log: $AWS_LAMBDA_FUNCTION_NAME\" >&2\nprintf '{\"echo\": '\ncat\nprintf '}'\n";
  auto created = backend_->CreateFunction(
      kScope, Request("shell", "provided.al2023", "ignored", MakeZip({{"bootstrap", script, 0100755}})));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto out = Invoke("shell", R"({"x": 1})", "", "Tail");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->function_error, "") << out->payload;
  EXPECT_EQ(json::parse(out->payload), json::parse(R"({"echo": {"x": 1}})"));
  EXPECT_NE(Base64Decode(out->log_result)->find("log: shell"), std::string::npos);
  // The handler may name another executable; a failing one is Runtime.ExitError.
  ASSERT_TRUE(backend_->UpdateFunctionCode(
                          kScope, "shell",
                          {{"ZipFile", Base64Encode(MakeZip({{"bin/run", "#!/bin/sh\necho oops >&2\nexit 3\n", 0100755}}))}})
                  .ok());
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "shell", {{"Handler", "bin/run"}}).ok());
  out = Invoke("shell", "{}");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->function_error, "Unhandled");
  json e = json::parse(out->payload);
  EXPECT_EQ(e["errorType"], "Runtime.ExitError");
  EXPECT_NE(e["errorMessage"].get<std::string>().find("exit status 3"), std::string::npos) << e;
  // No executable at all (a file without the x bit is not one).
  ASSERT_TRUE(backend_->UpdateFunctionCode(kScope, "shell",
                                           {{"ZipFile", Base64Encode(MakeZip({{"bootstrap", "#!/bin/sh\n", 0100644}}))}})
                  .ok());
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "shell", {{"Handler", "x"}}).ok());
  EXPECT_EQ(json::parse(Invoke("shell", "{}")->payload)["errorType"], "Runtime.InvalidEntrypoint");
}

// A Step Functions task takes at most what a state may hold: an answer nested past the bound is
// refused from its text, before the parser (and every later walk) recurses once per level.
TEST_F(LambdaBackendTest, TheTaskIntegrationMeasuresAnAnswerBeforeParsingIt) {
  const std::string deep = "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' '['\n";
  const std::string large = "#!/bin/sh\nprintf '\"'\nhead -c 300000 /dev/zero | tr '\\0' 'a'\nprintf '\"'\n";
  const std::string fine = "#!/bin/sh\nprintf '{\"ok\": [[[1]]]}'\n";
  LambdaTaskIntegration lambda(backend_.get());
  for (const auto& [name, script] : {std::pair{"deep", deep}, {"large", large}, {"fine", fine}}) {
    ASSERT_TRUE(backend_->CreateFunction(kScope, Request(name, "provided.al2023", "x",
                                                         MakeZip({{"bootstrap", script, 0100755}})))
                    .ok());
    states::TaskCall call;
    call.service = "lambda";
    call.action = "invoke";
    call.account = kScope.account;
    call.region = kScope.region;
    call.parameters = {{"FunctionName", name}, {"Payload", json::object()}};
    states::TaskOutcome out = lambda.Start(call);
    if (std::string(name) == "fine") {
      EXPECT_TRUE(out.ok) << out.error << " " << out.cause;
      EXPECT_EQ(out.result["Payload"], json::parse(R"({"ok": [[[1]]]})"));
      continue;
    }
    EXPECT_FALSE(out.ok) << name;
    EXPECT_EQ(out.error, "States.DataLimitExceeded") << name;
    EXPECT_NE(out.cause.find(std::string(name) == "deep" ? "nests deeper" : "exceeds the maximum number of bytes"),
              std::string::npos)
        << out.cause;
  }
}

TEST_F(LambdaBackendTest, HostileZipsAreRefusedAndWriteNothingOutside) {
  const std::string outside = dir_.path() + "/evil.txt";
  for (const auto& entry : std::vector<ZipEntry>{{"../evil.txt", "x"},
                                                 {"a/../../evil.txt", "x"},
                                                 {outside, "x"},
                                                 {"a\\..\\evil.txt", "x"},
                                                 {"link", outside, 0120777},
                                                 {"./app.py", "x"},
                                                 {std::string(2000, 'a'), "x"}}) {
    auto r = backend_->CreateFunction(kScope, Request("zipslip", "provided", "x", MakeZip({entry})));
    ASSERT_FALSE(r.ok()) << entry.name;
    EXPECT_EQ(r.status().aws_code(), "InvalidParameterValueException") << entry.name;
    EXPECT_NE(r.status().message().find("Could not unzip uploaded file"), std::string::npos) << r.status().message();
    EXPECT_FALSE(fs::exists(outside)) << entry.name;
  }
  // A file and a folder of one name; a duplicate entry.
  EXPECT_FALSE(backend_->CreateFunction(kScope, Request("dup", "provided", "x", MakeZip({{"a", "1"}, {"a/b", "2"}}))).ok());
  EXPECT_FALSE(backend_->CreateFunction(kScope, Request("dup", "provided", "x", MakeZip({{"a", "1"}, {"a", "2"}}))).ok());
  // Not a zip at all; not base64.
  auto junk = backend_->CreateFunction(kScope, Request("junk", "provided", "x", "this is not a zip"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().message(), "Could not unzip uploaded file. Please check your file, then try to upload again.");
  json bad = Request("junk", "provided", "x", "");
  bad["Code"]["ZipFile"] = "%%%";
  EXPECT_EQ(backend_->CreateFunction(kScope, bad).status().aws_code(), "InvalidParameterValueException");
  // Nothing was kept: no function, no code folder, no temporary one.
  EXPECT_TRUE(backend_->ListFunctions(kScope, "", "")->at("Functions").empty());
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/lambda/code"));
}

TEST_F(LambdaBackendTest, SizesAndCountsAreBoundedByWhatIsInflated) {
  ZipLimits limits;
  limits.max_unzipped_bytes = 1000;
  limits.max_entries = 3;
  limits.max_zip_bytes = 4000;
  Open(limits);
  auto big = backend_->CreateFunction(kScope, Request("big", "provided", "x", MakeZip({{"a", std::string(600, 'x')},
                                                                                       {"b", std::string(600, 'y')}})));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(), "Unzipped size must be smaller than 1000 bytes");
  auto many = backend_->CreateFunction(kScope, Request("many", "provided", "x",
                                                       MakeZip({{"a", ""}, {"b", ""}, {"c", ""}, {"d", ""}})));
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("more than 3 entries"), std::string::npos) << many.status().message();
  auto huge = backend_->CreateFunction(kScope, Request("huge", "provided", "x", std::string(5000, 'z')));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().aws_code(), "RequestTooLargeException");
  EXPECT_TRUE(backend_->CreateFunction(kScope, Request("fits", "provided", "x", MakeZip({{"a", std::string(900, 'x')}}))).ok());
}

TEST_F(LambdaBackendTest, BadRequestsGetAwsErrorCodes) {
  const std::string zip = MakeZip({{"app.py", "def handler(e, c): return 1\n"}});
  auto code = [&](json req) { return backend_->CreateFunction(kScope, req).status().aws_code(); };
  for (const std::string& name : std::vector<std::string>{"../x", "a b", std::string(65, 'a'), "", "arn:aws:lambda:us-east-1:12:function:x",
                                 "a:b:c:d:e:f:g:h:i", "x\n"})
    EXPECT_EQ(code(Request(name, "python3.12", "app.handler", zip)), "ValidationException") << name;
  EXPECT_EQ(code(Request("f", "nodejs20.x", "app.handler", zip)), "InvalidParameterValueException");
  EXPECT_EQ(code(Request("f", "", "app.handler", zip)), "InvalidParameterValueException");
  EXPECT_EQ(code(Request("f", "python3.12", "", zip)), "InvalidParameterValueException");
  EXPECT_EQ(code(Request("f", "python3.12", "has space", zip)), "ValidationException");
  json r = Request("f", "python3.12", "app.handler", zip);
  r["Role"] = "not-a-role";
  EXPECT_EQ(code(r), "ValidationException");
  r = Request("f", "python3.12", "app.handler", zip);
  r["Timeout"] = 901;
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r["Timeout"] = 0;
  EXPECT_EQ(code(r), "ValidationException");
  r["Timeout"] = "3";
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r.erase("Timeout");
  r["MemorySize"] = 64;
  EXPECT_EQ(code(r), "ValidationException");
  r["MemorySize"] = 10241;
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r.erase("MemorySize");
  r["Environment"] = {{"Variables", {{"AWS_REGION", "x"}}}};
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r["Environment"] = {{"Variables", {{"BIG", std::string(5000, 'x')}}}};
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r["Environment"] = {{"Variables", {{"1BAD", "x"}}}};
  EXPECT_EQ(code(r), "ValidationException");
  r.erase("Environment");
  r["Code"] = {{"S3Bucket", "b"}, {"S3Key", "k"}};
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  // Created once; a second time is a conflict.
  ASSERT_TRUE(backend_->CreateFunction(kScope, Request("f", "python3.12", "app.handler", zip)).ok());
  EXPECT_EQ(code(Request("f", "python3.12", "app.handler", zip)), "ResourceConflictException");
  // Invoke: unknown function, qualifier, invocation type, payload.
  EXPECT_EQ(Invoke("nope", "{}").status().aws_code(), "ResourceNotFoundException");
  EXPECT_EQ(Invoke("arn:aws:lambda:us-east-1:999999999999:function:f", "{}").status().aws_code(),
            "ResourceNotFoundException");
  EXPECT_EQ(Invoke("f:v2", "{}").status().aws_code(), "ResourceNotFoundException");
  EXPECT_EQ(Invoke("f", "{}", "Sometimes").status().aws_code(), "ValidationException");
  EXPECT_EQ(Invoke("f", "{not json").status().aws_code(), "InvalidRequestContentException");
  EXPECT_EQ(Invoke("f", std::string(100000, '[') + std::string(100000, ']')).status().aws_code(),
            "InvalidRequestContentException");
  EXPECT_EQ(Invoke("f", "\"" + std::string(kMaxSyncPayloadBytes, 'x') + "\"").status().aws_code(),
            "RequestTooLargeException");
  EXPECT_EQ(Invoke("f", "\"" + std::string(kMaxAsyncPayloadBytes, 'x') + "\"", "Event").status().aws_code(),
            "RequestTooLargeException");
  EXPECT_EQ(backend_->ListFunctions(kScope, "", "0").status().aws_code(), "ValidationException");
  EXPECT_EQ(backend_->ListFunctions(kScope, "../x", "").status().aws_code(), "InvalidParameterValueException");
  EXPECT_EQ(backend_->DeleteFunction(kScope, "nope", "").aws_code(), "ResourceNotFoundException");
  // Every operation on a hostile or absent name, and wrong member types.
  for (const std::string& name : std::vector<std::string>{"../../etc/passwd", "f/../g", std::string(300, 'x'), "%00"}) {
    EXPECT_EQ(backend_->GetFunction(kScope, name, "").status().aws_code(), "ValidationException") << name;
    EXPECT_EQ(backend_->GetFunctionConfiguration(kScope, name, "").status().aws_code(), "ValidationException") << name;
    EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, name, json::object()).status().aws_code(), "ValidationException");
    EXPECT_EQ(backend_->UpdateFunctionCode(kScope, name, json::object()).status().aws_code(), "ValidationException");
    EXPECT_EQ(backend_->DeleteFunction(kScope, name, "").aws_code(), "ValidationException") << name;
  }
  EXPECT_EQ(backend_->UpdateFunctionCode(kScope, "nope", {{"ZipFile", Base64Encode(zip)}}).status().aws_code(),
            "ResourceNotFoundException");
  EXPECT_EQ(backend_->UpdateFunctionCode(kScope, "f", {{"ZipFile", 5}}).status().aws_code(), "InvalidParameterValueException");
  EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, "f", {{"Environment", "A=B"}}).status().aws_code(),
            "InvalidParameterValueException");
  EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, "f", {{"Environment", {{"Variables", {{"AB", 5}}}}}}).status().aws_code(),
            "InvalidParameterValueException");
  EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, "f", {{"Description", std::string(257, 'd')}}).status().aws_code(),
            "ValidationException");
  EXPECT_EQ(backend_->UpdateFunctionConfiguration(kScope, "f", {{"Runtime", "nodejs20.x"}}).status().aws_code(),
            "InvalidParameterValueException");
  r = Request("g", "python3.12", "app.handler", zip);
  r["Tags"] = json::array({"x"});
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  r = Request("g", "python3.12", "app.handler", zip);
  r["Code"] = "zip";
  EXPECT_EQ(code(r), "InvalidParameterValueException");
  // What was refused changed nothing.
  auto f = backend_->GetFunctionConfiguration(kScope, "f", "");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["Runtime"], "python3.12");
  EXPECT_EQ((*f)["Description"], "");
  EXPECT_EQ(backend_->ListFunctions(kScope, "", "")->at("Functions").size(), 1u);
}

TEST_F(LambdaBackendTest, ListPagesUpdateAndDeleteSurviveARestart) {
  const std::string zip = MakeZip({{"run", "#!/bin/sh\necho 1\n", 0100755}});
  for (const std::string n : {"c-fn", "a-fn", "b-fn"})
    ASSERT_TRUE(backend_->CreateFunction(kScope, Request(n, "provided", "run", zip)).ok());
  auto page = backend_->ListFunctions(kScope, "", "2");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ((*page)["Functions"].size(), 2u);
  EXPECT_EQ((*page)["Functions"][0]["FunctionName"], "a-fn");
  EXPECT_EQ((*page)["Functions"][1]["FunctionName"], "b-fn");
  auto next = backend_->ListFunctions(kScope, (*page)["NextMarker"], "2");
  ASSERT_TRUE(next.ok());
  ASSERT_EQ((*next)["Functions"].size(), 1u);
  EXPECT_EQ((*next)["Functions"][0]["FunctionName"], "c-fn");
  EXPECT_FALSE(next->contains("NextMarker"));
  // Another region sees none of them.
  EXPECT_TRUE(backend_->ListFunctions(Scope{kScope.account, "eu-west-1"}, "", "")->at("Functions").empty());
  auto before = backend_->GetFunction(kScope, "a-fn", "");
  ASSERT_TRUE(before.ok());
  const std::string old_zip = (*before)["Code"]["Location"].get<std::string>().substr(7);
  EXPECT_TRUE(fs::exists(old_zip));
  auto updated = backend_->UpdateFunctionCode(kScope, "a-fn", {{"ZipFile", Base64Encode(MakeZip({{"run", "#!/bin/sh\necho 2\n", 0100755}}))}});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE((*updated)["CodeSha256"], (*before)["Configuration"]["CodeSha256"]);
  EXPECT_NE((*updated)["RevisionId"], (*before)["Configuration"]["RevisionId"]);
  EXPECT_FALSE(fs::exists(old_zip));  // the old code went
  auto stale = backend_->UpdateFunctionConfiguration(kScope, "a-fn", {{"RevisionId", (*before)["Configuration"]["RevisionId"]}});
  EXPECT_EQ(stale.status().aws_code(), "PreconditionFailedException");
  ASSERT_TRUE(backend_->UpdateFunctionConfiguration(kScope, "a-fn", {{"Description", "second"}, {"Timeout", 30}}).ok());
  ASSERT_TRUE(backend_->DeleteFunction(kScope, "b-fn", "").ok());
  // A restart: what was saved is there; the code folder of the deleted function is gone.
  Open();
  auto a = backend_->GetFunctionConfiguration(kScope, "a-fn", "");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["Description"], "second");
  EXPECT_EQ((*a)["Timeout"], 30);
  EXPECT_EQ(Invoke("a-fn", "{}")->payload, "2\n");
  EXPECT_EQ(backend_->GetFunction(kScope, "b-fn", "").status().aws_code(), "ResourceNotFoundException");
  size_t folders = 0;
  for (const auto& e : fs::directory_iterator(dir_.path() + "/lambda/code")) folders += e.is_directory();
  EXPECT_EQ(folders, 2u);
}

TEST_F(LambdaBackendTest, EventInvocationsAreQueuedDurablyAndRunLater) {
  const std::string marker = dir_.path() + "/ran";
  const std::string script = "#!/bin/sh\ncat >> " + marker + "\n";
  ASSERT_TRUE(backend_->CreateFunction(kScope, Request("async", "provided", "x", MakeZip({{"bootstrap", script, 0100755}}))).ok());
  backend_->Stop();  // the worker would run it at once; here the queue is looked at first
  auto dry = Invoke("async", "{}", "DryRun");
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->status_code, 204);
  auto queued = Invoke("async", R"({"n": 1})", "Event");
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ(queued->status_code, 202);
  EXPECT_EQ(queued->payload, "");
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_EQ(db_->List(kInvocationKind)->size(), 1u);
  // A new backend on the same store (a restart): its worker runs what was queued.
  Open();
  for (int i = 0; i < 400 && !(fs::exists(marker) && db_->List(kInvocationKind)->empty()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(lathe::testing::ReadFile(marker), R"({"n": 1})");
  EXPECT_TRUE(db_->List(kInvocationKind)->empty());
  // Without the worker, nothing runs until RunQueuedEvents.
  Open({}, /*worker=*/false);
  ASSERT_TRUE(Invoke("async", R"({"n": 2})", "Event").ok());
  EXPECT_EQ(backend_->RunQueuedEvents(10), 1u);
  EXPECT_EQ(lathe::testing::ReadFile(marker), R"({"n": 1}{"n": 2})");
  EXPECT_TRUE(db_->List(kInvocationKind)->empty());
}

TEST_F(LambdaBackendTest, AQueuedEventWaitsForTheWorkerAndRunsWithTheBaseEnvironment) {
  // The server's order after a restart: the backend starts without its worker, the endpoint and
  // keys are set once the server listens, and only then does a leftover Event run.
  const std::string marker = dir_.path() + "/env";
  const std::string script = "#!/bin/sh\necho \"$AWS_ENDPOINT_URL $AWS_ACCESS_KEY_ID\" > " + marker + "\n";
  ASSERT_TRUE(backend_->CreateFunction(kScope, Request("env", "provided", "x", MakeZip({{"bootstrap", script, 0100755}}))).ok());
  Open({}, /*worker=*/false);
  ASSERT_TRUE(Invoke("env", "{}", "Event").ok());
  Open({}, /*worker=*/false);  // a restart with the event still queued
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(marker));
  backend_->runtime().SetBaseVariable("AWS_ENDPOINT_URL", "http://127.0.0.1:4567");
  backend_->runtime().SetBaseVariable("AWS_ACCESS_KEY_ID", "AKIDLATHE");
  backend_->StartEventWorker();
  for (int i = 0; i < 400 && !(fs::exists(marker) && db_->List(kInvocationKind)->empty()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(lathe::testing::ReadFile(marker), "http://127.0.0.1:4567 AKIDLATHE\n");
}

TEST_F(LambdaBackendTest, StopKillsRunningInvocationsAndKeepsTheirEventsQueued) {
  const std::string started = dir_.path() + "/started";
  const std::string script = "#!/bin/sh\ntouch " + started + "\nsleep 60\n";
  ASSERT_TRUE(backend_->CreateFunction(
                          kScope, [&] {
                            json r = Request("slow", "provided", "x", MakeZip({{"bootstrap", script, 0100755}}));
                            r["Timeout"] = 120;
                            return r;
                          }())
                  .ok());
  ASSERT_TRUE(Invoke("slow", "{}", "Event").ok());
  for (int i = 0; i < 400 && !fs::exists(started); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(started));
  backend_->Stop();  // returns once the function is killed, not after its 60 s
  EXPECT_EQ(db_->List(kInvocationKind)->size(), 1u);
  EXPECT_EQ(Invoke("slow", "{}").status().aws_code(), "ServiceException");
}

TEST_F(LambdaBackendTest, AnEventBridgeTargetQueuesAnAsynchronousInvocation) {
  const std::string marker = dir_.path() + "/event";
  ASSERT_TRUE(backend_->CreateFunction(kScope, Request("target", "provided", "x",
                                                       MakeZip({{"bootstrap", "#!/bin/sh\ncat > " + marker + "\n", 0100755}})))
                  .ok());
  Open({}, /*worker=*/false);
  LambdaTargetDeliverer deliverer(backend_.get());
  const std::string arn = "arn:aws:lambda:us-east-1:123456789012:function:target";
  EXPECT_TRUE(deliverer.Exists(arn));
  EXPECT_FALSE(deliverer.Exists("arn:aws:lambda:us-east-1:123456789012:function:other"));
  EXPECT_FALSE(deliverer.Exists("arn:aws:lambda:eu-west-1:123456789012:function:target"));
  EXPECT_FALSE(deliverer.Exists("target"));  // a target is a full ARN
  events::Delivery d{arn, R"({"source": "lathe.test"})", "arn:aws:events:us-east-1:123456789012:rule/r", "e1",
                     kScope.account, kScope.region};
  ASSERT_TRUE(deliverer.Deliver(d).ok());
  EXPECT_EQ(backend_->RunQueuedEvents(10), 1u);
  EXPECT_EQ(lathe::testing::ReadFile(marker), R"({"source": "lathe.test"})");
  d.target_arn = "arn:aws:lambda:us-east-1:123456789012:function:gone";
  EXPECT_EQ(deliverer.Deliver(d).aws_code(), "ResourceNotFoundException");
  d.target_arn = arn;
  d.input = "not json";
  EXPECT_EQ(deliverer.Deliver(d).aws_code(), "InvalidRequestContentException");
}

}  // namespace
}  // namespace lathe::lambda
