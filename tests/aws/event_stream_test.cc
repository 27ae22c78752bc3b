// AWS event-stream framing against the published vectors (aws-c-event-stream's and the Smithy
// specification's examples) and read back by botocore's own parser (EventStreamBuffer).
#include "aws/event_stream.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>

#include "test_util.h"

namespace lathe::aws {
namespace {

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(EventStream, EmptyMessageIsThePublishedVector) {
  // aws-c-event-stream's "no-op" message: 16 bytes, no headers, no payload.
  EXPECT_EQ(Hex(EncodeEventMessage({}, "")), "000000100000000005c248eb7d98c8ff");
}

TEST(EventStream, OneStringHeaderAndPayloadIsThePublishedVector) {
  // content-type: application/json, payload {'foo':'bar'}: the spec's example message.
  EXPECT_EQ(Hex(EncodeEventMessage({{"content-type", "application/json"}}, "{'foo':'bar'}")),
            "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
            "7b27666f6f273a27626172277d8d9c08b1");
}

TEST(EventStream, EventsAndExceptionsCarryTheirHeaders) {
  const std::string event = EncodeEvent("chunk", R"({"bytes":"e30="})");
  // Prelude: total length matches, headers length covers the three headers.
  const auto u32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(event[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(event[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(event[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(event[at + 3]));
  };
  EXPECT_EQ(u32(0), event.size());
  const std::string headers = event.substr(12, u32(4));
  EXPECT_NE(headers.find(":event-type"), std::string::npos);
  EXPECT_NE(headers.find("chunk"), std::string::npos);
  EXPECT_NE(headers.find(":message-type"), std::string::npos);
  const std::string error = EncodeException("throttlingException", R"({"message":"busy"})");
  EXPECT_NE(error.find(":exception-type"), std::string::npos);
  EXPECT_NE(error.find("exception"), std::string::npos);
  // A header name longer than the format allows is cut, never written with a wrong length.
  const std::string long_name = EncodeEventMessage({{std::string(300, 'n'), "v"}}, "");
  EXPECT_EQ(static_cast<unsigned char>(long_name[12]), kMaxEventHeaderNameBytes);
}

// Runs `script` (python3) on `bytes` written to a file; its output, or nullopt when it exits 77
// (botocore is not installed).
std::optional<std::string> RunPython(const std::string& script, const std::string& bytes) {
  lathe::testing::TempDir dir;
  const std::string path = dir.Write("stream.bin", bytes);
  const std::string program = dir.Write("read.py", script);
  FILE* p = popen(("python3 " + program + " " + path + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) return std::nullopt;
  if (rc != 0) out += "\n(exit status " + std::to_string(rc) + ")";
  return out;
}

TEST(EventStream, BotocoreReadsWhatLatheWrites) {
  const std::string bytes = EncodeEvent("contentBlockDelta", R"({"delta":{"text":"héllo"},"contentBlockIndex":0})") +
                            EncodeEvent("chunk", R"({"bytes":"eyJhIjoxfQ=="})") +
                            EncodeException("modelStreamErrorException", R"({"message":"boom"})");
  auto out = RunPython(R"(import sys
try:
    from botocore.eventstream import EventStreamBuffer
except ImportError:
    sys.exit(77)
buf = EventStreamBuffer()
buf.add_data(open(sys.argv[1], "rb").read())
for m in buf:
    h = m.headers
    print(h.get(":message-type"), h.get(":event-type") or h.get(":exception-type"),
          h.get(":content-type"), m.payload.decode("utf-8"))
)", bytes);
  if (!out) GTEST_SKIP() << "botocore is not installed";
  EXPECT_EQ(*out,
            "event contentBlockDelta application/json {\"delta\":{\"text\":\"héllo\"},\"contentBlockIndex\":0}\n"
            "event chunk application/json {\"bytes\":\"eyJhIjoxfQ==\"}\n"
            "exception modelStreamErrorException application/json {\"message\":\"boom\"}\n");
}

TEST(EventStream, BotocoresConverseStreamParserGivesTheEventsAndRaisesTheException) {
  // The layer boto3's converse_stream loop runs: events by the service model's union, and an
  // exception message raised as EventStreamError with its code.
  const std::string bytes = EncodeEvent("messageStart", R"({"role":"assistant"})") +
                            EncodeEvent("contentBlockDelta", R"({"delta":{"text":"Once"},"contentBlockIndex":0})") +
                            EncodeException("modelStreamErrorException", R"({"message":"boom"})");
  auto out = RunPython(R"(import sys
try:
    import botocore.session
    from botocore.eventstream import EventStream
    from botocore.exceptions import EventStreamError
    from botocore.parsers import EventStreamJSONParser
except ImportError:
    sys.exit(77)
class Raw:
    def stream(self):
        yield open(sys.argv[1], "rb").read()
    def close(self):
        pass
op = botocore.session.get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream")
events = EventStream(Raw(), op.output_shape.members["stream"], EventStreamJSONParser(), "ConverseStream")
try:
    for e in events:
        print(sorted(e.items()))
except EventStreamError as err:
    print("raised", err.response["Error"]["Code"], err.response["Error"]["Message"])
)", bytes);
  if (!out) GTEST_SKIP() << "botocore is not installed";
  EXPECT_EQ(*out,
            "[('messageStart', {'role': 'assistant'})]\n"
            "[('contentBlockDelta', {'delta': {'text': 'Once'}, 'contentBlockIndex': 0})]\n"
            "raised modelStreamErrorException boom\n");
}

}  // namespace
}  // namespace lathe::aws
