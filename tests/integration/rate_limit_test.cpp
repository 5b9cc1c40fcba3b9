// Rate limits (API.md, Conventions): sends per user across REST and
// WebSocket, failed logins per username; 429 with Retry-After, or an error
// frame with retry_after_ms; nothing stored beyond the limit.
#include <gtest/gtest.h>

#include <thread>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;

class RateLimits : public ChatTest {
 protected:
  // 5 sends a second per user (bursts of 10); 3 login attempts a minute.
  std::vector<std::string> extra_args() const override {
    return {"--rate-sends", "5/s", "--rate-logins", "3/1m"};
  }
  // Sends the bucket refilled (5 a second) while a test's sends took
  // `since`: on a loaded machine a dozen sends can take longer than the
  // 200 ms one token takes.
  static int refilled(std::chrono::steady_clock::time_point since) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - since;
    return static_cast<int>(took.count() * 5);
  }
  long long count_messages(const TestUser& u, long long conv) {
    auto r = request(u, "GET", conv_path(conv) + "/messages?limit=200");
    return static_cast<long long>(r.json()["messages"].size());
  }
};

TEST_F(RateLimits, SendsBeyondTheBurstGet429WithRetryAfterAndStoreNothing) {
  auto a = user("rita"), b = user("rolf");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  int created = 0, limited = 0;
  HttpResult last;
  auto start = std::chrono::steady_clock::now();
  // Until four are refused (at most 40: a server that never limits fails).
  for (int i = 0; i < 40 && limited < 4; ++i) {
    auto r = send(a, conv, "m" + std::to_string(i), "hello " + std::to_string(i));
    if (r.status == 201) ++created;
    if (r.status == 429) {
      ++limited;
      last = r;
    }
  }
  int extra = refilled(start);
  EXPECT_EQ(limited, 4);
  // The burst (twice the rate), and what refilled while the sends went on.
  EXPECT_GE(created, 10);
  EXPECT_LE(created, 10 + extra);
  expect_error(last, 429, "rate_limited");
  EXPECT_EQ(last.header("retry-after"), "1");
  EXPECT_EQ(count_messages(a, conv), created);
  // Another user is not limited by rita's sends.
  EXPECT_EQ(send(b, conv, "b1", "hi").status, 201);
  // After Retry-After the sender may go on.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(send(a, conv, "later", "later").status, 201);
}

TEST_F(RateLimits, TheLimitIsSharedByRestAndEverySocketOfTheUser) {
  auto a = user("sara"), b = user("sven");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_EQ(send(a, conv, "r" + std::to_string(i), "rest").status, 201);
  WsClient one(server_->port(), a.token), two(server_->port(), a.token);
  ASSERT_TRUE(one.connected() && two.connected());
  int acked = 0;
  Json refusal;
  // Until one is refused (at most 30: a server that never limits fails).
  for (int i = 0; i < 30 && !refusal.is_object(); ++i) {
    auto& ws = i % 2 ? two : one;
    ws.send({{"type", "send"}, {"id", i}, {"conversation_id", conv},
             {"client_msg_id", "w" + std::to_string(i)}, {"body", "socket"}});
    auto answer = ws.read_until([](const Json& f) { return f.value("type", "") == "ack" || f.value("type", "") == "error"; });
    ASSERT_TRUE(answer);
    if ((*answer)["type"] == "ack") ++acked;
    else refusal = *answer;
  }
  int extra = refilled(start);
  // 6 by REST + 4 by sockets = the burst of 10, and what refilled meanwhile.
  EXPECT_GE(acked, 4);
  EXPECT_LE(acked, 4 + extra);
  ASSERT_TRUE(refusal.is_object());
  EXPECT_EQ(refusal["error"].value("code", ""), "rate_limited");
  EXPECT_GT(refusal.value("retry_after_ms", 0), 0);
  EXPECT_LE(refusal.value("retry_after_ms", 0), 1000);
  EXPECT_EQ(count_messages(a, conv), 6 + acked);
}

TEST_F(RateLimits, LoginAttemptsPerUsernameAreLimitedEvenWithTheRightPassword) {
  register_user("lena");
  auto c = client();
  auto attempt = [&](const std::string& name, const std::string& password) {
    return c.post("/v1/sessions", {{"username", name}, {"password", password}});
  };
  for (int i = 0; i < 3; ++i) expect_error(attempt("lena", "wrong-password"), 401, "invalid_credentials");
  auto refused = attempt("lena", "password-lena");
  expect_error(refused, 429, "rate_limited");
  auto wait = std::stoi(refused.header("retry-after"));
  EXPECT_GT(wait, 50);
  EXPECT_LE(wait, 60);

  // A username with no account is limited alike: the answer says nothing
  // about whether the account exists.
  for (int i = 0; i < 3; ++i) expect_error(attempt("nobody_here", "wrong-password"), 401, "invalid_credentials");
  auto ghost = attempt("nobody_here", "wrong-password");
  expect_error(ghost, 429, "rate_limited");
  EXPECT_EQ(ghost.body, refused.body);

  // Other usernames are not affected, and a success starts the count over.
  register_user("lars");
  for (int i = 0; i < 2; ++i) expect_error(attempt("lars", "wrong-password"), 401, "invalid_credentials");
  EXPECT_EQ(attempt("lars", "password-lars").status, 201);
  for (int i = 0; i < 2; ++i) expect_error(attempt("lars", "wrong-password"), 401, "invalid_credentials");
  EXPECT_EQ(attempt("lars", "password-lars").status, 201);
}

TEST_F(RateLimits, LoginAttemptsAreCountedAcrossInstances) {
  register_user("ines");
  ChatdProcess other({"--database-url", db_->url(), "--listen", "127.0.0.1:0", "--rate-logins", "3/1m"});
  ASSERT_TRUE(other.start()) << other.output();
  HttpClient here(server_->port()), there(other.port());
  Json wrong = {{"username", "ines"}, {"password", "wrong-password"}};
  expect_error(here.post("/v1/sessions", wrong), 401, "invalid_credentials");
  expect_error(there.post("/v1/sessions", wrong), 401, "invalid_credentials");
  expect_error(here.post("/v1/sessions", wrong), 401, "invalid_credentials");
  expect_error(there.post("/v1/sessions", {{"username", "ines"}, {"password", "password-ines"}}), 429,
               "rate_limited");
}

TEST_F(RateLimits, ConcurrentGuessesAreBoundedToo) {
  register_user("gwen");
  std::vector<std::thread> threads;
  std::atomic<int> unauthorized{0}, limited{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      HttpClient c(server_->port());
      auto r = c.post("/v1/sessions", {{"username", "gwen"}, {"password", "guess-guess"}});
      if (r.status == 401) ++unauthorized;
      if (r.status == 429) ++limited;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unauthorized.load(), 3);  // only three passwords were ever checked
  EXPECT_EQ(limited.load(), 5);
}

class NoRateLimits : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override { return {"--rate-sends", "0", "--rate-logins", "0"}; }
};

TEST_F(NoRateLimits, ZeroTurnsBothLimitsOff) {
  auto a = user("olga"), b = user("otto");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  for (int i = 0; i < 150; ++i) ASSERT_EQ(send(a, conv, "x" + std::to_string(i), "fast").status, 201) << i;
  auto c = client();
  for (int i = 0; i < 12; ++i) {
    expect_error(c.post("/v1/sessions", {{"username", "olga"}, {"password", "wrong-password"}}), 401,
                 "invalid_credentials");
  }
}

}  // namespace
}  // namespace chatd::test
