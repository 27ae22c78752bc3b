#include "services/sns/delivery_worker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <optional>

#include "core/arn.h"
#include "core/env.h"
#include "services/sns/message_format.h"

namespace lathe::sns {
namespace {

constexpr size_t kBatch = 256;                // deliveries read per pass
constexpr int64_t kIdlePollMs = 1000;         // retries become due without a wake-up
constexpr size_t kMaxErrorLength = 500;

int SignatureVersion(const Topic& topic) {
  auto it = topic.attributes.find("SignatureVersion");
  return it != topic.attributes.end() && it->second == "2" ? 2 : 1;
}

std::string DisplayNameOr(const Topic& topic, const std::string& fallback) {
  auto it = topic.attributes.find("DisplayName");
  return it != topic.attributes.end() && !it->second.empty() ? it->second : fallback;
}

// "20260102-150405-1a2b3c4d": sorts by time; the same for every attempt of one delivery, so a
// retry rewrites its file instead of adding one.
std::string OutboxName(const Delivery& d) {
  std::time_t t = static_cast<std::time_t>(d.created_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::string id;
  for (char c : d.id)
    if (c != '-' && id.size() < 12) id += c;
  return std::string(buf) + "-" + id;
}

}  // namespace

std::string OutboxDir(const std::string& data_dir) { return data_dir + "/notifications/outbox"; }

DeliveryWorker::DeliveryWorker(SnsBackend* backend, const SigningKey* key, DeliveryTransport* transport,
                               DeliveryOptions options)
    : backend_(backend), key_(key), transport_(transport), options_(std::move(options)) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void DeliveryWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void DeliveryWorker::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      woken_ = false;
    }
    RunOnce(NowMillis());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(kIdlePollMs), [this] { return stop_ || woken_; });
    if (stop_) return;
  }
}

size_t DeliveryWorker::RunOnce(int64_t now_ms) {
  Result<std::vector<Delivery>> pending = backend_->PendingDeliveries(kBatch);
  if (!pending.ok()) {
    spdlog::error("sns: cannot read the delivery queue: {}", pending.status().message());
    return 0;
  }
  size_t attempted = 0;
  for (Delivery& d : *pending) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    if (d.next_attempt_ms > now_ms) continue;
    Result<Subscription> sub = backend_->GetSubscription(d.subscription_arn);
    if (!sub.ok()) {
      // Unsubscribed (or its topic deleted) since: nothing to deliver to, as in AWS.
      d.status = "dropped";
      d.last_error = "the subscription no longer exists";
      d.done_ms = now_ms;
      if (Status s = backend_->SaveDelivery(d); !s.ok()) spdlog::error("sns: {}", s.message());
      continue;
    }
    ++attempted;
    ++d.attempts;
    Status s = Attempt(d, *sub, now_ms);
    if (s.ok()) {
      d.status = "delivered";
      d.done_ms = NowMillis();
      d.last_error.clear();
      spdlog::info("sns: {} {} delivered to {} {} (attempt {})", d.type, d.message_id.empty() ? d.id : d.message_id,
                   d.protocol, d.endpoint, d.attempts);
    } else {
      d.last_error = s.message().substr(0, kMaxErrorLength);
      if (d.attempts > d.retry.num_retries) {
        d.status = "failed";
        d.done_ms = NowMillis();
        spdlog::warn("sns: {} {} to {} {} failed after {} attempts: {}", d.type, d.message_id, d.protocol, d.endpoint,
                     d.attempts, d.last_error);
      } else {
        const int64_t delay_s = d.retry.DelayBeforeRetry(d.attempts);
        d.next_attempt_ms = now_ms + delay_s * 1000;
        spdlog::warn("sns: {} {} to {} {} failed (attempt {} of {}), retrying in {} s: {}", d.type, d.message_id,
                     d.protocol, d.endpoint, d.attempts, d.retry.num_retries + 1, delay_s, d.last_error);
      }
    }
    if (Status saved = backend_->SaveDelivery(d); !saved.ok())
      spdlog::error("sns: could not record delivery {}: {}", d.id, saved.message());
  }
  return attempted;
}

Status DeliveryWorker::Attempt(const Delivery& d, const Subscription& sub, int64_t now_ms) {
  Result<Topic> topic = backend_->GetTopic(d.topic_arn);
  if (!topic.ok()) return Status::NotFound("the topic no longer exists");
  std::optional<Message> message;
  if (d.type == "Notification") {
    Result<Message> m = backend_->GetMessage(d.message_id);
    if (!m.ok()) return Status::NotFound("message " + d.message_id + " is missing from the store");
    message = *m;
  }
  const Message* m = message ? &*message : nullptr;
  if (sub.protocol == "http" || sub.protocol == "https") return SendHttp(d, sub, m, *topic);
  if (sub.protocol == "email" || sub.protocol == "email-json") return SendEmail(d, sub, m, *topic);
  return Status::Unsupported("lathe does not deliver to " + sub.protocol);
}

Status DeliveryWorker::SendHttp(const Delivery& d, const Subscription& sub, const Message* m, const Topic& topic) {
  const bool raw = m && sub.attributes.count("RawMessageDelivery") && sub.attributes.at("RawMessageDelivery") == "true";
  EnvelopeInput in;
  in.type = d.type;
  in.topic_arn = d.topic_arn;
  if (m) {
    in.message_id = m->id;
    in.subject = m->subject;
    in.message = m->BodyFor(sub.protocol);
    in.timestamp_ms = m->timestamp_ms;
    in.subscription_arn = sub.arn;
    in.attributes = m->attributes;
  } else {
    in.message_id = d.id;
    in.message = ConfirmationMessage(d.topic_arn);
    in.timestamp_ms = d.created_ms;
    in.token = sub.token;
  }
  const HeaderList headers = HttpHeaders(d.type, in.message_id, d.topic_arn, sub.arn, raw);
  if (raw) return transport_->PostHttp(sub.endpoint, headers, in.message);
  Result<nlohmann::json> envelope = BuildEnvelope(in, *key_, SignatureVersion(topic), base_url_);
  if (!envelope.ok()) return envelope.status();
  return transport_->PostHttp(sub.endpoint, headers, envelope->dump(2));
}

Status DeliveryWorker::SendEmail(const Delivery& d, const Subscription& sub, const Message* m, const Topic& topic) {
  Email mail;
  const std::string from_address = options_.smtp.from.empty() ? options_.default_from : options_.smtp.from;
  mail.from = DisplayNameOr(topic, "AWS Notifications") + " <" + from_address + ">";
  mail.to = sub.endpoint;
  mail.date_ms = m ? m->timestamp_ms : d.created_ms;
  mail.extra_headers = {{"X-Lathe-Message-Type", d.type},
                        {"X-Lathe-Topic-Arn", d.topic_arn},
                        {"X-Lathe-Subscription-Arn", sub.arn},
                        {"X-Lathe-Message-Id", m ? m->id : d.id},
                        {"X-Lathe-Delivery-Id", d.id}};
  if (!m) {
    const std::string url = SubscribeUrl(base_url_, d.topic_arn, sub.token);
    mail.subject = "AWS Notification - Subscription Confirmation";
    mail.body = "You have chosen to subscribe to the topic: \n" + d.topic_arn +
                "\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is "
                "necessary): \nConfirm subscription: " + url + "\n";
  } else if (sub.protocol == "email-json") {
    EnvelopeInput in;
    in.type = d.type;
    in.topic_arn = d.topic_arn;
    in.message_id = m->id;
    in.subject = m->subject;
    in.message = m->BodyFor(sub.protocol);
    in.timestamp_ms = m->timestamp_ms;
    in.subscription_arn = sub.arn;
    in.attributes = m->attributes;
    Result<nlohmann::json> envelope = BuildEnvelope(in, *key_, SignatureVersion(topic), base_url_);
    if (!envelope.ok()) return envelope.status();
    mail.subject = m->subject.empty() ? "AWS Notification Message" : m->subject;
    mail.body = envelope->dump(2);
  } else {
    mail.subject = m->subject.empty() ? "AWS Notification Message" : m->subject;
    mail.body = m->BodyFor(sub.protocol) +
                "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link "
                "below to unsubscribe:\n" + UnsubscribeUrl(base_url_, sub.arn) +
                "\n\nPlease do not reply directly to this email. This message was sent by lathe's SNS.\n";
  }
  const std::string eml = FormatEml(mail);
  Env* env = Env::Default();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(options_.outbox_dir));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, options_.outbox_dir + "/" + OutboxName(d) + ".eml", eml));
  if (options_.smtp.configured()) return transport_->SendMail(options_.smtp, sub.endpoint, eml);
  return Status::Ok();
}

}  // namespace lathe::sns
