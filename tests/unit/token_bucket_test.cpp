#include <gtest/gtest.h>

#include "chatd/core/token_bucket.hpp"

using chatd::TokenBucket;
using namespace std::chrono_literals;

TEST(TokenBucket, AllowsABurstThenTheRateAndSaysHowLongToWait) {
  TokenBucket bucket(10, 3);
  auto t0 = TokenBucket::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(nullptr, t0));
  std::chrono::milliseconds wait{0};
  EXPECT_FALSE(bucket.try_take(&wait, t0));
  EXPECT_GT(wait.count(), 0);
  EXPECT_LE(wait.count(), 101);
  EXPECT_FALSE(bucket.try_take(nullptr, t0 + 50ms));
  EXPECT_TRUE(bucket.try_take(nullptr, t0 + 110ms));
  // Idle time fills the bucket up to the burst, no further.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(nullptr, t0 + 10s));
  EXPECT_FALSE(bucket.try_take(nullptr, t0 + 10s));
}

TEST(TokenBucket, ARateOfZeroIsNoLimit) {
  TokenBucket off(0, 0);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(off.try_take());
}
