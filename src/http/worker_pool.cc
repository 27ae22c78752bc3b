#include "http/worker_pool.h"

#include <algorithm>

namespace lathe::http {

WorkerPool::WorkerPool(size_t threads, size_t max_queued, std::function<bool(Connection*)> serve,
                       std::function<void()> wake)
    : max_queued_(max_queued), serve_(std::move(serve)), wake_(std::move(wake)) {
  threads = std::max<size_t>(threads, 1);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Join(); }

void WorkerPool::Join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    exit_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool WorkerPool::Submit(Connection* connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exit_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(connection);
  }
  work_cv_.notify_one();
  return true;
}

std::vector<Connection*> WorkerPool::TakeReturned() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Connection*> out;
  out.swap(returned_);
  return out;
}

std::vector<Connection*> WorkerPool::TakeQueued() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Connection*> out(queue_.begin(), queue_.end());
  queue_.clear();
  return out;
}

bool WorkerPool::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return done_cv_.wait_for(lock, timeout, [this] { return busy_ == 0 && queue_.empty(); });
}

void WorkerPool::Loop() {
  while (true) {
    Connection* connection;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return exit_ || !queue_.empty(); });
      if (queue_.empty()) return;  // exiting, nothing left to serve
      connection = queue_.front();
      queue_.pop_front();
      ++busy_;
    }
    connection->close_after_worker = !serve_(connection);
    {
      std::lock_guard<std::mutex> lock(mu_);
      returned_.push_back(connection);
      --busy_;
    }
    done_cv_.notify_all();
    wake_();
  }
}

}  // namespace lathe::http
