// A WebSocket's outgoing frames (src/net/out_queue.hpp): presence waits
// behind everything else, each lane keeps its order, and the bounds the
// socket enforces count both lanes.
#include "net/out_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using chatd::net::OutFrame;
using chatd::net::OutQueue;
using Lane = chatd::net::OutQueue::Lane;
namespace ws = chatd::net::ws;

OutFrame queued_text(const std::string& s) {
  return OutFrame{std::make_shared<const std::string>(s), ws::Opcode::text};
}

std::vector<std::string> drain(OutQueue& q) {
  std::vector<std::string> out;
  while (!q.empty()) out.push_back(*q.pop().payload);
  return out;
}

TEST(OutQueue, AMessageQueuedAfterAPresenceStormIsWrittenBeforeIt) {
  OutQueue q;
  for (int i = 0; i < 500; ++i) q.push(queued_text("presence " + std::to_string(i)), Lane::deferred);
  q.push(queued_text("message"));
  EXPECT_EQ(*q.pop().payload, "message");
  EXPECT_EQ(*q.pop().payload, "presence 0");
}

TEST(OutQueue, EachLaneKeepsItsOrder) {
  OutQueue q;
  q.push(queued_text("online"), Lane::deferred);
  q.push(queued_text("event 1"));
  q.push(queued_text("offline"), Lane::deferred);
  q.push(queued_text("event 2"));
  q.push(queued_text("online again"), Lane::deferred);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"event 1", "event 2", "online", "offline",
                                                "online again"}));
}

TEST(OutQueue, AFrameArrivingWhilePresenceDrainsStillGoesNext) {
  OutQueue q;
  q.push(queued_text("p1"), Lane::deferred);
  q.push(queued_text("p2"), Lane::deferred);
  EXPECT_EQ(*q.pop().payload, "p1");
  q.push(OutFrame{std::make_shared<const std::string>(""), ws::Opcode::ping});
  EXPECT_EQ(q.pop().op, ws::Opcode::ping);
  EXPECT_EQ(*q.pop().payload, "p2");
  EXPECT_TRUE(q.empty());
}

TEST(OutQueue, TheBoundsCountBothLanesAndOnlyTextBytes) {
  OutQueue q;
  q.push(queued_text("12345"), Lane::deferred);
  q.push(queued_text("123"));
  q.push(OutFrame{std::make_shared<const std::string>("ping data"), ws::Opcode::ping});
  EXPECT_EQ(q.frames(), 3u);
  EXPECT_EQ(q.bytes(), 8u);
  q.pop();  // "123"
  EXPECT_EQ(q.bytes(), 5u);
  q.pop();  // the ping
  EXPECT_EQ(q.bytes(), 5u);
  EXPECT_EQ(q.frames(), 1u);
  q.push(queued_text("x"));
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.frames(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

}  // namespace
