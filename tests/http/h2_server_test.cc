// HTTP/2 (h2c with prior knowledge) against the real server over loopback: the same Handler as
// HTTP/1.1, concurrent streams with request bodies larger than a flow-control window, streamed
// responses, and the hostile cases (garbage after the preface, rapid reset, HPACK bombs), each
// bounded, with the server still answering another connection afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "h2_test_client.h"
#include "http/server.h"

namespace lathe::http {
namespace {

using testing::H2TestClient;
using testing::RunningServer;
using testing::TestClient;

// /echo: the body back; /stream: `n` chunks of the body_stream, one per call; /slow: sleeps.
struct H2Handler {
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  std::atomic<int> calls{0};

  Handler handler() {
    return [this](Request& request, Response& response) {
      ++calls;
      int now = ++running;
      int seen = most_running.load();
      while (now > seen && !most_running.compare_exchange_weak(seen, now)) {}
      Result<std::string> body = ReadBody(request.body, 8 << 20);
      if (!body.ok()) {
        response.status = 400;
        response.body = body.status().message();
      } else if (request.path() == "/stream") {
        auto left = std::make_shared<int>(5);
        std::string text = *body;
        response.body_stream = [left, text](std::string* chunk) -> Result<bool> {
          *chunk = "chunk" + std::to_string(*left) + ":" + text;
          return --*left > 0;
        };
      } else if (request.path() == "/slow") {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        response.body = "slow";
      } else {
        const std::string* host = request.header("host");
        response.set_header("X-Method", request.method);
        response.set_header("X-Host", host ? *host : "");
        response.body = *body;
      }
      --running;
    };
  }
};

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

const std::string* FindHeader(const testing::H2Result& r, const std::string& name) {
  for (const Header& h : r.headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

// The server is still fine: a fresh HTTP/2 connection gets an answer.
void ExpectAnswers(int port) {
  H2TestClient client(port);
  std::string body = "still here";
  int32_t id = client.Submit("POST", "/echo", {}, &body);
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(id).status, 200);
  EXPECT_EQ(client.result(id).body, body);
}

TEST(H2ServerTest, ConcurrentStreamsWithBodiesLargerThanTheWindow) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  H2TestClient client(server.port());
  std::vector<std::string> bodies;
  std::vector<int32_t> ids;
  for (int i = 0; i < 8; ++i) bodies.push_back(Pattern(700 * 1024 + i, i));  // > the 256 KiB window
  for (int i = 0; i < 8; ++i) ids.push_back(client.Submit("PUT", "/echo?i=" + std::to_string(i), {}, &bodies[i]));
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }, std::chrono::seconds(60)));
  for (int i = 0; i < 8; ++i) {
    const auto& r = client.result(ids[i]);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.error_code, 0u);
    EXPECT_EQ(r.body.size(), bodies[i].size());
    EXPECT_TRUE(r.body == bodies[i]) << i;
    ASSERT_NE(FindHeader(r, "content-length"), nullptr);
    EXPECT_EQ(*FindHeader(r, "x-method"), "PUT");
    EXPECT_EQ(*FindHeader(r, "x-host"), "test");  // :authority becomes Host, which SigV4 signs
  }
  EXPECT_GE(h.calls.load(), 8);
}

TEST(H2ServerTest, StreamedResponsesArriveWholeAndInPieces) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  H2TestClient client(server.port());
  std::vector<int32_t> ids;
  std::string body = "x";
  for (int i = 0; i < 5; ++i) ids.push_back(client.Submit("POST", "/stream", {}, &body));
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  for (int32_t id : ids) {
    const auto& r = client.result(id);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "chunk5:xchunk4:xchunk3:xchunk2:xchunk1:x");
    EXPECT_EQ(FindHeader(r, "content-length"), nullptr);  // length unknown: no header, END_STREAM ends it
  }
}

// Event streams (InvokeModelWithResponseStream) need each chunk on the wire as soon as the
// handler produces it: the second chunk is produced only once the client has the first.
TEST(H2ServerTest, EachBodyStreamChunkIsSentBeforeTheNextIsProduced) {
  std::atomic<bool> client_has_first{false};
  RunningServer server(ServerLimits{}, [&](Request&, Response& response) {
    auto calls = std::make_shared<int>(0);
    response.body_stream = [&client_has_first, calls](std::string* chunk) -> Result<bool> {
      if ((*calls)++ == 0) {
        *chunk = "first;";
        return true;
      }
      for (int i = 0; i < 1000 && !client_has_first; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      *chunk = client_has_first ? "second" : "timed out";
      return false;
    };
  });
  H2TestClient client(server.port());
  int32_t id = client.Submit("GET", "/events");
  ASSERT_TRUE(client.RunUntil([&] { return client.result(id).body == "first;"; }, std::chrono::seconds(5)));
  client_has_first = true;
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(id).body, "first;second");
}

TEST(H2ServerTest, HttpOneStillWorksOnTheSamePort) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  TestClient client(server.port());
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hi");
  ExpectAnswers(server.port());
}

TEST(H2ServerTest, PrefaceFollowedByGarbageClosesOnlyThatConnection) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  TestClient raw(server.port());
  ASSERT_TRUE(raw.Send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  ASSERT_TRUE(raw.Send(std::string(64, '\xff') + "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(raw.ServerClosed());
  TestClient half(server.port());
  ASSERT_TRUE(half.Send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));  // a broken preface is HTTP/1.1's 400 or a close
  EXPECT_TRUE(half.ServerClosed());
  ExpectAnswers(server.port());
  EXPECT_EQ(h.calls.load(), 1);
}

// Rapid reset (CVE-2023-44487): HEADERS then RST_STREAM, over and over. Streams held by workers
// keep their slot, so at most kMaxStreams handlers ever run for the connection, and the flood
// ends with GOAWAY or a close.
TEST(H2ServerTest, RapidResetIsBoundedAndTheServerKeepsAnswering) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  H2TestClient client(server.port());
  ASSERT_TRUE(client.Flush());
  bool sent_all = true;
  int sent = 0;
  for (int i = 0; i < 2000 && sent_all; ++i) {
    int32_t id = client.Submit("GET", "/slow");
    if (id <= 0) break;
    ++sent;
    sent_all = client.Flush();
    nghttp2_submit_rst_stream(client.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    sent_all = sent_all && client.Flush();
  }
  client.RunUntil([&] { return client.goaway() || client.server_closed(); }, std::chrono::seconds(20));
  EXPECT_TRUE(client.goaway() || client.server_closed()) << h.calls.load() << " " << h.most_running.load() << " " << sent;
  EXPECT_LE(h.most_running.load(), 100);
  EXPECT_LT(h.calls.load(), 2000);
  std::printf("rapid reset: %d sent, %d handler calls, at most %d at once, goaway %d\n", sent, h.calls.load(), h.most_running.load(), client.goaway());
  ExpectAnswers(server.port());
}

// An HPACK bomb: one 3000-byte header, then the same header 200 times as one-byte references to
// the dynamic table (nghttp2's encoder indexes it): 600 KB of headers from ~3 KB on the wire.
TEST(H2ServerTest, HpackBombIsAnswered431WithoutRunningTheHandler) {
  H2Handler h;
  ServerLimits limits;
  limits.max_header_bytes = 16384;
  RunningServer server(limits, h.handler());
  H2TestClient client(server.port());
  std::vector<Header> bomb(200, Header{"x-bomb", std::string(3000, 'b')});
  int32_t id = client.Submit("GET", "/echo", bomb);
  ASSERT_GT(id, 0);
  std::vector<Header> many;
  for (int i = 0; i < 300; ++i) many.push_back(Header{"x-h" + std::to_string(i), "v"});
  int32_t id2 = client.Submit("GET", "/echo", many);
  int32_t ok = client.Submit("GET", "/echo");
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(id).status, 431);
  EXPECT_EQ(client.result(id2).status, 431);  // over max_header_count
  EXPECT_EQ(client.result(ok).status, 200);   // the same connection goes on
  EXPECT_EQ(h.calls.load(), 1);
  ExpectAnswers(server.port());
}

// A header block spread over many CONTINUATION frames (too big to index: 800 KB of literals) is
// refused by nghttp2's CONTINUATION bound before it is buffered: the connection is closed.
TEST(H2ServerTest, EndlessContinuationFramesCloseTheConnection) {
  H2Handler h;
  RunningServer server(ServerLimits{}, h.handler());
  H2TestClient client(server.port());
  std::vector<Header> literal(200, Header{"x-big", std::string(4000, 'b')});
  ASSERT_GT(client.Submit("GET", "/echo", literal), 0);
  client.RunUntil([&] { return client.goaway() || client.server_closed(); }, std::chrono::seconds(10));
  EXPECT_TRUE(client.goaway() || client.server_closed());
  EXPECT_EQ(h.calls.load(), 0);
  ExpectAnswers(server.port());
}

// A handler that has not read its body yet holds at most the stream's flow-control window of it:
// the client cannot send more until the handler reads.
TEST(H2ServerTest, AnUnreadBodyIsBoundedByTheStreamWindow) {
  std::atomic<bool> release{false};
  RunningServer server(ServerLimits{}, [&](Request& request, Response& response) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Result<std::string> body = ReadBody(request.body, 16 << 20);
    response.body = body.ok() ? std::to_string(body->size()) : "failed";
  });
  H2TestClient client(server.port());
  std::string big(4 << 20, 'z');
  int32_t id = client.Submit("PUT", "/big", {}, &big);
  client.RunUntil([] { return false; }, std::chrono::milliseconds(500));
  EXPECT_LE(client.body_sent(id), 256u * 1024 + 16384);  // the 256 KiB window (+ a frame in flight)
  release = true;
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(id).body, std::to_string(big.size()));
}

// A client that sends HEADERS and then stalls its body: the handler's read fails after
// body_idle_timeout_ms, the stream is answered, and the connection goes on.
TEST(H2ServerTest, AStalledBodyFailsTheReadAndTheConnectionGoesOn) {
  ServerLimits limits;
  limits.body_idle_timeout_ms = 300;
  H2Handler h;
  RunningServer server(limits, h.handler());
  H2TestClient client(server.port());
  int32_t stalled = client.Submit("POST", "/echo", {{"content-length", "10"}}, nullptr, /*end_stream=*/false);
  ASSERT_TRUE(client.RunUntil([&] { return client.result(stalled).closed; }));
  EXPECT_EQ(client.result(stalled).status, 400);
  EXPECT_NE(client.result(stalled).body.find("no byte of the request body arrived"), std::string::npos);
  std::string body = "next";
  int32_t next = client.Submit("POST", "/echo", {}, &body);
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(next).body, "next");
}

TEST(H2ServerTest, AnIdleConnectionGetsGoawayAndIsClosed) {
  ServerLimits limits;
  limits.keep_alive_idle_ms = 200;
  H2Handler h;
  RunningServer server(limits, h.handler());
  H2TestClient client(server.port());
  int32_t id = client.Submit("GET", "/echo");
  ASSERT_TRUE(client.RunUntil([&] { return client.AllClosed(); }));
  EXPECT_EQ(client.result(id).status, 200);
  EXPECT_TRUE(client.RunUntil([&] { return client.goaway() && client.server_closed(); }, std::chrono::seconds(10)));
}

TEST(H2ServerTest, StopWithOpenStreamsReturnsPromptly) {
  ServerLimits limits;
  std::atomic<bool> entered{false};
  RunningServer server(limits, [&](Request& request, Response& response) {
    entered = true;
    Result<std::string> body = ReadBody(request.body, 1 << 20);  // never comes: the client waits
    response.body = body.ok() ? "unexpected" : "failed";
  });
  H2TestClient client(server.port());
  int32_t id = client.Submit("POST", "/echo", {{"content-length", "10"}}, nullptr, /*end_stream=*/false);
  ASSERT_GT(id, 0);
  client.RunUntil([&] { return entered.load(); }, std::chrono::seconds(10));
  auto start = std::chrono::steady_clock::now();
  server.StopAndJoin();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
}

}  // namespace
}  // namespace lathe::http
