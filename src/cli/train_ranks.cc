#include "cli/train_ranks.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

namespace lathe::cli {
namespace {

// This process's own argument vector, as the kernel holds it (CLI11 has parsed it away).
std::vector<std::string> OwnArguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t p = 0; p < all.size();) {
    const size_t end = all.find('\0', p);
    args.push_back(all.substr(p, end == std::string::npos ? std::string::npos : end - p));
    if (end == std::string::npos) break;
    p = end + 1;
  }
  return args;
}

}  // namespace

int ThreadsPerRank(int ranks) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, ranks));
}

LocalRanks::~LocalRanks() { (void)Stop(); }

Status LocalRanks::Start(const std::string& master, int world_size) {
  const std::vector<std::string> own = OwnArguments();
  if (own.empty()) return Status::IOError("cannot read /proc/self/cmdline to start the other ranks");
  for (int r = 1; r < world_size; ++r) {
    std::vector<std::string> args = own;
    args.insert(args.end(), {"--rank", std::to_string(r), "--master", master});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Status::IOError("cannot start rank " + std::to_string(r) + ": fork failed");
    if (pid == 0) {  // only async-signal-safe calls until exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // rank 0 died between fork and prctl
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    ranks_.push_back({r, pid});
  }
  return Status::Ok();
}

std::string LocalRanks::Describe(const Rank& r) const {
  const std::string who = "rank " + std::to_string(r.rank) + " (pid " + std::to_string(r.pid) + ")";
  if (WIFSIGNALED(r.status)) return who + " was killed by signal " + std::to_string(WTERMSIG(r.status));
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0) return who + " exited with status " + std::to_string(WEXITSTATUS(r.status));
  return "";
}

std::string LocalRanks::Wait(int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::string failures;
  for (auto& r : ranks_) {
    while (!r.done) {
      if (::waitpid(r.pid, &r.status, WNOHANG) == r.pid) {
        r.done = true;
      } else if (std::chrono::steady_clock::now() > deadline) {
        ::kill(r.pid, SIGKILL);
        ::waitpid(r.pid, &r.status, 0);
        r.done = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    const std::string d = Describe(r);
    if (!d.empty()) failures += (failures.empty() ? "" : "; ") + d;
  }
  return failures;
}

std::string LocalRanks::Stop() {
  std::string ended;
  for (auto& r : ranks_) {
    if (r.done) continue;
    if (::waitpid(r.pid, &r.status, WNOHANG) == r.pid) {
      const std::string d = Describe(r);
      if (!d.empty()) ended += (ended.empty() ? "" : "; ") + d;
    } else {
      ::kill(r.pid, SIGKILL);
      ::waitpid(r.pid, &r.status, 0);
    }
    r.done = true;
  }
  return ended;
}

}  // namespace lathe::cli
