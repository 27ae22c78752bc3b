// FunctionRuntime's child processes: what a function leaves running dies with the server, even a
// server killed with SIGKILL, and the function's own end (exit status, signal, memory used) still
// reaches the server through the group's keeper process.
#include "services/lambda/runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "test_util.h"

namespace lathe::lambda {
namespace {

using lathe::testing::TempDir;

bool Alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (stat.empty()) return false;
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

pid_t ReadPid(const std::string& path) {
  std::ifstream f(path);
  pid_t pid = 0;
  f >> pid;
  return pid;
}

class LambdaRuntimeTest : public ::testing::Test {
 protected:
  // A `provided` function whose bootstrap is `script`.
  FunctionSpec Provided(const std::string& script, int timeout_seconds = 30) {
    const std::string task = dir_.path() + "/task";
    ::mkdir(task.c_str(), 0755);
    {
      std::ofstream f(task + "/bootstrap");
      f << script;
    }
    ::chmod((task + "/bootstrap").c_str(), 0755);
    FunctionSpec fn;
    fn.name = "fn";
    fn.arn = "arn:aws:lambda:us-east-1:123456789012:function:fn";
    fn.uid = "fn-uid";
    fn.runtime = "provided.al2023";
    fn.handler = "bootstrap";
    fn.task_dir = task;
    fn.timeout_seconds = timeout_seconds;
    fn.memory_mb = 256;
    fn.region = "us-east-1";
    return fn;
  }
  RuntimeOptions Options() {
    RuntimeOptions o;
    o.root = dir_.path() + "/lambda";
    return o;
  }
  TempDir dir_;
};

TEST_F(LambdaRuntimeTest, WhatAFunctionStartedDiesWithAServerKilledBySigkill) {
  // The "server" is a child of this test that runs the invocation; the function leaves a
  // `sleep` in the background (in its process group) and sleeps itself.
  const std::string pids = dir_.path() + "/pids";
  const FunctionSpec fn = Provided("#!/bin/sh\nsleep 60 &\necho \"$$ $!\" > " + pids + ".tmp\nmv " + pids +
                                   ".tmp " + pids + "\nsleep 60\n");
  const RuntimeOptions options = Options();
  const pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    FunctionRuntime runtime(options);
    if (!runtime.Prepare().ok()) ::_exit(1);
    (void)runtime.Invoke(fn, "{}", "req-1");
    ::_exit(0);
  }
  for (int i = 0; i < 2000 && ReadPid(pids) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::ifstream f(pids);
  pid_t function = 0, background = 0;
  f >> function >> background;
  ASSERT_GT(function, 0);
  ASSERT_GT(background, 0);
  ASSERT_TRUE(Alive(function) && Alive(background));
  ::kill(server, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(server, &status, 0), server);
  bool gone = false;
  for (int i = 0; i < 400 && !gone; ++i) {
    gone = !Alive(function) && !Alive(background);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!gone) {  // leave nothing behind (the function's group), then fail
    const pid_t group = ::getpgid(background);
    if (group > 0 && group != ::getpgid(0)) ::kill(-group, SIGKILL);
    ::kill(function, SIGKILL);
    ::kill(background, SIGKILL);
  }
  EXPECT_TRUE(gone) << "the function (" << function << ") or its background sleep (" << background
                    << ") outlived the server";
}

TEST_F(LambdaRuntimeTest, AChildThatLeftTheGroupDiesWhenTheFunctionReturns) {
  // setsid() takes the background sleep out of the function's process group, where the group's
  // SIGKILL cannot reach it; the keeper, a child subreaper, inherits it and kills it.
  const std::string pid_file = dir_.path() + "/escaped";
  const FunctionSpec fn = Provided("#!/bin/sh\nsetsid sh -c 'echo $$ > " + pid_file + ".tmp; mv " + pid_file +
                                   ".tmp " + pid_file + "; exec sleep 60' </dev/null >/dev/null 2>&1 &\n"
                                   "while [ ! -s " + pid_file + " ]; do sleep 0.05; done\necho 1\n");
  FunctionRuntime runtime(Options());
  ASSERT_TRUE(runtime.Prepare().ok());
  auto out = runtime.Invoke(fn, "{}", "req-escape");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->function_error) << out->payload;
  const pid_t escaped = ReadPid(pid_file);
  ASSERT_GT(escaped, 0);
  EXPECT_NE(::getpgid(escaped), ::getpgid(0));
  bool gone = false;
  for (int i = 0; i < 400 && !gone; ++i) {
    gone = !Alive(escaped);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!gone) ::kill(escaped, SIGKILL);
  EXPECT_TRUE(gone) << "the function's setsid child (" << escaped << ") outlived the invocation";
}

TEST_F(LambdaRuntimeTest, TheFunctionsStatusAndMemoryReachTheServerThroughTheKeeper) {
  FunctionRuntime runtime(Options());
  ASSERT_TRUE(runtime.Prepare().ok());
  // Killed by a signal: reported as that signal, not as the keeper's own end.
  auto out = runtime.Invoke(Provided("#!/bin/sh\nkill -USR1 $$\n"), "{}", "req-2");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->error_type, "Runtime.ExitError");
  EXPECT_NE(out->payload.find("signal: User defined signal 1"), std::string::npos) << out->payload;
  out = runtime.Invoke(Provided("#!/bin/sh\nexit 7\n"), "{}", "req-3");
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->payload.find("exit status 7"), std::string::npos) << out->payload;
  // The memory the function used, as its REPORT line gives it.
  if (std::system("python3 -c 'pass' >/dev/null 2>&1") == 0) {
    out = runtime.Invoke(
        Provided("#!/bin/sh\nexec python3 -c \"x = bytearray(80 << 20); x[::4096] = b'1' * len(x[::4096]); "
                 "print('{}')\"\n"),
        "{}", "req-4");
    ASSERT_TRUE(out.ok());
    EXPECT_FALSE(out->function_error) << out->payload;
    const size_t at = out->log_tail.find("Max Memory Used: ");
    ASSERT_NE(at, std::string::npos) << out->log_tail;
    EXPECT_GE(std::stoi(out->log_tail.substr(at + 17)), 80) << out->log_tail;
  }
}

}  // namespace
}  // namespace lathe::lambda
