// Drains SNS's delivery queue (backend.h): one thread that takes the pending deliveries whose
// time has come and sends each once:
//   http/https   POST of the signed JSON envelope (or the raw message) with x-amz-sns-* headers
//   email(-json) an .eml file in DATA_DIR/notifications/outbox (always), then the SMTP relay
//                when one is configured
// A failure is retried per the delivery's RetryPolicy (delivery_policy.h); when the retries are
// spent the delivery is "failed" with its last error, which `lathe notifications --deliveries`
// and the log show. Every outcome is saved in the store before the next delivery, so a crash
// repeats at most the delivery in flight (at least once, as AWS).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "services/sns/backend.h"
#include "services/sns/signing.h"
#include "services/sns/transport.h"

namespace lathe::sns {

struct DeliveryOptions {
  std::string outbox_dir;  // DATA_DIR/notifications/outbox
  SmtpRelay smtp;
  // The From of email when no relay names one.
  std::string default_from = "no-reply@sns.lathe.localhost";
};

// The outbox folder under a data dir (the CLI reads it too).
std::string OutboxDir(const std::string& data_dir);

class DeliveryWorker {
 public:
  // All pointers outlive the worker.
  DeliveryWorker(SnsBackend* backend, const SigningKey* key, DeliveryTransport* transport, DeliveryOptions options);
  ~DeliveryWorker();

  // Where lathe's endpoint is reachable from subscribers ("http://127.0.0.1:8080"): the base of
  // SubscribeURL, UnsubscribeURL and SigningCertURL. Set before Start.
  void set_base_url(std::string url) { base_url_ = std::move(url); }
  const std::string& base_url() const { return base_url_; }

  void Start();
  void Stop();
  // Wakes the thread now (new deliveries were queued).
  void Wake();
  // One pass over the queue at `now_ms`: attempts each due delivery once. Returns how many were
  // attempted. The thread calls it; tests call it directly with their own clock.
  size_t RunOnce(int64_t now_ms);

 private:
  // Sends one delivery; OK when it arrived.
  Status Attempt(const Delivery& d, const Subscription& sub, int64_t now_ms);
  Status SendHttp(const Delivery& d, const Subscription& sub, const Message* message, const Topic& topic);
  Status SendEmail(const Delivery& d, const Subscription& sub, const Message* message, const Topic& topic);
  void Loop();

  SnsBackend* backend_;
  const SigningKey* key_;
  DeliveryTransport* transport_;
  DeliveryOptions options_;
  std::string base_url_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, woken_ = false;
};

}  // namespace lathe::sns
