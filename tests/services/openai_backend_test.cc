// The OpenAI-compatible wire over a real Bedrock service (its job runner not started: jobs stay
// queued) and files in memory: files uploaded with the `lathe data validate` checks, fine-tuning
// jobs that are Bedrock customization jobs both ways, unknown models, and the gateway's routing
// and refusals in OpenAI's shape (no sockets).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "aws/gateway.h"
#include "service/bedrock_service.h"
#include "services/openai/backend.h"
#include "services/openai/job_mapping.h"
#include "services/openai/service.h"
#include "services/lambda_test_util.h"
#include "test_util.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;
using lathe::testing::TempDir;

constexpr const char* kAccount = "123456789012";
constexpr const char* kKey = "test-api-key-0123456789";

class MemoryFileObjects : public FileObjects {
 public:
  std::map<std::pair<std::string, std::string>, std::string> objects;
  Status Put(const std::string&, const std::string& key, std::string_view bytes) override {
    objects[{"files-bucket", key}] = std::string(bytes);
    return Status::Ok();
  }
  Status Get(const std::string&, const std::string& bucket, const std::string& key, uint64_t max_bytes,
             std::string* bytes) override {
    auto it = objects.find({bucket, key});
    if (it == objects.end()) return Status::Aws("NoSuchKey", 404, "The specified key does not exist.");
    if (it->second.size() > max_bytes) return Status::InvalidArgument("too large");
    *bytes = it->second;
    return Status::Ok();
  }
  Status Delete(const std::string&, const std::string& key) override {
    objects.erase({"files-bucket", key});
    return Status::Ok();
  }
  std::string Bucket(const std::string&) const override { return "files-bucket"; }
};

std::string ChatRecords(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += json{{"messages", {{{"role", "user"}, {"content", "q" + std::to_string(i)}},
                              {{"role", "assistant"}, {"content", "a"}}}}}.dump() + "\n";
  return out;
}

std::string Form(const std::string& purpose, const std::string& file) {
  return "--b0\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose +
         "\r\n--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"train.jsonl\"\r\n\r\n" + file +
         "\r\n--b0--\r\n";
}
constexpr const char* kFormType = "multipart/form-data; boundary=b0";

class OpenAIBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service::ServiceConfig config;
    config.data_dir = dir_.path() + "/data";
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";  // nothing generates here
    config.scope.account = kAccount;
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    bedrock_->set_object_store(&jobs_objects_);  // jobs take s3:// data (never read: the runner is off)
    backend_ = std::make_unique<OpenAIBackend>(bedrock_.get(), &files_, kAccount);
  }

  json Ok(const Answer& a) {
    EXPECT_FALSE(Failed(a)) << (Failed(a) ? std::get<ApiError>(a).message : "");
    return Failed(a) ? json() : std::get<json>(a);
  }
  ApiError Error(const Answer& a) {
    EXPECT_TRUE(Failed(a));
    return Failed(a) ? std::get<ApiError>(a) : ApiError{};
  }
  std::string Upload() { return Ok(backend_->UploadFile(kFormType, Form("fine-tune", ChatRecords(12))))["id"]; }

  TempDir dir_;
  MemoryFileObjects files_;
  lambda::testing::MapObjectStore jobs_objects_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<OpenAIBackend> backend_;
};

TEST_F(OpenAIBackendTest, FilesAreValidatedKeptListedReadAndDeleted) {
  json file = Ok(backend_->UploadFile(kFormType, Form("fine-tune", ChatRecords(12))));
  const std::string id = file["id"];
  EXPECT_EQ(file["object"], "file");
  EXPECT_EQ(file["purpose"], "fine-tune");
  EXPECT_EQ(file["filename"], "train.jsonl");
  EXPECT_EQ(file["bytes"], ChatRecords(12).size());
  EXPECT_EQ(Ok(backend_->RetrieveFile(id))["id"], id);
  EXPECT_EQ(Ok(backend_->ListFiles({}))["data"].size(), 1u);
  EXPECT_EQ(Ok(backend_->ListFiles({{"purpose", "assistants"}}))["data"].size(), 0u);
  std::string bytes;
  EXPECT_FALSE(Failed(backend_->FileContent(id, &bytes)));
  EXPECT_EQ(bytes, ChatRecords(12));
  EXPECT_EQ(Ok(backend_->DeleteFile(id))["deleted"], true);
  EXPECT_EQ(Error(backend_->RetrieveFile(id)).kind, ErrorKind::kNotFound);
  EXPECT_TRUE(files_.objects.empty());
}

TEST_F(OpenAIBackendTest, BadUploadsAreOpenAIErrors) {
  // The data checks `lathe data validate` makes, in OpenAI's form, and nothing kept.
  ApiError bad = Error(backend_->UploadFile(kFormType, Form("fine-tune", "{\"messages\": 5}\n")));
  EXPECT_EQ(bad.kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(bad.param, "file");
  EXPECT_NE(bad.message.find("wrong-type"), std::string::npos) << bad.message;
  EXPECT_EQ(Error(backend_->UploadFile(kFormType, Form("fine-tune", "not json\n"))).param, "file");
  EXPECT_EQ(Error(backend_->UploadFile(kFormType, Form("assistants", ChatRecords(12)))).param, "purpose");
  EXPECT_EQ(Error(backend_->UploadFile("application/json", "{}")).param, "file");
  EXPECT_TRUE(files_.objects.empty());
  // Forged and hostile ids.
  for (const std::string& id : std::vector<std::string>{"file-../../etc", "file-", std::string(300, 'f'), "ftjob-x", "file-ZZZ"})
    EXPECT_EQ(Error(backend_->RetrieveFile(id)).kind, ErrorKind::kNotFound) << id;
  EXPECT_EQ(Error(backend_->ListFiles({{"limit", "0"}})).param, "limit");
  EXPECT_EQ(Error(backend_->ListFiles({{"limit", "99999999999999999999"}})).param, "limit");
}

TEST_F(OpenAIBackendTest, AJobMadeHereIsABedrockJob) {
  const std::string file = Upload();
  json job = Ok(backend_->CreateJob(json{{"model", "lathe.default-v1"}, {"training_file", file},
                                         {"hyperparameters", {{"n_epochs", 1}}}, {"suffix", "x"}}.dump()));
  const std::string id = job["id"];
  EXPECT_EQ(job["object"], "fine_tuning.job");
  EXPECT_EQ(job["status"], "queued");
  EXPECT_EQ(job["training_file"], file);
  // Bedrock's API sees the same job: its data in the files bucket, its model the one named.
  auto bedrock = bedrock_->jobs().Get(BedrockJobId(id));
  ASSERT_TRUE(bedrock.ok()) << bedrock.status().ToString();
  EXPECT_EQ((*bedrock)["trainingDataConfig"]["s3Uri"], "s3://files-bucket/files/" + file);
  EXPECT_EQ((*bedrock)["hyperParameters"]["epochCount"], "1");
  const std::string made = (*bedrock)["outputModelName"];
  EXPECT_EQ(made.rfind("ft-x-", 0), 0u);
  EXPECT_EQ(Ok(backend_->RetrieveJob(id))["id"], id);
  json events = Ok(backend_->JobEvents(id, {}));
  EXPECT_EQ(events["data"].back()["message"], "Created fine-tuning job: " + id);
  EXPECT_TRUE(Ok(backend_->JobCheckpoints(id, {}))["data"].empty());  // none before it succeeds
  // Cancelled through OpenAI's API: Bedrock's says Stopping/Stopped.
  EXPECT_EQ(Ok(backend_->CancelJob(id))["status"], "cancelled");
  EXPECT_TRUE(bedrock_->jobs().Get(BedrockJobId(id))->value("status", "") == "Stopping" ||
              bedrock_->jobs().Get(BedrockJobId(id))->value("status", "") == "Stopped");
  EXPECT_EQ(Error(backend_->CancelJob(id)).kind, ErrorKind::kInvalidRequest);  // already ended
}

TEST_F(OpenAIBackendTest, ABedrockJobIsListedHere) {
  files_.objects[{"bucket", "train.jsonl"}] = ChatRecords(12);
  auto made = bedrock_->jobs().Create(json{{"jobName", "bedrock-made"}, {"customModelName", "bedrock-model"},
                                           {"roleArn", "arn:aws:iam::123456789012:role/r"},
                                           {"baseModelIdentifier", "lathe.default-v1"},
                                           {"trainingDataConfig", {{"s3Uri", "s3://bucket/train.jsonl"}}},
                                           {"outputDataConfig", {{"s3Uri", "s3://bucket/out/"}}}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  json list = Ok(backend_->ListJobs({}));
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], JobIdOf((*made)["jobArn"]));
  EXPECT_EQ(list["data"][0]["training_file"], "s3://bucket/train.jsonl");  // not a file of /v1/files
  EXPECT_EQ(list["has_more"], false);
  EXPECT_EQ(Ok(backend_->ListJobs({{"limit", "1"}, {"after", list["data"][0]["id"]}}))["data"].size(), 0u);
}

TEST_F(OpenAIBackendTest, BadJobsAndUnknownModels) {
  const std::string file = Upload();
  EXPECT_EQ(Error(backend_->CreateJob(json{{"model", "no-such-model"}, {"training_file", file}}.dump())).kind,
            ErrorKind::kModelNotFound);
  EXPECT_EQ(Error(backend_->CreateJob(json{{"model", "lathe.default-v1"}, {"training_file", "file-nope"}}.dump())).param,
            "training_file");
  EXPECT_EQ(Error(backend_->CreateJob("{\"model\": [")).kind, ErrorKind::kInvalidRequest);
  for (const std::string& id : std::vector<std::string>{"ftjob-nope", "ftjob-", "job-1", "ftjob-a/b", std::string(500, 'j')})
    EXPECT_EQ(Error(backend_->RetrieveJob(id)).kind, ErrorKind::kNotFound) << id;
  EXPECT_EQ(Error(backend_->RetrieveModel("no-such-model")).kind, ErrorKind::kModelNotFound);
  EXPECT_EQ(Ok(backend_->RetrieveModel("lathe.default-v1"))["object"], "model");
  auto parsed = ParseChatRequest(
      json{{"model", "no-such-model"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}}.dump(), 1);
  ApiError e = Error(backend_->Complete(std::get<SamplingRequest>(parsed), true));
  EXPECT_EQ(e.kind, ErrorKind::kModelNotFound);
  EXPECT_EQ(RowFor(e.kind).http_status, 404);
  // Embeddings: bad input before any model is looked up.
  auto embed_error = [&](const json& body) { return Error(backend_->Embeddings(body.dump())); };
  EXPECT_EQ(embed_error({{"input", "x"}}).param, "model");
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}}).param, "input");
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}, {"input", json::array()}}).param, "input");
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}, {"input", {""}}}).param, "input");
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}, {"input", {1, 2}}}).kind, ErrorKind::kUnsupported);
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}, {"input", json::array({"x"})}, {"dimensions", 8}}).kind,
            ErrorKind::kUnsupported);
  EXPECT_EQ(embed_error({{"model", "lathe.default-v1"}, {"input", "x"}, {"encoding_format", "hex"}}).param,
            "encoding_format");
  json many = {{"model", "lathe.default-v1"}, {"input", json::array()}};
  for (int i = 0; i < 65; ++i) many["input"].push_back("x");
  EXPECT_EQ(embed_error(many).param, "input");
  EXPECT_EQ(embed_error({{"model", "no-such-model"}, {"input", "x"}}).kind, ErrorKind::kModelNotFound);
  // Every foundation model is listed (no custom models, deployments or imports here).
  EXPECT_EQ(Ok(backend_->ListModels())["data"].size(), bedrock_->catalog().List().size());
}

// The gateway: /v1/ with an API key reaches the OpenAI service; every refusal in its shape.
class OpenAIGatewayTest : public OpenAIBackendTest {
 protected:
  void SetUp() override {
    OpenAIBackendTest::SetUp();
    aws::GatewayOptions options;
    options.account = kAccount;
    options.bearer_tokens = {{kKey, "AKIDOPENAI"}};
    gateway_ = std::make_unique<aws::Gateway>(options, [](const std::string& id) -> std::optional<aws::AccessKey> {
      if (id != "AKIDOPENAI") return std::nullopt;
      return aws::AccessKey{"secret", aws::Caller{id, kAccount, "arn:aws:iam::123456789012:root", kAccount}};
    });
    gateway_->Add(std::make_shared<OpenAIService>(backend_.get()));
  }
  http::Response Send(const std::string& method, const std::string& target, const std::string& body,
                      std::vector<http::Header> headers) {
    http::StringBodyReader reader(body);
    http::Request request;
    request.method = method;
    request.target = target;
    request.headers = std::move(headers);
    request.body = &reader;
    http::Response response;
    gateway_->Handle(request, response);
    return response;
  }
  std::unique_ptr<aws::Gateway> gateway_;
};

TEST_F(OpenAIGatewayTest, KeysRoutesAndRefusals) {
  const http::Header auth{"Authorization", std::string("Bearer ") + kKey};
  http::Response ok = Send("GET", "/v1/models", "", {auth});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["object"], "list");
  auto error_of = [](const http::Response& r) { return json::parse(r.body)["error"]; };
  http::Response missing = Send("GET", "/v1/models", "", {});
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(error_of(missing)["code"], "invalid_api_key");
  for (const std::string& forged : std::vector<std::string>{"Bearer wrong-key-0123456789", "Bearer ", "Basic dXNlcjpwYXNz",
                                   "Bearer " + std::string(10000, 'k')}) {
    http::Response r = Send("GET", "/v1/models", "", {{"Authorization", forged}});
    EXPECT_EQ(r.status, 401) << forged.substr(0, 40);
    EXPECT_EQ(error_of(r)["code"], "invalid_api_key");
  }
  http::Response unknown = Send("GET", "/v1/nothing", "", {auth});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_of(unknown)["code"], "unknown_url");
  http::Response model = Send("GET", "/v1/models/group%3Aalias", "", {auth});
  EXPECT_EQ(model.status, 404);
  EXPECT_EQ(error_of(model)["code"], "model_not_found");
  http::Response big = Send("POST", "/v1/chat/completions", std::string((4u << 20) + 1, ' '),
                            {auth, {"Content-Type", "application/json"}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(error_of(big)["code"], "request_too_large");
  http::Response bad = Send("POST", "/v1/chat/completions", "{\"model\": 1}", {auth});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(error_of(bad)["param"], "model");
}

}  // namespace
}  // namespace lathe::openai
