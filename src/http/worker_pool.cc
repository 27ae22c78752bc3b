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

bool WorkerPool::Submit(Connection* connection) { return Push(Job{connection, nullptr}); }

bool WorkerPool::SubmitTask(std::function<void()> task) { return Push(Job{nullptr, std::move(task)}); }

bool WorkerPool::Push(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exit_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
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
  std::vector<Connection*> out;
  for (const Job& job : queue_) {
    if (job.connection) out.push_back(job.connection);
  }
  queue_.clear();
  return out;
}

bool WorkerPool::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return done_cv_.wait_for(lock, timeout, [this] { return busy_ == 0 && queue_.empty(); });
}

void WorkerPool::Loop() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return exit_ || !queue_.empty(); });
      if (queue_.empty()) return;  // exiting, nothing left to serve
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    if (job.connection) {
      job.connection->close_after_worker = !serve_(job.connection);
    } else {
      job.task();
      job.task = nullptr;  // what the task holds is released before the pool counts it idle
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (job.connection) returned_.push_back(job.connection);
      --busy_;
    }
    done_cv_.notify_all();
    wake_();
  }
}

}  // namespace lathe::http
