#include <gtest/gtest.h>

#include "chatd/realtime/session_index.hpp"
#include "fakes.hpp"

using namespace chatd;
using chatd::realtime::SessionIndex;
using chatd::test::RecordingSubscriber;

TEST(SessionIndex, ReportsTheFirstAndTheLastSessionOfAUser) {
  SessionIndex index;
  auto phone = std::make_shared<RecordingSubscriber>(1);
  auto laptop = std::make_shared<RecordingSubscriber>(1);
  auto other = std::make_shared<RecordingSubscriber>(2);
  EXPECT_TRUE(index.attach(phone));
  EXPECT_FALSE(index.attach(laptop));
  EXPECT_TRUE(index.attach(other));
  EXPECT_FALSE(index.attach(laptop)) << "attaching twice is not a new session";
  EXPECT_EQ(index.size(), 3u);
  EXPECT_FALSE(index.detach(phone.get()));
  EXPECT_TRUE(index.has(1));
  EXPECT_FALSE(index.detach(phone.get())) << "a second detach changes nothing";
  EXPECT_TRUE(index.detach(laptop.get()));
  EXPECT_FALSE(index.has(1));
  EXPECT_FALSE(index.detach(laptop.get()));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.sessions_of(2).size(), 1u);
  EXPECT_TRUE(index.sessions_of(1).empty());
}

TEST(SessionIndex, StaysConsistentUnderConcurrentChurn) {
  SessionIndex index;
  std::vector<std::thread> threads;
  std::atomic<int> firsts{0}, lasts{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto s = std::make_shared<RecordingSubscriber>(i % 7);
        if (index.attach(s)) ++firsts;
        if (index.detach(s.get())) ++lasts;
      }
      (void)t;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(firsts.load(), lasts.load());
  EXPECT_TRUE(index.users().empty());
}
