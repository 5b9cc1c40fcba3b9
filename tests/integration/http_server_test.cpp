// The HTTP layer through a real socket: routing errors, request ids,
// keep-alive and pipelining, size limits and timeouts against slow clients.
#include <regex>

#include "harness.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;

class HttpServer : public ServerTest {
 protected:
  std::vector<std::string> extra_args() const override {
    return {"--idle-timeout", "1s", "--read-timeout", "1s"};
  }
};

TEST_F(HttpServer, UnknownRouteIsNotFoundInContractShape) {
  auto c = client();
  auto r = c.get("/v1/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json()["error"]["code"], "not_found");
}

TEST_F(HttpServer, WrongMethodIs405WithAllow) {
  auto c = client();
  auto r = c.request("PATCH", "/v1/users");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.json()["error"]["code"], "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "POST, GET");
  auto s = c.request("GET", "/v1/sessions/current");
  EXPECT_EQ(s.status, 405);
  EXPECT_EQ(s.header("allow"), "DELETE");
}

TEST_F(HttpServer, RequestIdIsEchoedOrMadeAndLogged) {
  auto c = client();
  auto given = c.request("GET", "/healthz", "", {{"X-Request-Id", "trace-abc-123"}});
  EXPECT_EQ(given.header("x-request-id"), "trace-abc-123");
  auto made1 = c.get("/healthz");
  auto made2 = c.get("/healthz");
  EXPECT_FALSE(made1.header("x-request-id").empty());
  EXPECT_NE(made1.header("x-request-id"), made2.header("x-request-id"));
  // A hostile id is replaced, not echoed.
  auto hostile = c.request("GET", "/healthz", "", {{"X-Request-Id", std::string(300, 'x')}});
  EXPECT_NE(hostile.header("x-request-id"), std::string(300, 'x'));

  // One access-log line per request, naming id, route and status.
  auto not_found = c.request("GET", "/nope", "", {{"X-Request-Id", "trace-404"}});
  // The log thread writes within a second.
  std::string log;
  for (int i = 0; i < 40 && log.find("trace-404") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    log = server_->output();
  }
  EXPECT_TRUE(std::regex_search(log, std::regex("id=trace-abc-123 .*route=/healthz status=200")))
      << log;
  EXPECT_TRUE(std::regex_search(log, std::regex("id=trace-404 .*status=404"))) << log;
}

TEST_F(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  RawSocket s(server_->port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto got = s.read_until("\"ok\"}", 2s);
    EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos) << got;
  }
}

TEST_F(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket s(server_->port());
  std::string batch;
  for (int i = 0; i < 4; ++i) {
    std::string path = i % 2 ? "/missing" : "/healthz";
    batch += "GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-" + std::to_string(i) +
             "\r\n\r\n";
  }
  ASSERT_TRUE(s.send(batch));
  auto got = s.read_until("req-3", 3s);
  got += s.read_until("}", 1s);
  std::vector<std::size_t> at;
  for (int i = 0; i < 4; ++i) at.push_back(got.find("req-" + std::to_string(i)));
  for (int i = 0; i < 4; ++i) ASSERT_NE(at[i], std::string::npos) << got;
  EXPECT_LT(at[0], at[1]);
  EXPECT_LT(at[1], at[2]);
  EXPECT_LT(at[2], at[3]);
  EXPECT_LT(got.find("HTTP/1.1 200"), got.find("HTTP/1.1 404"));
}

TEST_F(HttpServer, OversizedBodyIs413AndServerKeepsServing) {
  auto c = client();
  std::string big = R"({"username":"a","password":")" + std::string(70 * 1024, 'x') + "\"}";
  auto r = c.request("POST", "/v1/users", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "payload_too_large");
  EXPECT_FALSE(r.header("x-request-id").empty());
  EXPECT_EQ(db_->query("SELECT count(*) FROM users"), "0");
  EXPECT_EQ(client().get("/healthz").status, 200);
}

TEST_F(HttpServer, OversizedHeaderIs413) {
  auto c = client();
  auto r = c.request("GET", "/healthz", "", {{"X-Padding", std::string(20 * 1024, 'h')}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "payload_too_large");
}

TEST_F(HttpServer, MalformedRequestLineIs400) {
  RawSocket s(server_->port());
  ASSERT_TRUE(s.send("THIS IS NOT HTTP\r\n\r\n"));
  auto got = s.read_until("}}", 2s);
  EXPECT_NE(got.find("400"), std::string::npos) << got;
  EXPECT_NE(got.find("invalid_request"), std::string::npos) << got;
  EXPECT_TRUE(s.closed_within(2s));
  EXPECT_EQ(client().get("/healthz").status, 200);
}

TEST_F(HttpServer, SilentConnectionIsClosedAfterIdleTimeout) {
  RawSocket s(server_->port());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(s.closed_within(4s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 800ms);
}

TEST_F(HttpServer, HeaderSentAByteAtATimeIsCutOff) {
  RawSocket s(server_->port());
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(40, 'z') +
                        "\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (char ch : request) {
    if (!s.send(std::string(1, ch))) {
      cut = true;
      break;
    }
    if (s.closed_within(200ms)) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "the slow request was served in full";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(client().get("/healthz").status, 200);
}

}  // namespace
}  // namespace chatd::test
