// The BodyReader a handler gets from the server: decodes the body (Content-Length or chunked)
// from the connection on demand, on the worker thread, with poll() deadlines from ServerLimits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "http/connection.h"
#include "http/message.h"
#include "http/server.h"

namespace lathe::http {

class ConnectionBodyReader : public BodyReader {
 public:
  ConnectionBodyReader(Connection* connection, const ServerLimits& limits)
      : connection_(connection), limits_(limits) {}

  Result<size_t> Read(char* buf, size_t n) override;
  int64_t declared_length() const override { return connection_->parser.content_length(); }

  // The whole body was read.
  bool finished() const { return connection_->parser.phase() == RequestParser::Phase::kComplete; }
  // A read failed (timeout, disconnect, malformed framing): the connection cannot be reused.
  bool failed() const { return !error_.ok(); }
  // The client waits for "100 Continue" before sending the body and was never sent one.
  bool client_still_waiting() const {
    return connection_->parser.expects_continue() && !continue_sent_ && declared_length() != 0;
  }
  // Reads and discards up to `max_bytes` of what the handler left; true when the body ended.
  bool Drain(size_t max_bytes);

 private:
  Result<size_t> Fail(Status status);
  // Waits for and receives more raw bytes, enforcing the idle and minimum-rate limits.
  Status ReceiveMore();

  Connection* connection_;
  const ServerLimits& limits_;
  Status error_;
  bool continue_sent_ = false;
  bool started_ = false;
  Clock::time_point start_;
  Clock::time_point last_byte_;
};

}  // namespace lathe::http
