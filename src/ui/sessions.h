// The dashboard's sessions: what an HttpOnly cookie names after a login. Server-side only (the
// cookie holds a random 256-bit id and nothing else), in memory (a restart logs everyone out),
// bounded in number and in time (docs/serve.md, Limits). The map is keyed by the SHA-256 of the
// id, so neither a lookup's timing nor a dump of the process's memory of the keys gives an id
// away. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lathe::ui {

inline constexpr size_t kSessionIdHexDigits = 64;  // 256 bits
inline constexpr size_t kCsrfTokenHexDigits = 64;

struct SessionLimits {
  size_t max_sessions = 64;                  // past it, the least recently used session ends
  int64_t idle_ms = 8ll * 3600 * 1000;       // no request for this long ends a session
  int64_t lifetime_ms = 24ll * 3600 * 1000;  // and none lives longer than this
};

struct Session {
  std::string csrf_token;     // sent back in X-CSRF-Token on every state-changing request
  std::string access_key_id;  // the key whose secret (or login link) opened it
  int64_t created_ms = 0, last_used_ms = 0;
};

class SessionStore {
 public:
  explicit SessionStore(SessionLimits limits = {}) : limits_(limits) {}

  struct Opened {
    std::string id;  // for the cookie; never stored
    Session session;
  };
  Opened Open(const std::string& access_key_id, int64_t now_ms);
  // The live session `id` names (and marks it used), or nullopt: unknown, malformed, idle too
  // long or too old (an expired one is removed).
  std::optional<Session> Find(std::string_view id, int64_t now_ms);
  // Whether `id` names a live session, without marking it used (open streams ask it).
  bool Alive(std::string_view id, int64_t now_ms);
  void Close(std::string_view id);
  size_t size();
  const SessionLimits& limits() const { return limits_; }

 private:
  void DropExpiredLocked(int64_t now_ms);
  bool ExpiredLocked(const Session& s, int64_t now_ms) const;

  SessionLimits limits_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;  // SHA-256(id) hex -> session
};

}  // namespace lathe::ui
