// The server over real loopback sockets. Time bounds are generous (seconds) on purpose: they
// tell a server that answers from one that hangs, not a fast one from a slow one.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "http_test_client.h"

namespace lathe::http {
namespace {

using testing::ParsedResponse;
using testing::RunningServer;
using testing::TestClient;

// Echoes method, target and body (read with a 1 MiB bound); records what it saw.
struct EchoHandler {
  std::mutex mu;
  std::vector<std::string> remote_addresses;
  std::vector<Status::Code> body_errors;
  size_t body_limit = 1 << 20;

  Handler handler() {
    return [this](Request& request, Response& response) {
      Result<std::string> body = ReadBody(request.body, body_limit);
      std::lock_guard<std::mutex> lock(mu);
      remote_addresses.push_back(request.remote_address);
      if (!body.ok()) {
        body_errors.push_back(body.status().code());
        response.status = body.status().code() == Status::Code::kQuotaExceeded ? 413 : 400;
        response.body = body.status().message();
        return;
      }
      response.set_header("Content-Type", "text/plain");
      response.body = request.method + " " + request.target + " " + *body;
    };
  }
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// Records which transport errors the server answered, and with what it had parsed.
struct ErrorLog {
  std::mutex mu;
  std::vector<TransportError> errors;
  std::vector<std::string> methods;
  TransportErrorWriter writer() {
    return [this](TransportError error, const Request& partial, Response& response) {
      {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(error);
        methods.push_back(partial.method);
      }
      WritePlainTransportError(error, partial, response);
      response.set_header("X-Written-By", "error-log");
    };
  }
  size_t count(TransportError e) {
    std::lock_guard<std::mutex> lock(mu);
    return std::count(errors.begin(), errors.end(), e);
  }
};

TEST(ServerTest, AnswersAndKeepsTheConnectionAlive) {
  EchoHandler echo;
  RunningServer server({}, echo.handler());
  TestClient client(server.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send(Post("/p?i=" + std::to_string(i), "body")));
    std::optional<ParsedResponse> r = client.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /p?i=" + std::to_string(i) + " body");
    EXPECT_EQ(r->header("Connection"), nullptr);
  }
  std::lock_guard<std::mutex> lock(echo.mu);
  EXPECT_EQ(echo.remote_addresses.front(), "127.0.0.1");
}

TEST(ServerTest, PipelinedRequestsAreAnsweredInOrderWithNoneLost) {
  EchoHandler echo;
  RunningServer server({}, echo.handler());
  TestClient client(server.port());
  // One write holding three requests, the second with a body, the last asking to close.
  ASSERT_TRUE(client.Send(Get("/one") + Post("/two", "2222") + Get("/three", "Connection: close\r\n")));
  for (std::string expected : {"GET /one ", "POST /two 2222", "GET /three "}) {
    std::optional<ParsedResponse> r = client.ReadResponse();
    ASSERT_TRUE(r) << expected;
    EXPECT_EQ(r->body, expected);
  }
  EXPECT_TRUE(client.ServerClosed());
}

TEST(ServerTest, ChunkedRequestBodyRoundTrip) {
  EchoHandler echo;
  RunningServer server({}, echo.handler());
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the body arrives in pieces
  ASSERT_TRUE(client.Send("3;ext=1\r\nefg\r\n0\r\nX-Checksum: x\r\n\r\n"));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "PUT /c abcdefg");
  ASSERT_TRUE(client.Send(Get("/after")));  // the connection is still in step
  r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /after ");
}

TEST(ServerTest, ExpectContinueIsAnsweredOnTheFirstRead) {
  EchoHandler echo;
  RunningServer server({}, echo.handler());
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  std::optional<std::string> interim = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(interim);
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.Send("hello"));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "PUT /e hello");
}

TEST(ServerTest, ExpectContinueIsNeverSentWhenTheHandlerDoesNotRead) {
  RunningServer server({}, [](Request& request, Response& response) {
    response.status = 403;
    response.body = "denied";
  });
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);  // the final answer, with no "100 Continue" before it
  ASSERT_NE(r->header("Connection"), nullptr);
  EXPECT_EQ(*r->header("Connection"), "close");  // its unsent body must not become a request
  EXPECT_TRUE(client.ServerClosed());
}

TEST(ServerTest, BodyOverTheHandlersLimitIsQuotaExceededAndTheConnectionCloses) {
  EchoHandler echo;
  echo.body_limit = 1000;
  RunningServer server({}, echo.handler());
  TestClient client(server.port());
  // Chunked, so the length is unknown and ReadBody has to count; far more than the drain allowance.
  std::string head = "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_TRUE(client.Send(head));
  std::thread sender([&] {
    std::string chunk = "4000\r\n" + std::string(0x4000, 'z') + "\r\n";
    for (int i = 0; i < 64; ++i) {
      if (!client.Send(chunk)) return;  // the server may close before all is sent
    }
  });
  std::optional<ParsedResponse> r = client.ReadResponse();
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  ASSERT_NE(r->header("Connection"), nullptr);
  EXPECT_EQ(*r->header("Connection"), "close");
  EXPECT_TRUE(client.ServerClosed());
  std::lock_guard<std::mutex> lock(echo.mu);
  ASSERT_EQ(echo.body_errors.size(), 1u);
  EXPECT_EQ(echo.body_errors[0], Status::Code::kQuotaExceeded);
}

TEST(ServerTest, UnreadLargeBodyIsNotAwaitedBeforeTheAnswer) {
  // The client sends the head of a large upload and waits for the answer before sending more
  // (as a refused one may). With the body timeout far beyond the client's read timeout, the
  // answer comes only if the server does not first wait for bytes it would drop anyway.
  ServerLimits limits;
  limits.body_idle_timeout_ms = 120000;
  RunningServer server(limits, [](Request& request, Response& response) {
    response.status = 413;
    response.body = "too large";
  });
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("POST /big HTTP/1.1\r\nContent-Length: 20971520\r\n\r\n"));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  ASSERT_NE(r->header("Connection"), nullptr);
  EXPECT_EQ(*r->header("Connection"), "close");  // its body must not become the next request
}

TEST(ServerTest, UnreadSmallBodyIsDrainedAndTheConnectionKept) {
  RunningServer server({}, [](Request& request, Response& response) { response.body = request.target; });
  TestClient client(server.port());
  ASSERT_TRUE(client.Send(Post("/a", std::string(5000, 'b')) + Get("/b")));
  std::optional<ParsedResponse> first = client.ReadResponse();
  std::optional<ParsedResponse> second = client.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "/a");
  EXPECT_EQ(second->body, "/b");
}

TEST(ServerTest, BodyStreamIsSentChunkedOrWithItsLength) {
  RunningServer server({}, [](Request& request, Response& response) {
    auto parts = std::make_shared<int>(0);
    response.body_stream = [parts](std::string* chunk) -> Result<bool> {
      *chunk = "part" + std::to_string((*parts)++) + ";";
      return *parts < 3;
    };
    if (request.path() == "/sized") response.stream_length = 18;
  });
  TestClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/chunked")));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  ASSERT_NE(r->header("Transfer-Encoding"), nullptr);
  EXPECT_EQ(r->body, "part0;part1;part2;");
  ASSERT_TRUE(client.Send(Get("/sized")));
  r = client.ReadResponse();
  ASSERT_TRUE(r);
  ASSERT_NE(r->header("Content-Length"), nullptr);
  EXPECT_EQ(*r->header("Content-Length"), "18");
  EXPECT_EQ(r->header("Transfer-Encoding"), nullptr);
  EXPECT_EQ(r->body, "part0;part1;part2;");
}

TEST(ServerTest, HeadKeepsContentLengthWithoutABody) {
  RunningServer server({}, [](Request& request, Response& response) { response.body = "twelve bytes"; });
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("HEAD / HTTP/1.1\r\n\r\n" + Get("/")));
  std::optional<ParsedResponse> head = client.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(head);
  ASSERT_NE(head->header("Content-Length"), nullptr);
  EXPECT_EQ(*head->header("Content-Length"), "12");
  std::optional<ParsedResponse> get = client.ReadResponse();  // would be garbled had HEAD sent a body
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "twelve bytes");
}

TEST(ServerTest, OversizedHeadsAreAnsweredThroughTheErrorWriter) {
  ServerLimits limits;
  limits.max_request_line_bytes = 1024;
  limits.max_header_bytes = 4096;
  limits.max_header_count = 20;
  ErrorLog log;
  RunningServer server(limits, [](Request&, Response&) { ADD_FAILURE() << "handler ran"; }, log.writer());
  struct Case {
    std::string request;
    int status;
  };
  std::string many_headers = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 21; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  std::vector<Case> cases = {
      {"GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nX-Big: " + std::string(5000, 'b') + "\r\n\r\n", 431},
      {many_headers + "\r\n", 431},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX-A: one\r\n folded\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    TestClient client(server.port());
    ASSERT_TRUE(client.Send(c.request));
    std::optional<ParsedResponse> r = client.ReadResponse();
    ASSERT_TRUE(r) << c.status;
    EXPECT_EQ(r->status, c.status);
    ASSERT_NE(r->header("X-Written-By"), nullptr);
    EXPECT_TRUE(client.ServerClosed());
  }
  EXPECT_EQ(log.count(TransportError::kUriTooLong), 1u);
  EXPECT_EQ(log.count(TransportError::kHeadersTooLarge), 2u);
  EXPECT_EQ(log.count(TransportError::kBadRequest), 2u);
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.methods[1], "GET");  // what was parsed before the problem reaches the writer
}

// 40 clients trickle a header byte every 200 ms; with one worker thread, a normal request is
// still answered at once (heads are read by the reactor), and every trickler gets 408.
TEST(ServerTest, SlowClientsHoldNoWorkerAndGet408) {
  ServerLimits limits;
  limits.worker_threads = 1;
  limits.header_timeout_ms = 1000;
  ErrorLog log;
  RunningServer server(limits, [](Request&, Response& response) { response.body = "fast"; }, log.writer());
  constexpr int kSlow = 40;
  std::vector<std::unique_ptr<TestClient>> slow;
  for (int i = 0; i < kSlow; ++i) slow.push_back(std::make_unique<TestClient>(server.port()));
  const std::string trickle = "GET / HTTP/1.1\r\nX-Slow: " + std::string(100, 's');
  std::atomic<bool> trickling{true};
  std::thread trickler([&] {
    for (size_t pos = 0; pos < trickle.size() && trickling; ++pos) {
      for (auto& c : slow) c->Send(trickle.substr(pos, 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  TestClient normal(server.port());
  ASSERT_TRUE(normal.Send(Get("/")));
  std::optional<ParsedResponse> r = normal.ReadResponse();
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "fast");
  EXPECT_LT(waited, std::chrono::seconds(5));

  int timed_out = 0;
  for (auto& c : slow) {
    std::optional<ParsedResponse> answer = c->ReadResponse();
    if (answer && answer->status == 408) ++timed_out;
  }
  trickling = false;
  trickler.join();
  EXPECT_EQ(timed_out, kSlow);
  EXPECT_EQ(log.count(TransportError::kTimeout), static_cast<size_t>(kSlow));
}

// Opens `n` connections and makes sure the server has accepted each (one request apiece).
std::vector<std::unique_ptr<TestClient>> OpenServed(int port, int n) {
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<TestClient>(port));
    EXPECT_TRUE(clients.back()->Send(Get("/")));
    std::optional<ParsedResponse> r = clients.back()->ReadResponse();
    EXPECT_TRUE(r && r->status == 200);
  }
  return clients;
}

// True once a new connection is served normally (a closed slot is freed asynchronously).
bool EventuallyServed(int port) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    TestClient client(port);
    client.Send(Get("/"));
    std::optional<ParsedResponse> r = client.ReadResponse();
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ServerTest, ConnectionsPerClientAreCapped) {
  ServerLimits limits;
  limits.max_connections_per_client = 2;
  ErrorLog log;
  RunningServer server(limits, [](Request&, Response&) {}, log.writer());
  auto open = OpenServed(server.port(), 2);
  TestClient third(server.port());
  ASSERT_TRUE(third.Send(Get("/")));
  std::optional<ParsedResponse> r = third.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(third.ServerClosed());
  EXPECT_EQ(log.count(TransportError::kBusy), 1u);
  open.front()->Close();
  EXPECT_TRUE(EventuallyServed(server.port()));
}

TEST(ServerTest, TotalConnectionsAreCapped) {
  ServerLimits limits;
  limits.max_connections = 3;
  RunningServer server(limits, [](Request&, Response&) {});
  auto open = OpenServed(server.port(), 3);
  TestClient fourth(server.port());
  ASSERT_TRUE(fourth.Send(Get("/")));
  std::optional<ParsedResponse> r = fourth.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  open.clear();
  EXPECT_TRUE(EventuallyServed(server.port()));
}

TEST(ServerTest, SecondServerOnTheSamePortFailsNamingTheAddress) {
  RunningServer first({}, [](Request&, Response&) {});
  Server second({}, [](Request&, Response&) {});
  Status listening = second.Listen("127.0.0.1", first.port());
  ASSERT_FALSE(listening.ok());
  EXPECT_NE(listening.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << listening.message();
  TestClient client(first.port());  // the first one still owns the port
  ASSERT_TRUE(client.Send(Get("/")));
  std::optional<ParsedResponse> r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, StopWithASlowClientConnectedReturnsPromptly) {
  auto server = std::make_unique<RunningServer>(ServerLimits{}, [](Request&, Response&) {});
  TestClient slow(server->port());
  ASSERT_TRUE(slow.Send("GET / HTTP/1.1\r\nX-Slow: "));  // and nothing more
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto stopped = std::async(std::launch::async, [&] { server->StopAndJoin(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  stopped.wait();
  EXPECT_TRUE(slow.ServerClosed());
}

TEST(ServerTest, StopEndsAHandlerBlockedOnABodyThatNeverComes) {
  std::atomic<bool> handler_started{false};
  std::atomic<int> read_failed{0};
  ServerLimits limits;
  limits.body_idle_timeout_ms = 120000;
  limits.min_body_bytes_per_second = 0;
  auto server = std::make_unique<RunningServer>(limits, [&](Request& request, Response&) {
    handler_started = true;
    Result<std::string> body = ReadBody(request.body, 1 << 20);
    if (!body.ok()) ++read_failed;
  });
  TestClient client(server->port());
  ASSERT_TRUE(client.Send("PUT / HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly part"));
  for (int i = 0; i < 100 && !handler_started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(handler_started);
  auto stopped = std::async(std::launch::async, [&] { server->StopAndJoin(); });
  // After its grace for in-flight handlers (5 s), Stop must shut the socket under the handler
  // rather than wait for the body's timeout (2 minutes here).
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  stopped.wait();
  EXPECT_EQ(read_failed, 1);
}

TEST(ServerTest, ClientVanishingMidResponseDoesNotKillTheServer) {
  RunningServer server({}, [](Request& request, Response& response) {
    if (request.path() == "/small") {
      response.body = "ok";
      return;
    }
    response.body_stream = [](std::string* chunk) -> Result<bool> {
      chunk->assign(1 << 20, 'x');  // endless: only the client leaving ends it
      return true;
    };
  });
  {
    TestClient client(server.port());
    ASSERT_TRUE(client.Send(Get("/endless")));
    ASSERT_TRUE(client.ReadUntil("\r\n\r\n"));
  }  // closed with megabytes unread: the server's next writes hit a dead socket (EPIPE, no SIGPIPE)
  TestClient next(server.port());
  ASSERT_TRUE(next.Send(Get("/small")));
  std::optional<ParsedResponse> r = next.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

}  // namespace
}  // namespace lathe::http
