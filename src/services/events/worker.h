// The thread that runs the scheduler and the dispatcher while `lathe serve` runs: a pass every
// `poll_ms` (the outbox is read by sequence number, so an idle pass is one indexed query), or
// at once after Wake().
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "services/events/dispatcher.h"
#include "services/events/scheduler.h"

namespace lathe::events {

class EventsWorker {
 public:
  EventsWorker(EventDispatcher* dispatcher, EventScheduler* scheduler, int poll_ms = 20)
      : dispatcher_(dispatcher), scheduler_(scheduler), poll_ms_(poll_ms) {}
  ~EventsWorker() { Stop(); }
  void Start();
  // Finishes the pass under way and joins; pending deliveries stay in the store for the next start.
  void Stop();
  void Wake();

 private:
  void Loop();
  EventDispatcher* dispatcher_;
  EventScheduler* scheduler_;
  int poll_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace lathe::events
