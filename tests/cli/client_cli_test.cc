// The client commands (lathe jobs|models list|throughput|invoke|chat) against a real `lathe serve`
// child process, serving the real stories260K checkpoint as a local foundation model.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "serve_process.h"
#include "test_util.h"

namespace lathe {
namespace {

using nlohmann::json;
using testing::ReadFile;
using testing::RunLatheBinary;
using testing::ServeOptions;
using testing::ServeProcess;
using testing::SharedDir;
using testing::TempDir;

constexpr const char* kKeyId = "LATHECLIENTTEST0001";
constexpr const char* kSecret = "client-test-secret-0123456789abcdefghijkl";
constexpr const char* kModelId = "lathe.stories-260k";

// Sets an environment variable for one scope, then puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_.empty() ? ::unsetenv(name_.c_str()) : ::setenv(name_.c_str(), old_.c_str(), 1); }

 private:
  std::string name_, old_;
};

// `lathe serve` with this test's keys, serving per `config`.
ServeOptions WithKeys(const std::string& data_dir, const std::string& config, rlim_t max_file_bytes = 0) {
  return {.data_dir = data_dir, .config = config, .access_key_id = kKeyId, .secret_access_key = kSecret,
          .max_file_bytes = max_file_bytes};
}

// build/lathe with stdin fed from text.
int RunWithStdin(const std::string& input, const std::string& args, std::string* out, std::string* err) {
  TempDir tmp;
  const std::string cmd = std::string(LATHE_BINARY) + " " + args + " <" + tmp.Write("in", input) + " >" +
                          tmp.File("out") + " 2>" + tmp.File("err");
  const int status = std::system(cmd.c_str());
  *out = ReadFile(tmp.File("out"));
  *err = ReadFile(tmp.File("err"));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ClientCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (SharedDir().empty()) return;
    tmp_ = new TempDir;
    const std::string src = SharedDir() + "/models/stories260K", model = tmp_->File("stories260K");
    std::string out, err;
    if (RunLatheBinary("models import " + src + "/stories260K.bin --tokenizer " + src + "/tok512.model --out " + model,
                       &out, &err) != 0) {
      setup_error_ = "models import failed: " + err;
      return;
    }
    // fileRoots: jobs read and write in the tests' temporary folders (TempDir makes them there).
    const std::string config = tmp_->Write(
        "serve.json", json{{"models", {{kModelId, model}}},
                           {"fileRoots", {std::filesystem::temp_directory_path().string()}}}.dump());
    server_ = new ServeProcess(WithKeys(tmp_->File("data"), config));
    if (server_->url().empty()) setup_error_ = "lathe serve did not start: " + ReadFile(tmp_->File("data-serve.log"));
  }
  static void TearDownTestSuite() {
    delete server_;  // stops the server before its data directory goes
    delete tmp_;
    server_ = nullptr;
    tmp_ = nullptr;
  }
  void SetUp() override {
    LATHE_REQUIRE_SHARED("models/stories260K");
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }
  // The client's environment, as a user sets it; HOME and LATHE_HOME lead to no other keys.
  ScopedEnv endpoint_{"AWS_ENDPOINT_URL", server_ ? server_->url().c_str() : ""};
  ScopedEnv key_{"AWS_ACCESS_KEY_ID", kKeyId}, secret_{"AWS_SECRET_ACCESS_KEY", kSecret};
  ScopedEnv home_{"HOME", "/nonexistent"}, lathe_home_{"LATHE_HOME", "/nonexistent"};
  ScopedEnv aws_file_{"AWS_SHARED_CREDENTIALS_FILE", nullptr};

  static TempDir* tmp_;
  static ServeProcess* server_;
  static std::string setup_error_;
};
TempDir* ClientCli::tmp_ = nullptr;
ServeProcess* ClientCli::server_ = nullptr;
std::string ClientCli::setup_error_;

TEST_F(ClientCli, ModelsListShowsTheLocalFoundationModel) {
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models list", &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, "Foundation models")) << out;
  EXPECT_TRUE(Has(out, kModelId)) << out;
  ASSERT_EQ(RunLatheBinary("models list --json", &out, &err), 0) << err;
  auto j = json::parse(out);
  bool found = false;
  for (const auto& m : j["foundationModels"]) found |= m["modelId"] == kModelId;
  EXPECT_TRUE(found) << out;
  EXPECT_TRUE(j["customModels"].is_array());
}

TEST_F(ClientCli, InvokeAnswersTextInBothFormatsAndByArn) {
  std::string out, err;
  ASSERT_EQ(RunLatheBinary(std::string("invoke ") + kModelId + " 'Once upon a time' --format titan --temperature 0 "
                           "--max-tokens 12 --json", &out, &err), 0) << err;
  auto titan = json::parse(out);
  EXPECT_GT(titan["results"][0]["tokenCount"].get<int>(), 0) << out;
  const std::string text = titan["results"][0]["outputText"];
  EXPECT_FALSE(text.empty()) << out;

  // The plain output is the answer's text; the ARN travels percent-encoded and still verifies.
  const std::string arn = std::string("arn:aws:bedrock:us-east-1::foundation-model/") + kModelId;
  ASSERT_EQ(RunLatheBinary("invoke " + arn + " 'Once upon a time' --format titan --temperature 0 --max-tokens 12",
                           &out, &err), 0) << err;
  EXPECT_EQ(out, text + "\n");
  ASSERT_EQ(RunLatheBinary("invoke " + arn + " 'Tell me a story' --max-tokens 10 --json", &out, &err), 0) << err;
  auto anthropic = json::parse(out);
  EXPECT_EQ(anthropic["type"], "message") << out;
  EXPECT_GT(anthropic["usage"]["output_tokens"].get<int>(), 0) << out;
}

TEST_F(ClientCli, JobLifecycleFromCreateToServingTheCustomModel) {
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("jobs list", &out, &err), 0) << err;
  EXPECT_EQ(out, "No jobs.\n");

  std::string records;
  for (int i = 0; i < 12; ++i)
    records += json{{"prompt", "Q: what is " + std::to_string(i) + " plus one?\nA:"},
                    {"completion", " It is " + std::to_string(i + 1) + "."}}.dump() + "\n";
  TempDir work;
  const std::string train = work.Write("train.jsonl", records), val = work.Write("val.jsonl", records);
  ASSERT_EQ(RunLatheBinary(std::string("jobs create --name tiny-ft --model-name tiny-v1 --base-model ") + kModelId +
                           " --train " + train + " --validation " + val + " --output " + work.File("out") +
                           " --set epochCount=1 --set batchSize=4", &out, &err), 0) << err;
  const std::string job_arn = out.substr(0, out.find('\n'));
  EXPECT_TRUE(Has(job_arn, ":model-customization-job/")) << out;

  ASSERT_EQ(RunLatheBinary("jobs list", &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, "tiny-ft") && Has(out, job_arn)) << out;

  ASSERT_EQ(RunLatheBinary("jobs watch " + job_arn, &out, &err), 0) << out << err;
  EXPECT_TRUE(Has(out, "Completed: tiny-ft")) << out;
  EXPECT_TRUE(Has(out, "training loss")) << out;
  EXPECT_TRUE(Has(out, "output model: arn:aws:bedrock:")) << out;
  EXPECT_TRUE(Has(out, "step 3/3, epoch 1/1")) << out;  // 12 records, batches of 4

  // The server's progress extra: the whole run, step by step.
  ASSERT_EQ(RunLatheBinary("jobs get tiny-ft --json", &out, &err), 0) << err;
  auto job = json::parse(out);
  EXPECT_EQ(job["status"], "Completed");
  ASSERT_TRUE(job.contains("latheProgress")) << out;
  EXPECT_EQ(job["latheProgress"]["step"], job["latheProgress"]["totalSteps"]) << out;
  const std::string model_arn = job["outputModelArn"];
  ASSERT_EQ(RunLatheBinary("jobs list --status Completed --name-contains tiny", &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, job_arn)) << out;
  ASSERT_EQ(RunLatheBinary("jobs stop tiny-ft", &out, &err), 1);
  EXPECT_TRUE(Has(err, "lathe: error: ConflictException:")) << err;

  ASSERT_EQ(RunLatheBinary("models list --custom", &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, "tiny-v1") && Has(out, model_arn)) << out;

  // Serve it, talk to it, take it down.
  ASSERT_EQ(RunLatheBinary("throughput create --name tiny-pt --model " + model_arn + " --wait", &out, &err), 0)
      << out << err;
  EXPECT_TRUE(Has(out, "InService")) << out;
  ASSERT_EQ(RunLatheBinary("throughput list", &out, &err), 0) << err;
  EXPECT_TRUE(Has(out, "tiny-pt") && Has(out, "InService")) << out;
  ASSERT_EQ(RunLatheBinary("invoke tiny-pt 'Q: what is 3 plus one?\nA:' --format titan --max-tokens 8", &out, &err), 0)
      << err;
  EXPECT_GT(out.size(), 1u);
  ASSERT_EQ(RunWithStdin("Hello there\n\n/reset\nWhat is 2 plus one?\n/exit\nnever sent\n",
                         "chat tiny-pt --max-tokens 8 --json", &out, &err), 0) << err;
  int answers = 0;
  for (size_t p = 0, q; (q = out.find('\n', p)) != std::string::npos; p = q + 1, ++answers)
    EXPECT_EQ(json::parse(out.substr(p, q - p))["output"]["message"]["role"], "assistant") << out;
  EXPECT_EQ(answers, 2) << out;
  // A model in use cannot be deleted; after its throughput is gone it can.
  EXPECT_EQ(RunLatheBinary("models delete " + model_arn, &out, &err), 1);
  ASSERT_EQ(RunLatheBinary("throughput delete tiny-pt", &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary("models delete " + model_arn, &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary("models list --custom", &out, &err), 0) << err;
  EXPECT_FALSE(Has(out, model_arn)) << out;

  // A long job, stopped: watch reports it and exits 1.
  ASSERT_EQ(RunLatheBinary(std::string("jobs create --name long-ft --model-name long-v1 --base-model ") + kModelId +
                           " --train " + train + " --output " + work.File("out2") +
                           " --set epochCount=100 --set batchSize=1", &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary("jobs stop long-ft", &out, &err), 0) << err;
  EXPECT_EQ(out, "Stopping long-ft\n");
  EXPECT_EQ(RunLatheBinary("jobs watch long-ft", &out, &err), 1) << out << err;
  EXPECT_TRUE(Has(out, "Stopped: long-ft")) << out;
}

std::string Records(int n) {
  std::string records;
  for (int i = 0; i < n; ++i)
    records += json{{"prompt", "Q: what is " + std::to_string(i) + " plus one?\nA:"},
                    {"completion", " It is " + std::to_string(i + 1) + "."}}.dump() + "\n";
  return records;
}

TEST_F(ClientCli, OutputsThatCannotBeWrittenFailTheJob) {
  // The output location cannot take the job's folder (a file holds its name): the copy's error
  // was ignored and the job ended Completed with no outputs.
  std::string out, err;
  TempDir work;
  const std::string train = work.Write("train.jsonl", Records(12));
  // A long job holds the runner, so the second waits in the queue while its folder is blocked.
  ASSERT_EQ(RunLatheBinary(std::string("jobs create --name busy-ft --model-name busy-v1 --base-model ") + kModelId +
                           " --train " + train + " --output " + work.File("busy") +
                           " --set epochCount=100 --set batchSize=1", &out, &err), 0) << err;
  ASSERT_EQ(RunLatheBinary(std::string("jobs create --name blocked-ft --model-name blocked-v1 --base-model ") + kModelId +
                           " --train " + train + " --output " + work.File("blocked") + " --set epochCount=1",
                           &out, &err), 0) << err;
  const std::string arn = out.substr(0, out.find('\n'));
  const std::string blocked = work.File("blocked") + "/model-customization-job-" + arn.substr(arn.rfind('/') + 1);
  // Nothing is created at request time (fileRoots): the test makes the location and blocks it.
  EXPECT_FALSE(std::filesystem::exists(work.File("blocked")));
  std::filesystem::create_directories(work.File("blocked"));
  work.Write("blocked/model-customization-job-" + arn.substr(arn.rfind('/') + 1), "in the way");
  ASSERT_EQ(RunLatheBinary("jobs stop busy-ft", &out, &err), 0) << err;
  EXPECT_EQ(RunLatheBinary("jobs watch blocked-ft", &out, &err), 1) << out << err;
  ASSERT_EQ(RunLatheBinary("jobs get blocked-ft --json", &out, &err), 0) << err;
  auto job = json::parse(out);
  EXPECT_EQ(job["status"], "Failed") << out;
  EXPECT_TRUE(Has(job.value("failureMessage", ""), "The job's outputs could not be written to " + blocked)) << out;
  EXPECT_FALSE(job.contains("outputModelArn")) << out;
  EXPECT_EQ(ReadFile(blocked), "in the way");
}

TEST_F(ClientCli, AFullDiskDuringTrainingNamesTheFileInTheFailure) {
  // A server whose files cannot pass 768 KiB: a full fine-tune's first checkpoint (~1 MB) cannot
  // be written. The worker used to abort and the job said only "killed by signal 6". The limit
  // is the whole server's: its database's write-ahead log (a few hundred KiB) must fit under it.
  TempDir data;
  ServeProcess full(WithKeys(data.File("data"), tmp_->File("serve.json"), 768 << 10));
  ASSERT_FALSE(full.url().empty()) << ReadFile(data.File("data-serve.log"));
  ScopedEnv endpoint("AWS_ENDPOINT_URL", full.url().c_str());
  std::string out, err;
  const std::string train = data.Write("train.jsonl", Records(8));
  ASSERT_EQ(RunLatheBinary(std::string("jobs create --name full-ft --model-name full-v1 --base-model ") + kModelId +
                           " --train " + train + " --output " + data.File("out") +
                           " --set method=full --set epochCount=1 --set batchSize=4 --set checkpointSteps=1",
                           &out, &err), 0) << err;
  const std::string arn = out.substr(0, out.find('\n'));
  EXPECT_EQ(RunLatheBinary("jobs watch full-ft", &out, &err), 1) << out << err;
  ASSERT_EQ(RunLatheBinary("jobs get full-ft --json", &out, &err), 0) << err;
  auto job = json::parse(out);
  EXPECT_EQ(job["status"], "Failed") << out;
  const std::string why = job.value("failureMessage", "");
  const std::string checkpoint = data.File("data") + "/jobs/" + arn.substr(arn.rfind('/') + 1) + "/run/checkpoint/params-1.pt";
  EXPECT_TRUE(Has(why, "cannot write " + checkpoint)) << why;
  EXPECT_TRUE(Has(why, "File too large")) << why;
  EXPECT_FALSE(Has(why, "signal")) << why;
}

TEST_F(ClientCli, ChatKeepsTheConversation) {
  std::string out, err;
  ASSERT_EQ(RunWithStdin("Once upon a time\nAnd then?\n", std::string("chat ") + kModelId +
                         " --system 'You tell stories.' --max-tokens 6 --json", &out, &err), 0) << err;
  auto second = json::parse(out.substr(out.find('\n') + 1));
  auto first = json::parse(out.substr(0, out.find('\n')));
  // The second turn carried the first question and answer: its prompt is longer.
  EXPECT_GT(second["usage"]["inputTokens"].get<int>(), first["usage"]["inputTokens"].get<int>() + 3) << out;
}

TEST_F(ClientCli, ServerErrorsAreNamedAndExitOne) {
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("jobs get no-such-job", &out, &err), 1);
  EXPECT_TRUE(Has(err, "lathe: error: ResourceNotFoundException: ")) << err;
  EXPECT_EQ(RunLatheBinary("jobs create --name x --model-name y --base-model no.such-model --train /dev/null --output /tmp/o",
                           &out, &err), 1);
  EXPECT_TRUE(Has(err, "ResourceNotFoundException")) << err;
  {
    ScopedEnv wrong("AWS_SECRET_ACCESS_KEY", "not-the-secret-0000000000000000000000000");
    EXPECT_EQ(RunLatheBinary("jobs list", &out, &err), 1);
    EXPECT_TRUE(Has(err, "lathe: error: InvalidSignatureException: ")) << err;
  }
}

TEST_F(ClientCli, KeysComeFromTheServersCredentialsFile) {
  ScopedEnv no_key("AWS_ACCESS_KEY_ID", nullptr), no_secret("AWS_SECRET_ACCESS_KEY", nullptr);
  TempDir data;
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("jobs list --data-dir " + data.path(), &out, &err), 1);  // none: unsigned
  EXPECT_TRUE(Has(err, "MissingAuthenticationTokenException")) << err;
  data.Write("credentials.json", json{{"accessKeyId", kKeyId}, {"secretAccessKey", kSecret}}.dump());
  EXPECT_EQ(RunLatheBinary("jobs list --json --data-dir " + data.path(), &out, &err), 0) << err;
  EXPECT_TRUE(json::parse(out)["modelCustomizationJobSummaries"].is_array()) << out;
}

TEST(ClientCliOffline, AServerThatIsDownGetsAHint) {
  // A port nothing listens on: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("jobs list --endpoint http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), &out, &err), 1);
  EXPECT_TRUE(Has(err, "cannot reach lathe serve at http://127.0.0.1:")) << err;
  EXPECT_TRUE(Has(err, "Start it with `lathe serve`")) << err;
}

TEST(ClientCliOffline, EveryClientCommandHasHelp) {
  for (const char* cmd : {"jobs create", "jobs get", "jobs list", "jobs stop", "jobs watch", "models list",
                          "models delete", "throughput create", "throughput get", "throughput list",
                          "throughput update", "throughput delete", "invoke", "chat"}) {
    std::string out;
    EXPECT_EQ(RunLatheBinary(std::string(cmd) + " --help", &out), 0) << cmd;
    EXPECT_TRUE(Has(out, "--endpoint") && Has(out, "--json")) << cmd << ": " << out;
    EXPECT_TRUE(Has(out, "Example:")) << cmd << ": " << out;
  }
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("jobs create --name x", &out, &err), 2);  // required options missing
}

}  // namespace
}  // namespace lathe
