#include <gtest/gtest.h>

#include "chatd/realtime/notice.hpp"

using chatd::realtime::decode;
using chatd::realtime::encode;
using chatd::realtime::Notice;

TEST(Notice, EveryKindSurvivesEncodeAndDecode) {
  std::vector<Notice> all = {Notice::events(12, 3, 9), Notice::read(12, 7, 40),
                             Notice::typing(5, 6), Notice::presence(77, true),
                             Notice::presence(77, false), Notice::revoked("00ff9a"),
                             Notice::standing(8, 9), Notice::visibility(4, true),
                             Notice::visibility(4, false)};
  for (const auto& n : all) {
    auto back = decode(encode(n));
    ASSERT_TRUE(back) << encode(n);
    EXPECT_EQ(*back, n) << encode(n);
  }
  EXPECT_EQ(encode(Notice::events(12, 3, 9)), "e:12:3:9");
  EXPECT_EQ(encode(Notice::presence(4, true)), "p:4:1");
  EXPECT_EQ(encode(Notice::standing(8, 9)), "s:8:9");
}

TEST(Notice, AnythingMalformedIsRefused) {
  for (const char* bad : {"", "e", "e:", "e:1:2", "e:1:2:3:4", "e:1::3", "e:-1:2:3", "e:1:5:3",
                          "e:1:2:x", "e:1:2:3 ", "q:1:2", "p:1:2", "p:1", "t:1", "r:1:2",
                          "x:", "x:ABC", "x:12;34", "s:1", "s:1:2:3", "s:-1:2", "e1:2:3", ":1:2:3",
                          "e:99999999999999999999:1:2", "v:1:2", "v:1"}) {
    EXPECT_FALSE(decode(bad)) << "accepted '" << bad << "'";
  }
}
