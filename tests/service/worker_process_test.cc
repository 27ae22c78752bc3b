// The training worker's last words reach the server even when its log cannot be written (the
// data directory is full): that is how a job's failureMessage names the real cause.
#include "service/worker_process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;

WorkerProcess RunToEnd(const std::string& script, const std::string& log) {
  auto w = WorkerProcess::Start({"/bin/sh", "-c", script}, log, 0);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  while (!w->Poll()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return std::move(*w);
}

// As `lathe train` fails: a progress bar rewritten with '\r', then the error on a line of its own.
constexpr const char* kFailingWorker =
    "printf '\\r[##..] step 1/4\\r[###.] step 2/4'; printf '\\nlathe: error: cannot write /data/jobs/j/run/checkpoint/"
    "params-1.pt.tmp.7.0: No space left on device\\n' >&2; exit 1";

TEST(WorkerProcess, TheLastErrorLineComesFromItsOutputAndTheLog) {
  TempDir tmp;
  WorkerProcess w = RunToEnd(kFailingWorker, tmp.File("train.log"));
  EXPECT_EQ(w.exit_code(), 1);
  EXPECT_EQ(w.LastLine("lathe: error: "),
            "cannot write /data/jobs/j/run/checkpoint/params-1.pt.tmp.7.0: No space left on device");
  EXPECT_NE(ReadFile(tmp.File("train.log")).find("lathe: error: cannot write"), std::string::npos);
  EXPECT_EQ(w.log_error(), "");
}

TEST(WorkerProcess, ALogOnAFullDiskStillLeavesTheErrorLine) {
  // /dev/full: every write fails with ENOSPC, like a log on a full data directory.
  WorkerProcess w = RunToEnd(kFailingWorker, "/dev/full");
  EXPECT_EQ(w.exit_code(), 1);
  EXPECT_EQ(w.LastLine("lathe: error: "),
            "cannot write /data/jobs/j/run/checkpoint/params-1.pt.tmp.7.0: No space left on device");
  EXPECT_EQ(w.log_error(), "cannot write /dev/full: No space left on device");
}

TEST(WorkerProcess, OutputBeyondThePipeBufferDoesNotStallTheWorker) {
  TempDir tmp;
  // 1 MB of output, far over a pipe's 64 KiB: it must be drained as it comes, and the tail kept.
  WorkerProcess w = RunToEnd("head -c 1000000 /dev/zero | tr '\\0' x; echo; echo 'lathe: error: last'; exit 3",
                             tmp.File("train.log"));
  EXPECT_EQ(w.exit_code(), 3);
  EXPECT_EQ(w.LastLine("lathe: error: "), "last");
  EXPECT_EQ(ReadFile(tmp.File("train.log")).size(), 1000000u + 1 + 19);
}


// `lathe costs`: the CPU time of the worker and of what it ran and waited for (a trainer's own
// helpers), from wait4's rusage; zero for a worker that only slept.
TEST(WorkerProcess, ItsUsageCountsTheCpuTimeOfItAndItsChildren) {
  TempDir tmp;
  // The busy loop runs in a grandchild the worker waits for.
  WorkerProcess busy = RunToEnd("sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'", tmp.File("busy.log"));
  EXPECT_EQ(busy.exit_code(), 0);
  EXPECT_GT(busy.usage().cpu_ms, 0);
  EXPECT_GT(busy.usage().wall_ms, 0);
  WorkerProcess idle = RunToEnd("sleep 0.2", tmp.File("idle.log"));
  EXPECT_GE(idle.usage().wall_ms, 200);
  EXPECT_LT(idle.usage().cpu_ms, idle.usage().wall_ms);
}

}  // namespace
}  // namespace lathe::service
