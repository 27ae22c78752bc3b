// `lathe eval run` as users run it: two local models on stories260K, the three reports with every
// case, progress as JSON lines, and the errors a user meets first.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve_process.h"
#include "test_util.h"

namespace lathe {
namespace {

using testing::ReadFile;
using testing::RunLatheBinary;
using testing::SharedDir;
using testing::TempDir;

constexpr const char* kStories =
    R"({"prompt": "Once upon a time", "referenceResponse": ", there was a little girl named Lily.", "expectedKeywords": ["Lily", "girl"], "category": "openings"}
{"prompt": "One day, a little boy", "referenceResponse": " went to the park to play.", "expectedKeywords": ["park"], "category": "openings"}
{"prompt": "The cat was", "referenceResponse": " very happy.", "category": "animals"}
{"messages": [{"role": "user", "content": "Tell me about a dog."}], "referenceResponse": "The dog liked to run.", "category": "animals"}
{"prompt": "Lily and Tom", "completion": " were best friends."}
)";

// The first Ctrl-C asks the run to stop after the batch in flight; a second one ends it at once
// (it used to do nothing, leaving a long batch to run out).
TEST(EvalRunCli, ASecondInterruptEndsTheRunAtOnce) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string src = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + src + "/stories260K.bin --tokenizer " + src + "/tok512.model --out " +
                               tmp.File("m"),
                           &out, &err),
            0)
      << err;
  std::string cases;
  for (int i = 0; i < 64; ++i) cases += R"({"prompt": "Once upon a time )" + std::to_string(i) + R"("})" "\n";
  const std::string set = tmp.Write("many.jsonl", cases);
  // Long batches (temperature 1: no early end), progress after each.
  const std::string cmd = std::string(LATHE_BINARY) + " eval run --dataset " + set + " --model " + tmp.File("m") +
                          " --out " + tmp.File("r") + " --max-tokens 400 --batch-size 16 --temperature 1 " +
                          "--no-reference-loss --progress-json >/dev/null 2>" + tmp.File("err.txt");
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), nullptr);
    _exit(127);
  }
  // After the first batch's progress line the handlers are in place and a batch is in flight.
  bool progressed = false;
  for (int i = 0; i < 3000 && !progressed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    progressed = ReadFile(tmp.File("err.txt")).find("casesDone") != std::string::npos;
  }
  ASSERT_TRUE(progressed) << ReadFile(tmp.File("err.txt"));
  kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // two pending SIGINTs would merge
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status) << ": " << ReadFile(tmp.File("err.txt"));
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(std::filesystem::exists(tmp.File("r/report.json")));
}

TEST(EvalRunCli, TwoLocalModelsWriteTheThreeReportsWithEveryCase) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string src = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + src + "/stories260K.bin --tokenizer " + src + "/tok512.model --out " +
                               tmp.File("m"),
                           &out, &err),
            0)
      << err;
  const std::string set = tmp.Write("stories.jsonl", kStories);
  const int rc = RunLatheBinary("eval run --dataset " + set + " --model base=" + tmp.File("m") + " --model " +
                                    tmp.File("m") + " --out " + tmp.File("report") +
                                    " --max-tokens 16 --batch-size 2 --progress-json",
                                &out, &err);
  ASSERT_EQ(rc, 0) << out << err;
  for (const char* name : {"report.json", "report.md", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(tmp.File(std::string("report/") + name))) << name;
  auto report = nlohmann::json::parse(ReadFile(tmp.File("report/report.json")));
  ASSERT_EQ(report["models"].size(), 2u);
  EXPECT_EQ(report["models"][0]["label"], "base");
  EXPECT_EQ(report["models"][1]["label"], "m");  // a folder's name when no LABEL= is given
  for (const auto& m : report["models"]) {
    ASSERT_EQ(m["cases"].size(), 5u);
    EXPECT_EQ(m["failed"], 0);
    EXPECT_TRUE(m["metrics"].contains("referenceLoss")) << m["metrics"].dump();
  }
  EXPECT_EQ(report["testSet"]["cases"].size(), 5u);
  EXPECT_EQ(report["settings"]["maxTokens"], 16);
  // The same model twice at temperature 0: the same answers, so no difference on any metric.
  ASSERT_EQ(report["comparisons"].size(), 1u);
  for (const auto& [metric, c] : report["comparisons"][0]["metrics"].items())
    EXPECT_EQ(c["ties"], c["n"]) << metric;

  // Progress: one JSON object a line, the last one complete.
  std::istringstream lines(err);
  nlohmann::json last;
  size_t progress_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("casesDone")) continue;
    ++progress_lines;
    last = j;
  }
  EXPECT_EQ(progress_lines, 6u) << err;  // 3 batches (2, 2, 1) per model
  EXPECT_EQ(last["casesDone"], 10);
  EXPECT_EQ(last["casesTotal"], 10);
  EXPECT_EQ(last["modelIndex"], 1);
  EXPECT_EQ(last["modelsTotal"], 2);
  EXPECT_EQ(last["etaSeconds"], 0);
  EXPECT_TRUE(last.contains("elapsedSeconds"));
  // The summary table: each model's overall score, and the comparison's verdicts.
  EXPECT_NE(out.find("overall score"), std::string::npos) << out;
  EXPECT_NE(out.find("m vs base"), std::string::npos) << out;
  EXPECT_NE(out.find("no significant difference"), std::string::npos) << out;
  EXPECT_NE(out.find(tmp.File("report") + "/report.html"), std::string::npos) << out;
}

// The same model served by `lathe serve` (one InvokeModel request per case) and loaded locally
// (batched): greedy, both give the same answers, the served one through Titan and Anthropic bodies.
TEST(EvalRunCli, AServedModelAnswersThroughInvokeModelAsTheLocalOneDoes) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string src = SharedDir() + "/models/stories260K";
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("models import " + src + "/stories260K.bin --tokenizer " + src + "/tok512.model --out " +
                               tmp.File("m"),
                           &out, &err),
            0)
      << err;
  const std::string config =
      tmp.Write("serve.json", nlohmann::json({{"models", {{"stories", tmp.File("m")}}}}).dump());
  testing::ServeProcess server({tmp.File("data"), config});
  ASSERT_FALSE(server.url().empty()) << ReadFile(tmp.File("data") + "-serve.log");
  const std::string set = tmp.Write("stories.jsonl", kStories);
  ASSERT_EQ(RunLatheBinary("eval run --dataset " + set + " --endpoint " + server.url() + " --model served=stories" +
                               " --model local=" + tmp.File("m") + " --out " + tmp.File("report") + " --max-tokens 12",
                           &out, &err),
            0)
      << out << err;
  auto report = nlohmann::json::parse(ReadFile(tmp.File("report/report.json")));
  const auto& served = report["models"][0]["cases"];
  const auto& local = report["models"][1]["cases"];
  ASSERT_EQ(served.size(), 5u);
  for (size_t i = 0; i < served.size(); ++i) {
    EXPECT_EQ(served[i]["ok"], true) << served[i].dump();
    EXPECT_EQ(served[i]["text"], local[i]["text"]) << i;
    EXPECT_EQ(served[i]["outputTokens"], local[i]["outputTokens"]) << i;
  }
  EXPECT_EQ(report["models"][0]["resolved"], "");  // served: nothing local
  EXPECT_FALSE(report["models"][0]["metrics"].contains("referenceLoss"));  // no logits over HTTP
  // A model the server does not know fails every case, each with the server's words, and the
  // run still reports.
  ASSERT_EQ(RunLatheBinary("eval run --dataset " + set + " --endpoint " + server.url() + " --model nope-model" +
                               " --out " + tmp.File("report2"),
                           &out, &err),
            0)
      << out << err;
  auto failed = nlohmann::json::parse(ReadFile(tmp.File("report2/report.json")));
  EXPECT_EQ(failed["models"][0]["failed"], 5);
  EXPECT_NE(out.find("5 answer(s) failed"), std::string::npos) << out;
}

TEST(EvalRunCli, AModelThatDoesNotExistIsNamed) {
  TempDir tmp;
  const std::string set = tmp.Write("s.jsonl", "{\"prompt\": \"hi\", \"referenceResponse\": \"hello\"}\n");
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + " --model " + tmp.File("nope") + " --out " + tmp.File("r"),
                           &out, &err),
            1);
  EXPECT_NE(err.find("model directory " + tmp.File("nope") + " does not exist"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(tmp.File("r/report.json")));
  // A folder that is not a model is named too.
  std::filesystem::create_directories(tmp.File("empty"));
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + " --model " + tmp.File("empty") + " --out " + tmp.File("r"),
                           &out, &err),
            1);
  EXPECT_NE(err.find("model " + tmp.File("empty")), std::string::npos) << err;
  // Settings out of range are refused before any model loads.
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + " --model " + tmp.File("nope") + " --out " + tmp.File("r") +
                               " --batch-size 0",
                           &out, &err),
            1);
  EXPECT_NE(err.find("batch size must be between 1 and 64"), std::string::npos) << err;
  std::string many;
  for (int i = 0; i < 9; ++i) many += " --model " + tmp.File("nope");
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + many + " --out " + tmp.File("r"), &out, &err), 1);
  EXPECT_NE(err.find("9 models given; at most 8"), std::string::npos) << err;
  // The command line itself: --dataset must exist, --model and --out are required.
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + tmp.File("missing.jsonl") + " --model x --out r", &out, &err), 2);
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + " --out r", &out, &err), 2);
}

TEST(EvalRunCli, AMalformedTestSetIsReportedAtItsLines) {
  TempDir tmp;
  const std::string set = tmp.Write("bad.jsonl",
                                    "{\"prompt\": \"fine\", \"referenceResponse\": \"ok\"}\n"
                                    "{\"prompt\": \"broken\", \n"
                                    "{\"referenceResponse\": \"no prompt\"}\n");
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + set + " --model " + tmp.File("nope") + " --out " + tmp.File("r"),
                           &out, &err),
            1);
  EXPECT_NE(out.find(set + ":2"), std::string::npos) << out << err;
  EXPECT_NE(out.find(set + ":3"), std::string::npos) << out << err;
  EXPECT_NE(out.find("nothing was evaluated"), std::string::npos) << out;
  // An empty file is no test set either.
  const std::string empty = tmp.Write("empty.jsonl", "");
  EXPECT_EQ(RunLatheBinary("eval run --dataset " + empty + " --model x --out " + tmp.File("r"), &out, &err), 1);
  EXPECT_NE(out.find(empty), std::string::npos) << out << err;
}

}  // namespace
}  // namespace lathe
