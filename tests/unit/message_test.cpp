#include <gtest/gtest.h>

#include "chatd/http/errors.hpp"
#include "chatd/http/message.hpp"

using namespace chatd;
using namespace chatd::http;

TEST(Target, SplitsPathAndDecodesQuery) {
  std::string path;
  Fields q;
  ASSERT_TRUE(parse_target("/v1/users?prefix=al%2Eb&limit=20&x", path, q));
  EXPECT_EQ(path, "/v1/users");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].first, "prefix");
  EXPECT_EQ(q[0].second, "al.b");
  EXPECT_EQ(q[1].second, "20");
  EXPECT_EQ(q[2].first, "x");
  EXPECT_EQ(q[2].second, "");
}

TEST(Target, RejectsBadEscapes) {
  std::string path;
  Fields q;
  EXPECT_FALSE(parse_target("/v1/users?prefix=%G1", path, q));
  EXPECT_FALSE(parse_target("/v1/users?prefix=%4", path, q));
}

TEST(Request, BearerTokenIsCaseInsensitiveOnTheScheme) {
  Request r;
  r.headers = {{"authorization", "bearer abc"}};
  EXPECT_EQ(r.bearer_token(), "abc");
  r.headers = {{"authorization", "Bearer  xyz "}};
  EXPECT_EQ(r.bearer_token(), "xyz");
  r.headers = {{"authorization", "Basic abc"}};
  EXPECT_EQ(r.bearer_token(), "");
  r.headers = {};
  EXPECT_EQ(r.bearer_token(), "");
}

TEST(ErrorResponse, HasContractShapeAndStatus) {
  auto res = error_response(Error::conflict("username_taken", "taken"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(res.body, R"({"error":{"code":"username_taken","message":"taken"}})");
  EXPECT_EQ(error_response(Error::invalid("x")).status, 400);
  EXPECT_EQ(error_response(Error::unauthenticated()).status, 401);
  EXPECT_EQ(error_response(Error::not_found("x")).status, 404);
  auto busy = error_response(Error::unavailable("x"));
  EXPECT_EQ(busy.status, 503);
  bool retry_after = false;
  for (auto& [k, v] : busy.headers) retry_after |= k == "Retry-After";
  EXPECT_TRUE(retry_after);
}

TEST(ErrorResponse, SurvivesInvalidUtf8InTheMessage) {
  auto res = error_response(Error::invalid("bad \xFF input"));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("invalid_request"), std::string::npos);
}
