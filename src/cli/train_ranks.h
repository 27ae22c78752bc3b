// The other ranks of `lathe train --workers N` on this machine: rank 0 (the command the user or
// the job runner started) re-executes its own command line once per rank 1..N-1, adding
// --rank R --master 127.0.0.1:PORT. The children die with rank 0 (PR_SET_PDEATHSIG), so a
// stopped or killed job leaves none behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::cli {

class LocalRanks {
 public:
  LocalRanks() = default;
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;
  ~LocalRanks();  // kills and reaps any rank still running

  // Starts ranks 1..world_size-1 joining `master`.
  Status Start(const std::string& master, int world_size);
  // After rank 0 succeeded: waits up to timeout_seconds for the others to exit. Returns why any
  // of them failed (empty when all exited 0).
  std::string Wait(int timeout_seconds);
  // After rank 0 failed: what became of the ranks that already ended ("rank 1 (pid 42) was
  // killed by signal 9"), then the others are killed, so the error is the last thing printed.
  std::string Stop();

 private:
  struct Rank {
    int rank;
    pid_t pid;
    bool done = false;
    int status = 0;
  };
  std::string Describe(const Rank& r) const;
  std::vector<Rank> ranks_;
};

// Threads for each of `ranks` processes sharing this machine's cores.
int ThreadsPerRank(int ranks);

}  // namespace lathe::cli
