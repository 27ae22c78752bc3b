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
#include "engine/training_data.h"

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

// A few byte strings as one (for Broadcast), and back.
std::string PackFields(const std::vector<std::string>& fields);
Result<std::vector<std::string>> UnpackFields(const std::string& packed, size_t count);

// The trainer's data-parallel steps.

// The loss's token count of a batch (what TrainingLoss reports as n), known to every rank
// without a forward pass: targets after each sequence's first token.
int64_t BatchTargets(const std::vector<TrainingSequence>& seqs, const std::vector<size_t>& rows);

// The end of a data-parallel step: gradients (each rank's share of the batch's mean) and the
// step's loss statistics summed over the ranks, so that every rank's optimizer steps with the
// same values, and whether any rank was asked to stop.
Status SyncStep(DataParallelGroup* dp, std::vector<at::Tensor>& params, double* step_loss, int64_t* step_targets,
                bool stop_requested, bool* stop_agreed);

// What rank 0 hands the other ranks before the first step: a checkpoint's files when it resumed
// one, and always the parameters, so that every rank starts from the same weights.
struct StartingState {
  std::string job, state, params, optim, rng;  // state empty: a fresh start
};

// Rank 0's starting state to the other ranks (`params` serialized when it has none), checking
// that they run the same job (`job`: what must be equal on every rank).
Status ShareStartingState(DataParallelGroup* dp, const std::string& job, const std::vector<at::Tensor>& params,
                          StartingState* s);

}  // namespace lathe::engine
