#include "engine/data_parallel.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include <torch/serialize.h>

#ifdef LATHE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace lathe::engine {

std::pair<size_t, size_t> RankSlice(size_t rows, int rank, int world_size) {
  const size_t w = static_cast<size_t>(world_size), r = static_cast<size_t>(rank);
  const size_t base = rows / w, extra = rows % w;
  const size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

std::string PackFields(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    const uint64_t n = f.size();
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out += f;
  }
  return out;
}

Result<std::vector<std::string>> UnpackFields(const std::string& packed, size_t count) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    uint64_t n = 0;
    if (packed.size() - at < sizeof n) return Status::Corruption("rank 0's starting state is cut short");
    std::memcpy(&n, packed.data() + at, sizeof n);
    at += sizeof n;
    if (packed.size() - at < n) return Status::Corruption("rank 0's starting state is cut short");
    out.push_back(packed.substr(at, n));
    at += n;
  }
  return out;
}

namespace {

Result<std::string> TorchBytes(const std::vector<at::Tensor>& value) {
  try {
    std::ostringstream out;
    torch::save(value, out);
    return out.str();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot serialize the starting state: ") + e.what());
  }
}

}  // namespace

int64_t BatchTargets(const std::vector<TrainingSequence>& seqs, const std::vector<size_t>& rows) {
  int64_t n = 0;
  for (size_t i : rows)
    for (size_t j = 1; j < seqs[i].target.size(); ++j) n += seqs[i].target[j] != 0;
  return n;
}

Status SyncStep(DataParallelGroup* dp, std::vector<at::Tensor>& params, double* step_loss, int64_t* step_targets,
                bool stop_requested, bool* stop_agreed) {
  std::vector<at::Tensor> grads;
  for (auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);  // a rank with no rows in this step
    grads.push_back(p.grad());
  }
  LATHE_RETURN_IF_ERROR(dp->AllReduceSum(&grads));
  std::vector<at::Tensor> stats = {
      at::tensor({*step_loss, static_cast<double>(*step_targets), stop_requested ? 1.0 : 0.0}, at::kDouble)};
  LATHE_RETURN_IF_ERROR(dp->AllReduceSum(&stats));
  *step_loss = stats[0][0].item<double>();
  *step_targets = stats[0][1].item<int64_t>();
  *stop_agreed = stats[0][2].item<double>() > 0;
  return Status::Ok();
}

Status ShareStartingState(DataParallelGroup* dp, const std::string& job, const std::vector<at::Tensor>& params,
                          StartingState* s) {
  std::string packed;
  if (dp->rank() == 0) {
    if (s->params.empty()) {
      std::vector<at::Tensor> current;
      for (const auto& p : params) current.push_back(p.detach());
      auto bytes = TorchBytes(current);
      if (!bytes.ok()) return bytes.status();
      s->params = std::move(bytes).value();
    }
    packed = PackFields({job, s->state, s->params, s->optim, s->rng});
  }
  LATHE_RETURN_IF_ERROR(dp->Broadcast(&packed));
  if (dp->rank() == 0) return Status::Ok();
  auto fields = UnpackFields(packed, 5);
  if (!fields.ok()) return fields.status();
  if ((*fields)[0] != job)
    return Status::InvalidArgument("rank " + std::to_string(dp->rank()) + " is not running rank 0's job: the "
                                   "hyperparameters, LoRA targets, training or validation data differ");
  *s = {(*fields)[0], (*fields)[1], (*fields)[2], (*fields)[3], (*fields)[4]};
  return Status::Ok();
}

#ifndef LATHE_HAVE_GLOO

bool DataParallelAvailable() { return false; }

Result<std::unique_ptr<DataParallelGroup>> DataParallelGroup::Join(const DataParallelOptions&, int) {
  return Status::Unsupported("this build of lathe has no Gloo (it was built without libgloo-dev's headers), so it "
                             "cannot train with workers > 1");
}

#else

namespace {

using std::chrono::milliseconds;
constexpr milliseconds kBeatEvery{250};
constexpr milliseconds kBeatWatch{1500};  // silence that means a rank is gone: six beats missed

std::string BeatKey(int rank) { return "lathe/beat/" + std::to_string(rank); }
std::string LeftKey(int rank) { return "lathe/left/" + std::to_string(rank); }
std::string JoinedKey(int rank) { return "lathe/joined/" + std::to_string(rank); }

class GlooGroup final : public DataParallelGroup {
 public:
  ~GlooGroup() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (beat_.joinable()) beat_.join();
    // After a failed collective Gloo's context may wait for peers that are gone; the process is
    // about to end with the error anyway, so the group is let go instead of destroyed.
    if (failed_) (void)group_.release();
  }

  Status Start(const DataParallelOptions& o, int world_size) {
    rank_ = o.rank;
    world_ = world_size;
    timeout_ = std::chrono::seconds(o.timeout_seconds);
    std::string host = "127.0.0.1";
    int port = 0;
    if (!o.master.empty()) {
      const size_t colon = o.master.rfind(':');
      if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("--master must be HOST:PORT, got " + o.master);
      host = o.master.substr(0, colon);
      port = std::atoi(o.master.c_str() + colon + 1);
      if (port <= 0 || port > 65535) return Status::InvalidArgument("--master " + o.master + ": the port must be 1..65535");
    }
    where_ = o.master.empty() ? host : o.master;
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(port);
      so.isServer = rank_ == 0;
      so.numWorkers = static_cast<size_t>(world_);
      so.waitWorkers = false;  // the process group's rendezvous waits, with the names of the missing
      so.timeout = timeout_;
      store_ = c10::make_intrusive<c10d::TCPStore>(host, so);
      where_ = host + ":" + std::to_string(store_->getPort());
      if (rank_ == 0 && o.master.empty() && o.start_local_ranks) LATHE_RETURN_IF_ERROR(o.start_local_ranks(where_));
      // The heartbeat has a connection of its own: a TCPStore client is one socket, and the main
      // thread may be blocked on it in the rendezvous.
      c10d::TCPStoreOptions co = so;
      co.isServer = false;
      co.port = store_->getPort();  // rank 0 may have asked for any free one
      co.timeout = kBeatWatch;
      beat_store_ = c10::make_intrusive<c10d::TCPStore>(host, co);
      store_->set(JoinedKey(rank_), {1});
      beat_ = std::thread([this] { Beat(); });
      auto options = c10d::ProcessGroupGloo::Options::create(timeout_);
      const char* interface = std::getenv("LATHE_GLOO_INTERFACE");
      options->devices.push_back(interface != nullptr ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                 : host == "127.0.0.1" || host == "localhost"
                                     ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank_, world_, options);
    } catch (const std::exception& e) {
      return Status::Unsupported("data-parallel rank " + std::to_string(rank_) + " could not join the group at " +
                                 where_ + MissingRanks() + ": " + FirstLine(e.what()));
    }
    return Status::Ok();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  Status AllReduceSum(std::vector<at::Tensor>* tensors) override {
    return Collective("all-reduce", [&] {
      std::vector<at::Tensor> flat = {at::cat(Flattened(*tensors))};
      group_->allreduce(flat)->wait();
      int64_t at = 0;
      for (auto& t : *tensors) {
        t.copy_(flat[0].narrow(0, at, t.numel()).view_as(t));
        at += t.numel();
      }
    });
  }

  Status Broadcast(std::string* bytes) override {
    return Collective("broadcast", [&] {
      std::vector<at::Tensor> size = {at::full({1}, static_cast<int64_t>(bytes->size()), at::kLong)};
      group_->broadcast(size)->wait();
      std::vector<at::Tensor> data = {at::empty({size[0].item<int64_t>()}, at::kByte)};
      if (rank_ == 0) std::memcpy(data[0].data_ptr(), bytes->data(), bytes->size());
      group_->broadcast(data)->wait();
      bytes->assign(static_cast<const char*>(data[0].data_ptr()), static_cast<size_t>(data[0].numel()));
    });
  }

  void Leave(const std::string& why) override {
    try {
      std::lock_guard<std::mutex> lock(beat_mu_);
      beat_store_->set(LeftKey(rank_), std::vector<uint8_t>(why.begin(), why.end()));
    } catch (const std::exception&) {
      // Nobody left to tell.
    }
  }

 private:
  static std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

  static std::vector<at::Tensor> Flattened(const std::vector<at::Tensor>& tensors) {
    std::vector<at::Tensor> out;
    for (const auto& t : tensors) out.push_back(t.reshape({-1}));
    return out;
  }

  template <typename F>
  Status Collective(const char* what, F&& run) {
    try {
      run();
      return Status::Ok();
    } catch (const std::exception& e) {
      failed_ = true;
      return Status::Internal("data-parallel training failed on rank " + std::to_string(rank_) + " of " +
                              std::to_string(world_) + ": " + LostRanks() + " (the " + what + " reported: " +
                              FirstLine(e.what()) + ")");
    }
  }

  // Who stopped beating: two readings of every counter, kBeatWatch apart.
  std::string LostRanks() {
    try {
      auto read = [&] {
        std::vector<int64_t> v;
        std::lock_guard<std::mutex> lock(beat_mu_);
        for (int r = 0; r < world_; ++r) v.push_back(beat_store_->add(BeatKey(r), 0));
        return v;
      };
      const auto before = read();
      std::this_thread::sleep_for(kBeatWatch);
      const auto after = read();
      std::string lost, left;
      std::lock_guard<std::mutex> lock(beat_mu_);
      for (int r = 0; r < world_; ++r) {
        if (r == rank_ || after[r] != before[r]) continue;
        if (beat_store_->check({LeftKey(r)})) {
          const auto why = beat_store_->get(LeftKey(r));
          left += "; rank " + std::to_string(r) + " stopped: " + std::string(why.begin(), why.end());
        } else {
          lost += (lost.empty() ? "" : ", ") + std::to_string(r);
        }
      }
      if (!lost.empty()) return "lost rank " + lost + " (no heartbeat for " + std::to_string(kBeatWatch.count()) + " ms)" + left;
      if (!left.empty()) return left.substr(2);
      return "no rank is lost, but a collective did not complete within " + std::to_string(timeout_.count() / 1000) +
             " s (a rank is stalled or the network is down)";
    } catch (const std::exception&) {
      return "lost rank 0 (it hosts the rendezvous store at " + where_ + ", which no longer answers)";
    }
  }

  // For a rendezvous that failed: the ranks that never announced themselves.
  std::string MissingRanks() {
    if (!store_) return "";
    try {
      std::string missing;
      for (int r = 0; r < world_; ++r)
        if (!store_->check({JoinedKey(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      return missing.empty() ? "" : " (rank " + missing + " did not join within " + std::to_string(timeout_.count() / 1000) + " s)";
    } catch (const std::exception&) {
      return " (its store does not answer)";
    }
  }

  void Beat() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      try {
        std::lock_guard<std::mutex> store_lock(beat_mu_);
        beat_store_->add(BeatKey(rank_), 1);
      } catch (const std::exception&) {
        // The store is gone (rank 0 is): the next collective fails and says so.
      }
      wake_.wait_for(lock, kBeatEvery, [this] { return stopping_; });
    }
  }

  int rank_ = 0, world_ = 1;
  milliseconds timeout_{30000};
  std::string where_;
  c10::intrusive_ptr<c10d::TCPStore> store_, beat_store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  bool failed_ = false;
  std::thread beat_;
  std::mutex mu_, beat_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace

bool DataParallelAvailable() { return true; }

Result<std::unique_ptr<DataParallelGroup>> DataParallelGroup::Join(const DataParallelOptions& options, int world_size) {
  auto group = std::make_unique<GlooGroup>();
  LATHE_RETURN_IF_ERROR(group->Start(options, world_size));
  return std::unique_ptr<DataParallelGroup>(std::move(group));
}

#endif

}  // namespace lathe::engine
