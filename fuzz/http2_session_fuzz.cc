// Feeds arbitrary bytes (after the client preface) to the server's HTTP/2 session, split as a
// socket might split them, then runs the streams it dispatched, hands their responses back and
// pulls what the session sends: it must never crash, hang or read out of bounds, whatever the
// frames, HPACK blocks, resets or window updates. The handler answers from memory or as a
// two-chunk body_stream, and reads the body with a 1 ms idle timeout.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/h2_session.h"

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lathe::http;
  if (size == 0) return 0;
  const size_t step = 1 + (data[0] & 63);  // bytes per "read"
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  ServerLimits limits;
  limits.max_header_bytes = 2048;  // small, so the limits are reachable
  limits.max_header_count = 16;
  limits.max_request_line_bytes = 256;
  limits.body_idle_timeout_ms = 1;
  limits.response_write_timeout_ms = 1;
  Handler handler = [](Request& request, Response& response) {
    lathe::Result<std::string> body = ReadBody(request.body, 4096);
    if (request.path() == "/stream") {
      auto left = std::make_shared<int>(2);
      response.body_stream = [left](std::string* chunk) -> lathe::Result<bool> {
        *chunk = "chunk";
        return --*left > 0;
      };
    } else {
      response.body = body.ok() ? *body : "error";
    }
  };
  TransportErrorWriter error_writer = WritePlainTransportError;
  std::vector<std::function<void()>> tasks;
  H2Mailbox mailbox([] {});
  H2Host host{&limits, &handler, &error_writer,
              [&tasks](std::function<void()> task) {
                if (tasks.size() >= 8) return false;  // the pool is "full": 503 on the stream
                tasks.push_back(std::move(task));
                return true;
              },
              &mailbox};
  H2Session session(host, -1, "fuzz");
  if (!session.Start().ok()) return 0;
  std::string out;
  bool alive = session.Receive(kPreface.data(), kPreface.size()).ok();
  for (size_t at = 0; alive && at < bytes.size(); at += step) {
    std::string_view piece = bytes.substr(at, step);
    alive = session.Receive(piece.data(), piece.size()).ok();
    out.clear();
    alive = alive && session.Pull(&out, 1 << 16).ok();
  }
  // The dispatched streams run (their body reads time out at once when no body came), then the
  // reactor's half takes their responses.
  for (auto& task : tasks) task();
  for (int round = 0; round < 4 && alive; ++round) {
    for (const auto& stream : mailbox.Take()) {
      if (stream->session) stream->session->OnPosted(stream.get());
    }
    out.clear();
    alive = session.Pull(&out, 1 << 16).ok();
  }
  (void)session.Deadline(false, Clock::now());
  (void)session.Finished();
  return 0;
}
