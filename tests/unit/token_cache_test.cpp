// The token cache never outlives a revocation and never grows without bound.
#include <gtest/gtest.h>

#include "chatd/domain/token_cache.hpp"

namespace chatd::domain {
namespace {

model::User user(model::UserId id) {
  model::User u;
  u.id = id;
  u.username = "u" + std::to_string(id);
  return u;
}

TEST(TokenCache, RemembersUntilItsTimeToLive) {
  TokenCache cache(std::chrono::seconds(30));
  auto t0 = TokenCache::Clock::now();
  cache.put("h", user(7), cache.epoch(), t0);
  ASSERT_TRUE(cache.find("h", t0 + std::chrono::seconds(29)));
  EXPECT_EQ(cache.find("h", t0 + std::chrono::seconds(29))->id, 7);
  EXPECT_FALSE(cache.find("h", t0 + std::chrono::seconds(30)));
  EXPECT_FALSE(cache.find("other", t0));
}

TEST(TokenCache, ForgottenTokensAreGone) {
  TokenCache cache;
  cache.put("a", user(1), cache.epoch());
  cache.put("b", user(2), cache.epoch());
  cache.forget("a");
  EXPECT_FALSE(cache.find("a"));
  EXPECT_TRUE(cache.find("b"));
  cache.clear();
  EXPECT_FALSE(cache.find("b"));
}

TEST(TokenCache, ALookupThatStartedBeforeARevocationIsNotCached) {
  TokenCache cache;
  auto epoch = cache.epoch();  // a lookup starts, reads the database...
  cache.forget("h");           // ...the token is revoked meanwhile...
  cache.put("h", user(1), epoch);  // ...and its now stale answer arrives
  EXPECT_FALSE(cache.find("h"));
  cache.put("h", user(1), cache.epoch());  // a lookup after the revocation may cache
  EXPECT_TRUE(cache.find("h"));
}

TEST(TokenCache, StaysWithinItsCapacity) {
  TokenCache cache(std::chrono::seconds(30), 100);
  for (int i = 0; i < 1000; ++i) {
    cache.put("h" + std::to_string(i), user(i), cache.epoch());
    ASSERT_LE(cache.size(), 100u);
  }
  EXPECT_TRUE(cache.find("h999"));
}

}  // namespace
}  // namespace chatd::domain
