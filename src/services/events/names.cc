#include "services/events/names.h"

#include "core/arn.h"
#include "core/sha256.h"
#include "services/events/errors.h"

namespace lathe::events {
namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

Status CheckNameChars(std::string_view value, const std::string& member, size_t max) {
  LATHE_RETURN_IF_ERROR(CheckLength(value, member, 1, max));
  for (char c : value)
    if (!NameChar(c))
      return ConstraintViolation(Quoted(value), member,
                                 "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+");
  return Status::Ok();
}

std::string UuidShape(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

}  // namespace

Status CheckRuleName(std::string_view value, const std::string& member) { return CheckNameChars(value, member, 64); }
Status CheckTargetId(std::string_view value, const std::string& member) { return CheckNameChars(value, member, 64); }
Status CheckBusName(std::string_view value, const std::string& member) { return CheckNameChars(value, member, 256); }

std::string NewEventId() {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (char c : NewResourceId(32)) hex += kHex[static_cast<unsigned char>(c) % 16];
  return UuidShape(hex);
}

std::string EventIdOf(const store::OutboxEvent& event) {
  if (!event.id.empty()) return event.id;
  return UuidShape(Sha256Hex("lathe-outbox-event:" + std::to_string(event.seq) + ":" + std::to_string(event.time_ms) +
                             ":" + event.source));
}

std::string EventTime(int64_t millis) {
  std::string t = Iso8601(millis - millis % 1000);  // 2026-11-28T09:15:02.000Z
  const size_t dot = t.find('.');
  return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

nlohmann::json Envelope(const store::OutboxEvent& event) {
  return {{"version", "0"},
          {"id", EventIdOf(event)},
          {"detail-type", event.detail_type},
          {"source", event.source},
          {"account", event.account},
          {"time", EventTime(event.time_ms)},
          {"region", event.region},
          {"resources", event.resources},
          {"detail", event.detail}};
}

}  // namespace lathe::events
