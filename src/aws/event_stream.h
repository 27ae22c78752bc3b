// AWS's event-stream framing (application/vnd.amazon.eventstream), the body of a streaming
// response such as Bedrock Runtime's InvokeModelWithResponseStream and ConverseStream. Each
// message is self-delimiting and checksummed (Smithy's "Amazon Event Stream Specification"):
//
//   prelude:  total length (uint32 BE), headers length (uint32 BE), CRC32 of those 8 bytes
//   headers:  name length (uint8), name, value type (uint8), value; lathe writes strings only
//             (type 7: uint16 BE length, then the bytes)
//   payload:  the event's bytes (here: a JSON object)
//   trailer:  CRC32 of everything before it
//
// CRC32 is ISO-HDLC (zlib's). Only encoding lives here: lathe answers streams, it never reads them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lathe::aws {

// The format's own bounds (aws-c-event-stream): a message of at most 16 MiB, headers of at most
// 128 KiB, a header name of at most 127 bytes. Encode refuses nothing: callers build headers from
// constants and payloads from model output bounded well below these; an oversized part is cut.
inline constexpr size_t kMaxEventMessageBytes = 16u << 20;
inline constexpr size_t kMaxEventHeaderNameBytes = 127;

// One message with string-valued headers, in the order given.
std::string EncodeEventMessage(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view payload);

// An event of a modelled stream: :message-type "event", :event-type (the member of the stream's
// union, e.g. "chunk", "contentBlockDelta"), :content-type "application/json".
std::string EncodeEvent(std::string_view event_type, std::string_view json_payload);

// An error inside a stream that has started: :message-type "exception", :exception-type (the
// union member, e.g. "modelStreamErrorException"), :content-type "application/json"; the payload
// is the exception's members ({"message": ...}).
std::string EncodeException(std::string_view exception_type, std::string_view json_payload);

}  // namespace lathe::aws
