#include "aws/event_stream.h"

#include <algorithm>
#include <cstdint>

#include "core/checksum.h"

namespace lathe::aws {
namespace {

constexpr uint8_t kStringHeaderType = 7;
constexpr size_t kPreludeBytes = 12, kTrailerBytes = 4;

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xFF));
}

}  // namespace

std::string EncodeEventMessage(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view payload) {
  std::string head;
  for (const auto& header : headers) {
    const size_t name_len = std::min(header.first.size(), kMaxEventHeaderNameBytes);
    const size_t value_len = std::min<size_t>(header.second.size(), UINT16_MAX);
    head.push_back(static_cast<char>(name_len));
    head.append(header.first, 0, name_len);
    head.push_back(static_cast<char>(kStringHeaderType));
    PutU16(&head, static_cast<uint16_t>(value_len));
    head.append(header.second, 0, value_len);
  }
  const size_t room = kMaxEventMessageBytes - kPreludeBytes - kTrailerBytes - head.size();
  payload = payload.substr(0, std::min(payload.size(), room));
  const size_t total = kPreludeBytes + head.size() + payload.size() + kTrailerBytes;

  std::string out;
  out.reserve(total);
  PutU32(&out, static_cast<uint32_t>(total));
  PutU32(&out, static_cast<uint32_t>(head.size()));
  PutU32(&out, Crc32(0, out));
  out += head;
  out.append(payload.data(), payload.size());
  PutU32(&out, Crc32(0, out));
  return out;
}

std::string EncodeEvent(std::string_view event_type, std::string_view json_payload) {
  return EncodeEventMessage({{":event-type", std::string(event_type)},
                             {":content-type", "application/json"},
                             {":message-type", "event"}},
                            json_payload);
}

std::string EncodeException(std::string_view exception_type, std::string_view json_payload) {
  return EncodeEventMessage({{":exception-type", std::string(exception_type)},
                             {":content-type", "application/json"},
                             {":message-type", "exception"}},
                            json_payload);
}

}  // namespace lathe::aws
