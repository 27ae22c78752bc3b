// Data-parallel training over torch.distributed's c10d: the ranks of one job meet at a TCPStore
// that rank 0 hosts, then exchange tensors through a Gloo process group (CPU; NCCL would need a
// CUDA build of libtorch, which Debian's is not). The trainer uses it to average gradients and
// to hand rank 0's starting state to the others. Internal to the engine.
//
// Failures are bounded in time: every collective and the rendezvous give up after the timeout,
// and a rank that dies closes its sockets, which fails its peers' next collective at once. Each
// rank also beats a heartbeat counter in the store, so that after a failure the survivors can
// name the rank that went away instead of quoting Gloo's socket error alone.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/trainer.h"

namespace lathe::engine {

class DataParallelGroup {
 public:
  // Joins the group of `world_size` ranks (blocks until all have joined, at most the timeout).
  // Rank 0 hosts the store and, once it listens, calls options.start_local_ranks (when set).
  static Result<std::unique_ptr<DataParallelGroup>> Join(const DataParallelOptions& options, int world_size);
  virtual ~DataParallelGroup() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums each tensor over all ranks, in place (every rank gets the same values). Tensors of one
  // dtype travel as one flat buffer: one collective, not one per parameter.
  virtual Status AllReduceSum(std::vector<at::Tensor>* tensors) = 0;
  // Rank 0's bytes to every rank.
  virtual Status Broadcast(std::string* bytes) = 0;
  // Tells the others this rank is leaving after an error of its own (so they do not report it
  // as lost), with the reason.
  virtual void Leave(const std::string& why) = 0;
};

// Whether this build can train with workers > 1 (it was compiled with Gloo's headers).
bool DataParallelAvailable();

// Rows [begin, end) of a batch of `rows` that `rank` of `world_size` trains on: contiguous,
// sizes differing by at most one, the first ranks taking the extra rows.
std::pair<size_t, size_t> RankSlice(size_t rows, int rank, int world_size);

// A few named byte strings as one (for Broadcast), and back.
std::string PackFields(const std::vector<std::string>& fields);
Result<std::vector<std::string>> UnpackFields(const std::string& packed, size_t count);

}  // namespace lathe::engine
