// Accounts through the real server: registration, login, tokens, lookup, and
// every kind of bad input the contract names.
#include <atomic>
#include <regex>
#include <thread>

#include "harness.hpp"

namespace chatd::test {
namespace {

class Accounts : public ServerTest {};

void expect_error(const HttpResult& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto j = r.json();
  ASSERT_TRUE(j.contains("error")) << r.body;
  EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
  EXPECT_FALSE(j["error"].value("message", "").empty()) << r.body;
}

TEST_F(Accounts, RegisterReturnsTheUserWithContractFields) {
  auto c = client();
  auto r = c.post("/v1/users", {{"username", "alice"}, {"password", "secret-pass"},
                                {"display_name", "Alice Ä."}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto u = r.json()["user"];
  EXPECT_TRUE(u["id"].is_number_integer());
  EXPECT_GT(u["id"].get<long long>(), 0);
  EXPECT_EQ(u["username"], "alice");
  EXPECT_EQ(u["display_name"], "Alice Ä.");
  EXPECT_TRUE(std::regex_match(u["created_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << u["created_at"];
  EXPECT_FALSE(u.contains("password"));
  EXPECT_FALSE(u.contains("password_hash"));
  EXPECT_EQ(r.header("content-type"), "application/json");
}

TEST_F(Accounts, DisplayNameDefaultsToUsername) {
  auto u = register_user("bob");
  EXPECT_EQ(u["display_name"], "bob");
}

TEST_F(Accounts, PasswordIsStoredOnlyAsArgon2idHash) {
  register_user("carol");
  auto stored = db_->query("SELECT password_hash FROM users WHERE username = 'carol'");
  EXPECT_EQ(stored.rfind("$argon2id$", 0), 0u) << stored;
  EXPECT_EQ(stored.find("password-carol"), std::string::npos);
}

TEST_F(Accounts, TakenUsernameIsConflict) {
  register_user("dave");
  auto c = client();
  auto r = c.post("/v1/users", {{"username", "dave"}, {"password", "another-pass"}});
  expect_error(r, 409, "username_taken");
  EXPECT_EQ(db_->query("SELECT count(*) FROM users WHERE username = 'dave'"), "1");
}

TEST_F(Accounts, ConcurrentRegistrationOfOneUsernameCreatesExactlyOne) {
  constexpr int kClients = 12;
  std::atomic<int> created{0}, taken{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c(server_->port());
      auto r = c.post("/v1/users",
                      {{"username", "racer"}, {"password", "password-" + std::to_string(i)}});
      if (r.status == 201) ++created;
      else if (r.status == 409) ++taken;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(taken.load(), kClients - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(db_->query("SELECT count(*) FROM users WHERE username = 'racer'"), "1");
}

TEST_F(Accounts, BadRegistrationInputIsRejectedAndStoresNothing) {
  auto c = client();
  struct Case {
    std::string body;
    std::string field;  // expected in the message
  };
  std::vector<Case> cases = {
      {"{not json", "JSON"},
      {"[1,2]", "object"},
      {"\"alice\"", "object"},
      {"", "JSON"},
      {R"({"password":"long-enough"})", "username"},
      {R"({"username":"erin"})", "password"},
      {R"({"username":42,"password":"long-enough"})", "username"},
      {R"({"username":"erin","password":12345678})", "password"},
      {R"({"username":"erin","password":"long-enough","display_name":7})", "display_name"},
      {R"({"username":"ab","password":"long-enough"})", "username"},
      {R"({"username":")" + std::string(33, 'a') + R"(","password":"long-enough"})", "username"},
      {R"({"username":"Erin","password":"long-enough"})", "username"},
      {R"({"username":"er in","password":"long-enough"})", "username"},
      {R"({"username":"erin","password":"short"})", "password"},
      {R"({"username":"erin","password":")" + std::string(257, 'p') + R"("})", "password"},
      {R"({"username":"erin","password":"long-enough","display_name":""})", "display_name"},
      {R"({"username":"erin","password":"long-enough","display_name":")" + std::string(65, 'd') + R"("})", "display_name"},
      {"{\"username\":\"erin\",\"password\":\"long-\xFF\xFEnough\"}", "UTF-8"},
      {"{\"username\":\"erin\",\"password\":\"long-enough\",\"display_name\":\"\xC0\xAF\"}", "UTF-8"},
  };
  for (const auto& tc : cases) {
    auto r = c.request("POST", "/v1/users", tc.body, {{"Content-Type", "application/json"}});
    expect_error(r, 400, "invalid_request");
    EXPECT_NE(r.json()["error"].value("message", "").find(tc.field), std::string::npos)
        << "body: " << tc.body << "\nanswer: " << r.body;
  }
  EXPECT_EQ(db_->query("SELECT count(*) FROM users"), "0");
  // The server still serves after all of that, on the same connection.
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(Accounts, LoginReturnsTokenAndUser) {
  auto u = register_user("frank");
  auto c = client();
  auto r = c.post("/v1/sessions", {{"username", "frank"}, {"password", "password-frank"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["user"], u);
  auto token = j.value("token", "");
  EXPECT_GE(token.size(), 32u);
  // Only a hash is stored.
  EXPECT_EQ(db_->query("SELECT count(*) FROM sessions WHERE token_hash = '" + token + "'"), "0");
  EXPECT_EQ(db_->query("SELECT count(*) FROM sessions"), "1");
}

TEST_F(Accounts, LoginAnswersAlikeForUnknownUserAndWrongPassword) {
  register_user("grace");
  auto c = client();
  auto wrong = c.post("/v1/sessions", {{"username", "grace"}, {"password", "not-her-password"}});
  auto unknown = c.post("/v1/sessions", {{"username", "nobody"}, {"password", "not-her-password"}});
  auto malformed = c.post("/v1/sessions", {{"username", "NO SUCH"}, {"password", "x"}});
  expect_error(wrong, 401, "invalid_credentials");
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(wrong.body, malformed.body);
  EXPECT_EQ(wrong.status, unknown.status);
  EXPECT_EQ(db_->query("SELECT count(*) FROM sessions"), "0");
}

TEST_F(Accounts, LoginWithMissingFieldsIsInvalidRequest) {
  auto c = client();
  expect_error(c.post("/v1/sessions", {{"username", "x"}}), 400, "invalid_request");
  expect_error(c.post("/v1/sessions", {{"password", "x"}}), 400, "invalid_request");
  expect_error(c.request("POST", "/v1/sessions", "nope"), 400, "invalid_request");
}

TEST_F(Accounts, MeNeedsAValidToken) {
  Json user;
  auto token = login_new_user("heidi", &user);
  auto c = client();
  auto me = c.get("/v1/users/me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["user"], user);

  expect_error(c.get("/v1/users/me"), 401, "unauthenticated");
  expect_error(c.get("/v1/users/me", "garbage"), 401, "unauthenticated");
  expect_error(c.get("/v1/users/me", std::string(43, 'A')), 401, "unauthenticated");
  expect_error(c.request("GET", "/v1/users/me", "", {{"Authorization", "Basic " + token}}), 401,
               "unauthenticated");
}

// The route table says which routes need a session; the caller is checked
// before the path or the body is read, so a stranger learns nothing from
// which ids or bodies are malformed.
TEST_F(Accounts, EveryRouteButRegisterAndLoginNeedsASessionBeforeItReadsAnything) {
  auto c = client();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/v1/users"},
      {"GET", "/v1/users/me"},
      {"GET", "/v1/users/me/blocks"},
      {"PUT", "/v1/users/me/blocks/x"},
      {"DELETE", "/v1/users/me/blocks/x"},
      {"GET", "/v1/users/x"},
      {"DELETE", "/v1/sessions/current"},
      {"POST", "/v1/conversations"},
      {"GET", "/v1/conversations"},
      {"GET", "/v1/conversations/x"},
      {"PATCH", "/v1/conversations/x"},
      {"POST", "/v1/conversations/x/members"},
      {"DELETE", "/v1/conversations/x/members/x"},
      {"POST", "/v1/conversations/x/read"},
      {"POST", "/v1/conversations/x/messages"},
      {"GET", "/v1/conversations/x/messages"},
      {"PATCH", "/v1/conversations/x/messages/x"},
      {"DELETE", "/v1/conversations/x/messages/x"},
      {"PUT", "/v1/conversations/x/messages/x/reactions/x"},
      {"DELETE", "/v1/conversations/x/messages/x/reactions/x"},
      {"GET", "/v1/conversations/x/events"},
  };
  for (const auto& [method, path] : routes) {
    SCOPED_TRACE(method + " " + path);
    expect_error(c.request(method, path, "not json"), 401, "unauthenticated");
  }
  // The two open ones read their body first.
  expect_error(c.request("POST", "/v1/users", "not json"), 400, "invalid_request");
  expect_error(c.request("POST", "/v1/sessions", "not json"), 400, "invalid_request");
}

TEST_F(Accounts, LogoutRevokesTheTokenAtOnce) {
  auto token = login_new_user("ivan");
  auto other = client().post("/v1/sessions", {{"username", "ivan"}, {"password", "password-ivan"}})
                   .json()
                   .value("token", "");
  auto c = client();
  ASSERT_EQ(c.get("/v1/users/me", token).status, 200);
  auto out = c.del("/v1/sessions/current", token);
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_TRUE(out.body.empty());
  expect_error(c.get("/v1/users/me", token), 401, "unauthenticated");
  expect_error(c.del("/v1/sessions/current", token), 401, "unauthenticated");
  // Another device's session is untouched.
  EXPECT_EQ(c.get("/v1/users/me", other).status, 200);
}

TEST_F(Accounts, LogoutOnOneInstanceRevokesTheTokenOnAnotherThatCachedIt) {
  ChatdProcess second({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(second.start()) << second.output();
  auto token = login_new_user("iris");
  HttpClient on_second(second.port());
  // Used on the second instance, so it knows (and caches) the token.
  ASSERT_EQ(on_second.get("/v1/users/me", token).status, 200);
  ASSERT_EQ(on_second.get("/v1/users/me", token).status, 200);
  ASSERT_EQ(client().del("/v1/sessions/current", token).status, 204);
  // The revocation reaches the second instance within moments, not at expiry.
  int status = 200;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (status == 200 && std::chrono::steady_clock::now() < deadline) {
    status = on_second.get("/v1/users/me", token).status;
    if (status == 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 401);
  expect_error(on_second.get("/v1/users/me", token), 401, "unauthenticated");
}

TEST_F(Accounts, UserById) {
  auto token = login_new_user("judy");
  auto target = register_user("karl");
  auto c = client();
  auto r = c.get("/v1/users/" + std::to_string(target["id"].get<long long>()), token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["user"], target);
  expect_error(c.get("/v1/users/999999", token), 404, "not_found");
  expect_error(c.get("/v1/users/abc", token), 400, "invalid_request");
  expect_error(c.get("/v1/users/-1", token), 400, "invalid_request");
  expect_error(c.get("/v1/users/99999999999999999999", token), 400, "invalid_request");
  expect_error(c.get("/v1/users/1"), 401, "unauthenticated");
}

TEST_F(Accounts, PrefixSearchIsOrderedLimitedAndExact) {
  auto token = login_new_user("searcher");
  for (const char* n : {"al_b", "alice", "alan", "albert", "bob2", "alx.y"}) register_user(n);
  auto c = client();
  auto r = c.get("/v1/users?prefix=al", token);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> names;
  auto body = r.json();
  for (auto& u : body["users"]) names.push_back(u["username"]);
  EXPECT_EQ(names, (std::vector<std::string>{"al_b", "alan", "albert", "alice", "alx.y"}));

  // '_' is a literal, not a wildcard.
  auto under = c.get("/v1/users?prefix=al_", token).json()["users"];
  ASSERT_EQ(under.size(), 1u);
  EXPECT_EQ(under[0]["username"], "al_b");

  auto limited = c.get("/v1/users?prefix=al&limit=2", token).json()["users"];
  ASSERT_EQ(limited.size(), 2u);
  EXPECT_EQ(limited[1]["username"], "alan");

  EXPECT_EQ(c.get("/v1/users?prefix=zz", token).json()["users"].size(), 0u);
  expect_error(c.get("/v1/users?prefix=al&limit=0", token), 400, "invalid_request");
  expect_error(c.get("/v1/users?prefix=al&limit=10000", token), 400, "invalid_request");
  expect_error(c.get("/v1/users?prefix=al&limit=x", token), 400, "invalid_request");
  expect_error(c.get("/v1/users", token), 400, "invalid_request");
  expect_error(c.get("/v1/users?prefix=A%25", token), 400, "invalid_request");
  expect_error(c.get("/v1/users?prefix=al"), 401, "unauthenticated");
}

}  // namespace
}  // namespace chatd::test
