#include <gtest/gtest.h>

#include "chatd/core/rate_limit.hpp"

using namespace std::chrono_literals;
using chatd::KeyedRateLimiter;
using chatd::parse_rate;
using chatd::Rate;

TEST(Rate, ParsesACountPerPeriod) {
  auto r = parse_rate("50/s");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->count, 50);
  EXPECT_EQ(r->per, 1000ms);
  EXPECT_EQ(parse_rate("10/15m")->per, 15min);
  EXPECT_EQ(parse_rate("3/500ms")->per, 500ms);
  EXPECT_EQ(parse_rate("1/2h")->per, 2h);
  EXPECT_TRUE(parse_rate("0")->off());
  for (const char* bad : {"", "50", "/s", "50/", "0/s", "-1/s", "5/x", "5/0s", "5/s ", "5/25h", "x/s", "5/1.5s"}) {
    EXPECT_FALSE(parse_rate(bad)) << bad;
  }
}

TEST(KeyedRateLimiter, AQuietKeyHasItsBurstThenTheRate) {
  KeyedRateLimiter l(Rate{5, 1s}, 2.0);  // 5 a second, bursts of 10
  auto t = KeyedRateLimiter::Clock::now();
  std::chrono::milliseconds wait{};
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.try_take(1, &wait, t)) << i;
  EXPECT_FALSE(l.try_take(1, &wait, t));
  auto next = wait;
  EXPECT_GT(next.count(), 0);
  EXPECT_LE(next, 200ms);  // one token every 200 ms
  EXPECT_FALSE(l.try_take(1, &wait, t + next - 1ms));
  EXPECT_TRUE(l.try_take(1, &wait, t + next));
  // Another key is not affected.
  EXPECT_TRUE(l.try_take(2, &wait, t));
  // After a long pause the bucket is full again, never fuller.
  int taken = 0;
  while (l.try_take(1, &wait, t + 1h)) ++taken;
  EXPECT_EQ(taken, 10);
}

TEST(KeyedRateLimiter, OffTakesEverything) {
  KeyedRateLimiter l(Rate{}, 2.0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(l.try_take(7, nullptr));
  EXPECT_EQ(l.keys(), 0u);
}

TEST(KeyedRateLimiter, ForgetsQuietKeysSoMemoryStaysBounded) {
  KeyedRateLimiter l(Rate{1000, 1s}, 1.0);
  auto t = KeyedRateLimiter::Clock::now();
  for (std::int64_t k = 0; k < 2'000'000; ++k) ASSERT_TRUE(l.try_take(k, nullptr, t + std::chrono::milliseconds(k)));
  // 16 shards of at most 65536 keys, and quiet ones are swept.
  EXPECT_LE(l.keys(), 16u * 65536u);
}
