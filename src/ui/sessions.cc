#include "ui/sessions.h"

#include <algorithm>

#include "core/sha256.h"
#include "ui/secure_random.h"

namespace lathe::ui {

bool SessionStore::ExpiredLocked(const Session& s, int64_t now_ms) const {
  return now_ms - s.last_used_ms > limits_.idle_ms || now_ms - s.created_ms > limits_.lifetime_ms;
}

void SessionStore::DropExpiredLocked(int64_t now_ms) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = ExpiredLocked(it->second, now_ms) ? sessions_.erase(it) : std::next(it);
}

SessionStore::Opened SessionStore::Open(const std::string& access_key_id, int64_t now_ms) {
  Opened out;
  out.id = RandomHex(kSessionIdHexDigits / 2);
  out.session.csrf_token = RandomHex(kCsrfTokenHexDigits / 2);
  out.session.access_key_id = access_key_id;
  out.session.created_ms = out.session.last_used_ms = now_ms;
  std::lock_guard<std::mutex> lock(mu_);
  DropExpiredLocked(now_ms);
  while (!sessions_.empty() && sessions_.size() >= limits_.max_sessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used_ms < b.second.last_used_ms;
    });
    sessions_.erase(oldest);
  }
  sessions_[Sha256Hex(out.id)] = out.session;
  return out;
}

std::optional<Session> SessionStore::Find(std::string_view id, int64_t now_ms) {
  if (!IsLowerHex(id, kSessionIdHexDigits)) return std::nullopt;
  const std::string key = Sha256Hex(id);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (ExpiredLocked(it->second, now_ms)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used_ms = now_ms;
  return it->second;
}

bool SessionStore::Alive(std::string_view id, int64_t now_ms) {
  if (!IsLowerHex(id, kSessionIdHexDigits)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(Sha256Hex(id));
  return it != sessions_.end() && !ExpiredLocked(it->second, now_ms);
}

void SessionStore::Close(std::string_view id) {
  if (!IsLowerHex(id, kSessionIdHexDigits)) return;
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(Sha256Hex(id));
}

size_t SessionStore::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

}  // namespace lathe::ui
