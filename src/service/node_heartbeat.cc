#include "service/node_heartbeat.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/arn.h"

namespace lathe::service {

std::string ThisHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

NodeHeartbeat::NodeHeartbeat(store::NodeRegistry* registry, store::NodeInfo node, std::chrono::milliseconds period)
    : registry_(registry), node_(std::move(node)), period_(period) {
  if (node_.started_ms <= 0) node_.started_ms = NowMillis();
}

NodeHeartbeat::~NodeHeartbeat() { Stop(); }

Status NodeHeartbeat::Start() {
  LATHE_RETURN_IF_ERROR(store::CheckNodeInfo(node_));
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return Status::Ok();
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void NodeHeartbeat::Stop(bool forget) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (forget)
    if (Status s = registry_->Forget(node_.id); !s.ok() && s.code() != Status::Code::kNotFound)
      spdlog::warn("node {}: could not remove its row from the store: {}", node_.id, s.ToString());
}

void NodeHeartbeat::set_detail(nlohmann::json detail) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    node_.detail = std::move(detail);
    beat_now_ = true;
  }
  wake_.notify_all();
}

Status NodeHeartbeat::last_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void NodeHeartbeat::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    beat_now_ = false;
    const store::NodeInfo node = node_;
    lock.unlock();
    Status s = registry_->Beat(node);  // outside the lock: the store may be slow
    lock.lock();
    if (!s.ok() && last_.ok()) spdlog::warn("node {}: heartbeat failed (retrying every {} ms): {}", node.id,
                                            period_.count(), s.ToString());
    else if (s.ok() && !last_.ok()) spdlog::info("node {}: heartbeat recorded again", node.id);
    last_ = s;
    wake_.wait_for(lock, period_, [this] { return stopping_ || beat_now_; });
  }
}

}  // namespace lathe::service
