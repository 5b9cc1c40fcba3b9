#include <gtest/gtest.h>

#include "chatd/http/router.hpp"

using chatd::http::Router;

namespace {
Router sample() {
  Router r;
  r.add("POST", "/v1/users");          // 0
  r.add("GET", "/v1/users");           // 1
  r.add("GET", "/v1/users/me");        // 2
  r.add("GET", "/v1/users/{id}");      // 3
  r.add("DELETE", "/v1/sessions/current");  // 4
  r.add("PUT", "/v1/conversations/{id}/messages/{seq}/reactions/{emoji}");  // 5
  return r;
}
}  // namespace

TEST(Router, MatchesLiteralRouteByMethod) {
  auto r = sample();
  auto m = r.match("GET", "/v1/users");
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  EXPECT_EQ(m.route, 1u);
  EXPECT_EQ(r.match("POST", "/v1/users").route, 0u);
}

TEST(Router, FirstMatchWinsSoLiteralMeBeatsPlaceholder) {
  auto r = sample();
  auto me = r.match("GET", "/v1/users/me");
  EXPECT_EQ(me.route, 2u);
  EXPECT_TRUE(me.params.empty());
  auto byid = r.match("GET", "/v1/users/42");
  ASSERT_EQ(byid.outcome, Router::Outcome::found);
  EXPECT_EQ(byid.route, 3u);
  ASSERT_EQ(byid.params.size(), 1u);
  EXPECT_EQ(byid.params["id"], "42");
}

TEST(Router, UnknownPathIsNotFound) {
  auto r = sample();
  EXPECT_EQ(r.match("GET", "/v1/nope").outcome, Router::Outcome::not_found);
  EXPECT_EQ(r.match("GET", "/v1/users/42/extra").outcome, Router::Outcome::not_found);
  EXPECT_EQ(r.match("GET", "").outcome, Router::Outcome::not_found);
  EXPECT_EQ(r.match("GET", "v1/users").outcome, Router::Outcome::not_found);
}

TEST(Router, EmptySegmentDoesNotFillAPlaceholder) {
  auto r = sample();
  EXPECT_EQ(r.match("GET", "/v1/users/").outcome, Router::Outcome::not_found);
}

TEST(Router, WrongMethodListsAllowedMethods) {
  auto r = sample();
  auto m = r.match("DELETE", "/v1/users");
  ASSERT_EQ(m.outcome, Router::Outcome::method_not_allowed);
  EXPECT_EQ(m.allow, "POST, GET");
  auto s = r.match("GET", "/v1/sessions/current");
  ASSERT_EQ(s.outcome, Router::Outcome::method_not_allowed);
  EXPECT_EQ(s.allow, "DELETE");
}

TEST(Router, PlaceholdersArePercentDecoded) {
  auto r = sample();
  auto m = r.match("PUT", "/v1/conversations/7/messages/3/reactions/%F0%9F%91%8D");
  ASSERT_EQ(m.outcome, Router::Outcome::found);
  ASSERT_EQ(m.params.size(), 3u);
  EXPECT_EQ(m.params["id"], "7");
  EXPECT_EQ(m.params["seq"], "3");
  EXPECT_EQ(m.params["emoji"], "\xF0\x9F\x91\x8D");
  EXPECT_THROW(m.params["user_id"], std::logic_error);
}

TEST(Router, MalformedPercentEscapeDoesNotMatch) {
  auto r = sample();
  EXPECT_EQ(r.match("PUT", "/v1/conversations/7/messages/3/reactions/%zz").outcome,
            Router::Outcome::not_found);
}

TEST(Router, PathsLongerThanAnyRouteAreNotFound) {
  auto r = sample();
  // More segments than are kept inline while matching (8).
  auto m = r.match("GET", "/v1/conversations/1/messages/2/reactions/x/y/z/w/v");
  EXPECT_EQ(m.outcome, Router::Outcome::not_found);
  auto deep = r.match("PUT", "/v1/conversations/1/messages/2/reactions/%F0%9F%91%8D");
  ASSERT_EQ(deep.outcome, Router::Outcome::found);
  EXPECT_EQ(deep.params["emoji"], "\xF0\x9F\x91\x8D");
}
