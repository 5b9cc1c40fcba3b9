#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "chatd/core/worker_pool.hpp"

using chatd::WorkerPool;

TEST(WorkerPool, RunsEveryJobBeforeStopReturns) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool("t", 2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.try_post([&](std::size_t) { ++ran; }));
    pool.stop();
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPool, RefusesWorkBeyondTheQueueBound) {
  WorkerPool pool("t", 1, 2);
  std::latch started(1), release(1);
  ASSERT_TRUE(pool.try_post([&](std::size_t) {
    started.count_down();
    release.wait();
  }));
  started.wait();  // the only worker is busy; now the queue fills
  EXPECT_TRUE(pool.try_post([](std::size_t) {}));
  EXPECT_TRUE(pool.try_post([](std::size_t) {}));
  EXPECT_FALSE(pool.try_post([](std::size_t) {}));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.busy(), 1u);
  release.count_down();
  pool.stop();
  EXPECT_FALSE(pool.try_post([](std::size_t) {}));
}

TEST(WorkerPool, GivesEachJobItsWorkerIndex) {
  WorkerPool pool("t", 3, 100);
  std::atomic<bool> in_range{true};
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::size_t> seen;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.try_post([&](std::size_t w) {
      if (w >= 3) in_range = false;
      std::lock_guard lock(mu);
      seen.insert(w);
      ++ran;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }));
  }
  pool.stop();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_TRUE(in_range.load());
  EXPECT_EQ(seen.size(), 3u) << "every worker has its own index and takes jobs";
}
