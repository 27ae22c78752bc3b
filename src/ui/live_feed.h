// What makes the pages live without each of them polling: one thread looks at the stores every
// poll_ms (the outbox's new events, the running jobs' progress, the running executions' last
// history event) and, when anything changed, hands every open feed a new "state" message as a
// server-sent event (/ui/api/events). Pages refetch what a change concerns. The poller also
// keeps each running job's training loss as it saw it, step by step (the step CSV is written
// only at the end of each epoch), so a job's curve grows while it trains.
//
// Bounds (docs/serve.md, Limits): max_clients open feeds (each holds one of the server's handler
// threads); a keep-alive comment every 15 s (a client gone is noticed then); 20,000 samples per
// job, 16 jobs remembered.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/message.h"
#include "ui/backends.h"

namespace lathe::ui {

inline constexpr size_t kMaxSamplesPerJob = 20000;
inline constexpr size_t kMaxSampledJobs = 16;
inline constexpr size_t kMaxWatchedExecutions = 200;
inline constexpr int64_t kKeepAliveMs = 15000;

struct LossSample {
  int64_t step = 0;
  double loss = 0;
};

class LiveFeed {
 public:
  LiveFeed(Backends backends, size_t max_clients, int64_t poll_ms);
  ~LiveFeed();
  void Start();
  // Ends the poller and every open feed (their next read returns the end).
  void Stop();

  // Who a feed is for: its session (a key naming it, not its id) and whether the session is
  // still live, asked at each wake without marking it used (a logout or expiry ends the feed).
  struct Subscriber {
    std::string session_key;
    std::function<bool()> alive = [] { return true; };
  };
  enum class Subscribed { kOk, kTooManyFeeds, kTooManyForSession };
  // Makes `response` an event stream of this feed: the current state at once, then each change.
  // Else, leaving the response untouched: max_clients feeds are open, or max_per_session of
  // this session's.
  Subscribed Subscribe(http::Response* response, Subscriber subscriber);
  void set_max_per_session(size_t n) { max_per_session_ = n; }
  // One look at the stores (the poller's step; tests call it).
  void PollOnce();
  // Something the stores do not show changed (the overview's costs were recounted, a session
  // logged out): a new version for every feed, so the pages that show it fetch it again and
  // the feeds of ended sessions end.
  void Changed();
  // {"version", "outboxSeq", "topics": {source: seq}, "jobs": {id: progress}, "executions": {arn: lastEventId}}
  nlohmann::json State();
  // The training losses seen for a job with step > after_step, in step order.
  std::vector<LossSample> Samples(const std::string& job_id, int64_t after_step);
  size_t clients();

 private:
  class Client;
  void Run();
  // Waits for a version past `seen`, the stop, or the keep-alive time; the SSE text to send.
  bool NextMessage(uint64_t* seen, const std::function<bool()>& alive, std::string* chunk);

  Backends backends_;
  size_t max_clients_;
  int64_t poll_ms_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool started_ = false;
  size_t clients_ = 0;
  size_t max_per_session_ = 3;
  std::map<std::string, size_t> session_clients_;  // session key -> open feeds
  uint64_t version_ = 1;
  int64_t outbox_seq_ = 0;
  nlohmann::json topics_ = nlohmann::json::object();  // event source -> last seq
  nlohmann::json jobs_ = nlohmann::json::object();
  nlohmann::json executions_ = nlohmann::json::object();
  std::map<std::string, std::deque<LossSample>> samples_;
  std::map<std::string, int64_t> sampled_at_;  // job -> when last sampled (forgetting the oldest)
  std::thread thread_;
};

}  // namespace lathe::ui
