// Browsers (API.md, Conventions, "Browsers"): CORS for the origins in
// --cors-origins, and the WebSocket Origin check.
#include <gtest/gtest.h>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

const std::string kAllowed = "http://app.example.test:5173";
const std::string kOther = "https://evil.example.test";

std::map<std::string, std::string> upgrade_headers(const std::string& origin) {
  std::map<std::string, std::string> h = {{"Connection", "Upgrade"},
                                          {"Upgrade", "websocket"},
                                          {"Sec-WebSocket-Version", "13"},
                                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!origin.empty()) h["Origin"] = origin;
  return h;
}

class Cors : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override {
    return {"--cors-origins", "https://web.example.com, " + kAllowed};
  }
};

TEST_F(Cors, APreflightFromAnAllowedOriginGets204WithWhatTheBrowserNeeds) {
  auto r = client().request("OPTIONS", "/v1/conversations/1/messages", "",
                            {{"Origin", kAllowed},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), kAllowed);
  EXPECT_EQ(r.header("access-control-allow-methods"), "POST, GET");
  auto headers = r.header("access-control-allow-headers");
  EXPECT_NE(headers.find("Authorization"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type"), std::string::npos);
  EXPECT_FALSE(r.header("access-control-max-age").empty());
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(Cors, EveryAnswerToAnAllowedOriginCarriesItsOrigin) {
  auto a = user("cora");
  auto ok = client().request("GET", "/v1/users/me", "",
                             {{"Origin", kAllowed}, {"Authorization", "Bearer " + a.token}});
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.header("access-control-allow-origin"), kAllowed);
  EXPECT_EQ(ok.header("vary"), "Origin");
  // The page may read Retry-After (the SDK's retry_after) and the request id.
  EXPECT_NE(ok.header("access-control-expose-headers").find("Retry-After"), std::string::npos);
  // And a download's ETag and Content-Range (the web client's cache and ranges).
  EXPECT_NE(ok.header("access-control-expose-headers").find("ETag"), std::string::npos);
  EXPECT_NE(ok.header("access-control-expose-headers").find("Content-Range"), std::string::npos);
  // Errors too, or the page could not read them.
  auto refused = client().request("GET", "/v1/users/me", "", {{"Origin", kAllowed}});
  expect_error(refused, 401, "unauthenticated");
  EXPECT_EQ(refused.header("access-control-allow-origin"), kAllowed);
  // Origins compare as browsers write them: scheme and host are not case-sensitive.
  auto upper = client().request("GET", "/healthz", "", {{"Origin", "HTTPS://Web.Example.com"}});
  EXPECT_EQ(upper.header("access-control-allow-origin"), "HTTPS://Web.Example.com");
}

TEST_F(Cors, AnotherOriginGetsNoCorsHeadersAndItsPreflightIsRefused) {
  auto a = user("oscar");
  auto r = client().request("GET", "/v1/users/me", "",
                            {{"Origin", kOther}, {"Authorization", "Bearer " + a.token}});
  EXPECT_EQ(r.status, 200);  // not a browser's call to read: no CORS header
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  EXPECT_EQ(r.header("vary"), "Origin");
  auto pre = client().request("OPTIONS", "/v1/users/me", "",
                              {{"Origin", kOther}, {"Access-Control-Request-Method", "GET"}});
  expect_error(pre, 403, "forbidden");
  EXPECT_EQ(pre.header("access-control-allow-origin"), "");
  // A near miss is another origin: another port, another scheme, a path.
  for (const auto& near : {std::string("http://app.example.test:5174"),
                           std::string("https://app.example.test:5173"),
                           std::string("https://web.example.com.evil.test"), std::string("null")}) {
    auto n = client().request("OPTIONS", "/v1/users/me", "",
                              {{"Origin", near}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(n.status, 403) << near;
  }
}

TEST_F(Cors, OptionsWithoutCorsListsThePathsMethods) {
  auto r = client().request("OPTIONS", "/v1/conversations/1/messages/2");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("allow"), "PATCH, DELETE, OPTIONS");
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  expect_error(client().request("OPTIONS", "/v1/nowhere"), 404, "not_found");
}

TEST_F(Cors, ANativeClientWithoutOriginIsNotChecked) {
  auto a = user("nate");
  auto r = client().get("/v1/users/me", a.token);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  EXPECT_EQ(r.header("vary"), "");
  WsClient app(server_->port(), a.token);
  EXPECT_TRUE(app.connected());
}

TEST_F(Cors, TheSocketOpensForAnAllowedOriginAndIsRefusedForAnother) {
  auto a = user("wendy");
  WsClient page(server_->port(), a.token, 0, kAllowed);
  ASSERT_TRUE(page.connected());
  page.send({{"type", "ping"}, {"id", 1}});
  EXPECT_TRUE(page.read_until([](const Json& f) { return f.value("type", "") == "pong"; }));

  WsClient rider(server_->port(), a.token, 0, kOther);
  EXPECT_FALSE(rider.connected());
  auto headers = upgrade_headers(kOther);
  headers["Authorization"] = "Bearer " + a.token;
  auto r = client().request("GET", "/v1/ws", "", headers);
  expect_error(r, 403, "forbidden");
  // Refused before authentication: a stranger's page learns nothing of the token.
  auto anonymous = client().request("GET", "/v1/ws", "", upgrade_headers(kOther));
  expect_error(anonymous, 403, "forbidden");
}

// Without --cors-origins nothing is allowed, and a browser's socket is refused.
class NoCors : public ChatTest {};

TEST_F(NoCors, ByDefaultNoOriginIsAllowed) {
  auto a = user("dora");
  auto r = client().request("GET", "/v1/users/me", "",
                            {{"Origin", kAllowed}, {"Authorization", "Bearer " + a.token}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
  auto pre = client().request("OPTIONS", "/v1/users/me", "",
                              {{"Origin", kAllowed}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(pre.status, 403);
  WsClient page(server_->port(), a.token, 0, kAllowed);
  EXPECT_FALSE(page.connected());
  WsClient app(server_->port(), a.token);
  EXPECT_TRUE(app.connected());
}

}  // namespace
}  // namespace chatd::test
