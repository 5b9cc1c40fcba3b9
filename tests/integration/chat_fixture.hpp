// Helpers for conversation and message tests: users with tokens, and the
// calls most tests make.
#pragma once

#include <cctype>
#include <string>
#include <vector>

#include "harness.hpp"

namespace chatd::test {

// Percent-encodes a query parameter's value (cursors, search terms).
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct TestUser {
  long long id = 0;
  std::string token;
};

class ChatTest : public ServerTest {
 protected:
  TestUser user(const std::string& name) {
    Json u;
    auto token = login_new_user(name, &u);
    return {u.value("id", 0LL), token};
  }
  HttpResult direct(const TestUser& me, const TestUser& peer) {
    return client().post("/v1/conversations", {{"kind", "direct"}, {"peer_id", peer.id}}, me.token);
  }
  long long group(const TestUser& owner, const std::vector<TestUser>& members,
                  const std::string& title = "team") {
    std::vector<long long> ids;
    for (auto& m : members) ids.push_back(m.id);
    auto r = client().post("/v1/conversations",
                           {{"kind", "group"}, {"title", title}, {"member_ids", ids}}, owner.token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["conversation"].value("id", 0LL);
  }
  static std::string conv_path(long long id) { return "/v1/conversations/" + std::to_string(id); }
  HttpResult send(const TestUser& me, long long conv, const std::string& client_msg_id,
                  const std::string& body) {
    return client().post(conv_path(conv) + "/messages",
                         {{"client_msg_id", client_msg_id}, {"body", body}}, me.token);
  }
  HttpResult request(const TestUser& me, const std::string& method, const std::string& target,
                     const std::string& body = "") {
    return client().request(method, target, body, {{"Authorization", "Bearer " + me.token}});
  }
  static void expect_error(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = Json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
  }
};

}  // namespace chatd::test
