// The threads that run handlers. The reactor submits connections whose request head is complete;
// a worker serves one exchange and hands the connection back (the reactor owns every socket).
// HTTP/2 streams come as tasks instead: their connection stays with the reactor, and the task
// talks to it through its stream's queues (h2_stream.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "http/connection.h"

namespace lathe::http {

class WorkerPool {
 public:
  // `serve` runs one exchange (true: keep the connection); `wake` tells the reactor that a
  // connection came back.
  WorkerPool(size_t threads, size_t max_queued, std::function<bool(Connection*)> serve,
             std::function<void()> wake);
  ~WorkerPool();  // joins

  // False when max_queued connections already wait for a worker.
  bool Submit(Connection* connection);
  // The same queue and bound for a task that returns no connection (one HTTP/2 stream).
  bool SubmitTask(std::function<void()> task);
  // Connections whose exchange ended; close_after_worker says whether to keep them.
  std::vector<Connection*> TakeReturned();
  // Connections still waiting for a worker (they never started): for shutdown. Waiting tasks
  // are dropped.
  std::vector<Connection*> TakeQueued();
  // Waits until no exchange runs or `timeout` passes; true when none runs.
  bool WaitIdle(std::chrono::milliseconds timeout);
  void Join();

 private:
  void Loop();

  const size_t max_queued_;
  std::function<bool(Connection*)> serve_;
  std::function<void()> wake_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  struct Job {
    Connection* connection = nullptr;  // an HTTP/1.1 exchange, or
    std::function<void()> task;        // an HTTP/2 stream
  };
  bool Push(Job job);

  std::deque<Job> queue_;
  std::vector<Connection*> returned_;
  size_t busy_ = 0;
  bool exit_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lathe::http
