#include "chatd/core/fifo.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using chatd::Fifo;

TEST(Fifo, KeepsArrivalOrderAcrossCompactions) {
  Fifo<int> q;
  int next_in = 0, next_out = 0;
  // Interleave pushes and pops so that the read index passes the compaction
  // threshold many times with items still queued.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 7; ++i) q.push_back(next_in++);
    for (int i = 0; i < 5; ++i) {
      ASSERT_FALSE(q.empty());
      EXPECT_EQ(q.front(), next_out++);
      q.pop_front();
    }
    ASSERT_EQ(q.size(), static_cast<std::size_t>(next_in - next_out));
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], next_out + static_cast<int>(i));
  }
  while (!q.empty()) {
    EXPECT_EQ(q.front(), next_out++);
    q.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(Fifo, ReleasesWhatAPoppedItemHoldsAtOnce) {
  Fifo<std::shared_ptr<std::string>> q;
  auto a = std::make_shared<std::string>("a");
  auto b = std::make_shared<std::string>("b");
  q.push_back(a);
  q.push_back(b);
  q.pop_front();
  EXPECT_EQ(a.use_count(), 1);  // not kept until the storage is compacted
  EXPECT_EQ(b.use_count(), 2);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(b.use_count(), 1);
}

TEST(Fifo, AnEmptiedQueueStartsOverAndStillWorks) {
  Fifo<std::string> q;
  q.push_back("x");
  q.pop_front();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  q.push_back("y");
  EXPECT_EQ(q.front(), "y");
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
