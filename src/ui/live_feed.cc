#include "ui/live_feed.h"

#include <chrono>

#include "core/arn.h"
#include "service/bedrock_service.h"
#include "store/execution_store.h"
#include "store/metadata_store.h"
#include "ui/json_fields.h"

namespace lathe::ui {

using json = nlohmann::json;

// One open feed; the count drops when the transport lets go of the stream.
class LiveFeed::Client {
 public:
  Client(LiveFeed* feed, Subscriber subscriber) : subscriber(std::move(subscriber)), feed_(feed) {}
  ~Client() {
    std::lock_guard<std::mutex> lock(feed_->mu_);
    --feed_->clients_;
    auto it = feed_->session_clients_.find(subscriber.session_key);
    if (it != feed_->session_clients_.end() && --it->second == 0) feed_->session_clients_.erase(it);
  }
  uint64_t seen = 0;
  const Subscriber subscriber;

 private:
  LiveFeed* feed_;
};

LiveFeed::LiveFeed(Backends backends, size_t max_clients, int64_t poll_ms)
    : backends_(std::move(backends)), max_clients_(max_clients), poll_ms_(poll_ms) {}

LiveFeed::~LiveFeed() { Stop(); }

void LiveFeed::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void LiveFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveFeed::Run() {
  while (true) {
    PollOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (changed_.wait_for(lock, std::chrono::milliseconds(poll_ms_), [this] { return stopping_; })) return;
  }
}

void LiveFeed::PollOnce() {
  // Read outside the lock: the stores take their own.
  int64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = outbox_seq_;
  }
  json topics = json::object();
  if (backends_.store) {
    for (int pages = 0; pages < 20; ++pages) {  // at most 10,000 events a look; the rest next time
      auto events = backends_.store->EventsAfter(seq, 500);
      if (!events.ok() || events->empty()) break;
      for (const auto& e : *events) topics[e.source] = e.seq;
      seq = events->back().seq;
      if (events->size() < 500) break;
    }
  }
  json jobs = json::object();
  std::vector<std::pair<std::string, LossSample>> seen;
  if (backends_.store) {
    store::MetadataStore::ListFilter filter;
    filter.statuses = {"InProgress", "Stopping"};
    filter.limit = 50;
    if (auto rows = backends_.store->List(service::kJobKind, filter); rows.ok())
      for (const auto& row : *rows) {
        json p = ObjectField(row.doc, "_progress");
        json details = ObjectField(row.doc, "statusDetails");
        jobs[row.id] = {{"status", row.status}, {"progress", p}, {"statusDetails", details}};
        if (AnyField(p, "loss").is_number() && AnyField(p, "step").is_number_integer())
          seen.push_back({row.id, LossSample{p["step"].get<int64_t>(), p["loss"].get<double>()}});
      }
  }
  json executions = json::object();
  if (backends_.executions)
    if (auto running = backends_.executions->Running(kMaxWatchedExecutions); running.ok())
      for (const std::string& arn : *running)
        if (auto last = backends_.executions->LastEventId(arn); last.ok()) executions[arn] = *last;

  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMillis();
  for (const auto& [id, sample] : seen) {
    auto& series = samples_[id];
    if (series.empty() || sample.step > series.back().step) {
      series.push_back(sample);
      if (series.size() > kMaxSamplesPerJob) series.pop_front();
    }
    sampled_at_[id] = now;
  }
  while (samples_.size() > kMaxSampledJobs) {
    auto oldest = sampled_at_.begin();
    for (auto it = sampled_at_.begin(); it != sampled_at_.end(); ++it)
      if (it->second < oldest->second) oldest = it;
    samples_.erase(oldest->first);
    sampled_at_.erase(oldest);
  }
  json merged = topics_;
  for (auto it = topics.begin(); it != topics.end(); ++it) merged[it.key()] = it.value();
  if (seq != outbox_seq_ || merged != topics_ || jobs != jobs_ || executions != executions_) {
    outbox_seq_ = seq;
    topics_ = std::move(merged);
    jobs_ = std::move(jobs);
    executions_ = std::move(executions);
    ++version_;
    changed_.notify_all();
  }
}

void LiveFeed::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++version_;
  changed_.notify_all();
}

json LiveFeed::State() {
  std::lock_guard<std::mutex> lock(mu_);
  return {{"version", version_}, {"outboxSeq", outbox_seq_}, {"topics", topics_}, {"jobs", jobs_},
          {"executions", executions_}};
}

std::vector<LossSample> LiveFeed::Samples(const std::string& job_id, int64_t after_step) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LossSample> out;
  auto it = samples_.find(job_id);
  if (it == samples_.end()) return out;
  for (const auto& s : it->second)
    if (s.step > after_step) out.push_back(s);
  return out;
}

size_t LiveFeed::clients() {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_;
}

bool LiveFeed::NextMessage(uint64_t* seen, const std::function<bool()>& alive, std::string* chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, std::chrono::milliseconds(kKeepAliveMs), [&] { return stopping_ || version_ != *seen; });
  if (stopping_) return false;
  lock.unlock();  // the session store has its own lock
  if (!alive()) return false;
  lock.lock();
  if (version_ == *seen) {
    *chunk = ": keep-alive\n\n";
    return true;
  }
  *seen = version_;
  const json state = {{"version", version_}, {"outboxSeq", outbox_seq_}, {"topics", topics_}, {"jobs", jobs_},
                      {"executions", executions_}};
  *chunk = "event: state\ndata: " + state.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  return true;
}

LiveFeed::Subscribed LiveFeed::Subscribe(http::Response* response, Subscriber subscriber) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || clients_ >= max_clients_) return Subscribed::kTooManyFeeds;
    if (session_clients_[subscriber.session_key] >= max_per_session_) return Subscribed::kTooManyForSession;
    ++clients_;
    ++session_clients_[subscriber.session_key];
  }
  auto client = std::make_shared<Client>(this, std::move(subscriber));
  response->status = 200;
  response->set_header("Content-Type", "text/event-stream; charset=utf-8");
  response->set_header("Cache-Control", "no-store");
  response->set_header("X-Accel-Buffering", "no");
  response->body_stream = [this, client, first = true](std::string* chunk) mutable -> Result<bool> {
    if (first) {
      first = false;
      chunk->append("retry: 2000\n\n");
    }
    std::string message;
    if (!NextMessage(&client->seen, client->subscriber.alive, &message)) return false;
    chunk->append(message);
    return true;
  };
  return Subscribed::kOk;
}

}  // namespace lathe::ui
