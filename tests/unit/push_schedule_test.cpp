// The push worker's pure decisions: retry spacing, giving up, the webhook body
// and its idempotency key; and the webhook URL.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chatd/push/endpoint.hpp"
#include "chatd/push/schedule.hpp"

namespace chatd::push {
namespace {

Job job(std::int64_t id, model::Seq seq, double age = 1, int attempts = 0) {
  Job j;
  j.id = id;
  j.user = 7;
  j.conversation = 3;
  j.seq = seq;
  j.sender = 9;
  j.preview = "hi " + std::to_string(seq);
  j.age_seconds = age;
  j.attempts = attempts;
  return j;
}

TEST(PushSchedule, RetriesStartAtOneSecondAndDoubleUpToTenMinutes) {
  EXPECT_EQ(retry_delay(0).count(), 1);
  EXPECT_EQ(retry_delay(1).count(), 2);
  EXPECT_EQ(retry_delay(5).count(), 32);
  EXPECT_EQ(retry_delay(9).count(), 512);
  EXPECT_EQ(retry_delay(10).count(), 600);
  EXPECT_EQ(retry_delay(1000).count(), 600);
  EXPECT_EQ(retry_delay(-1).count(), 1);
}

TEST(PushSchedule, AFailedJobOlderThanTheGiveUpIsDroppedTheOthersRetried) {
  auto next = after_failure({job(1, 10, 86400.5, 20), job(2, 11, 30, 3)}, std::chrono::hours(24));
  EXPECT_EQ(next.failed, std::vector<std::int64_t>{1});
  EXPECT_EQ(next.retry, std::vector<std::int64_t>{2});
  EXPECT_EQ(next.retry_after_seconds, std::vector<std::int64_t>{8});
}

TEST(PushSchedule, OnePostStandsForAllOfAUsersJobsAndNamesTheNewest) {
  auto body = nlohmann::json::parse(payload({job(4, 10), job(5, 11), job(9, 12)}, 17));
  EXPECT_EQ(body["user_id"], 7);
  EXPECT_EQ(body["conversation_id"], 3);
  EXPECT_EQ(body["seq"], 12);
  EXPECT_EQ(body["sender_id"], 9);
  EXPECT_EQ(body["preview"], "hi 12");
  EXPECT_EQ(body["unread_total"], 17);
  EXPECT_EQ(body["messages"], 3);
  ASSERT_EQ(body["jobs"].size(), 3u);
  EXPECT_EQ(body["jobs"][0]["seq"], 10);
  EXPECT_EQ(idempotency_key({job(4, 10), job(5, 11), job(9, 12)}), "7:4-9");
  EXPECT_EQ(idempotency_key({job(4, 10)}), "7:4-4");
}

TEST(PushEndpoint, PlainHttpUrlsParseAndEverythingElseIsRefusedWithAReason) {
  auto e = parse_endpoint("http://127.0.0.1:9000/push?x=1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9000);
  EXPECT_EQ(e->target, "/push?x=1");
  auto bare = parse_endpoint("http://gateway");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->target, "/");
  auto v6 = parse_endpoint("http://[::1]:81/p");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 81);
  for (const char* bad : {"https://gw/push", "ftp://gw", "gw:80/push", "http://", "http://:80/",
                          "http://gw:0/", "http://gw:99999/", "http://gw:x/", "http://u:p@gw/",
                          "http://gw/a b", "http://gw/#frag", "http://[::1/"}) {
    auto r = parse_endpoint(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_NE(parse_endpoint("https://gw/").error().message.find("https"), std::string::npos);
}

}  // namespace
}  // namespace chatd::push
