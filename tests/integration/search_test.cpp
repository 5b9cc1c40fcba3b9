// GET /v1/search/messages on a real server and PostgreSQL: word prefixes in
// Latin script, substrings in Chinese, Japanese and Korean, emoji; deleted,
// edited, former members, paging.
#include <gtest/gtest.h>

#include <set>

#include "chat_fixture.hpp"

namespace chatd::test {
namespace {

class Search : public ChatTest {
 protected:
  HttpResult search(const TestUser& u, const std::string& q, const std::string& extra = "") {
    return request(u, "GET", "/v1/search/messages?q=" + url_encode(q) + extra);
  }
  // The bodies found, newest first.
  std::vector<std::string> bodies(const TestUser& u, const std::string& q, const std::string& extra = "") {
    auto r = search(u, q, extra);
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    std::vector<std::string> out;
    auto j = r.json();  // kept: a range-for over r.json()["results"] would dangle
    for (const auto& item : j["results"]) out.push_back(item["message"].value("body", ""));
    return out;
  }
  long long sent(const TestUser& u, long long conv, const std::string& id, const std::string& body) {
    auto r = send(u, conv, id, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["message"].value("seq", 0LL);
  }
};

using Bodies = std::vector<std::string>;

TEST_F(Search, LatinWordsMatchByPrefixWhateverTheCase) {
  auto a = user("sally"), b = user("sam");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  sent(a, id, "1", "Hello there");
  sent(b, id, "2", "say HELLO to Élodie");
  sent(a, id, "3", "othello is a play");
  sent(b, id, "4", "nothing to see");
  EXPECT_EQ(bodies(a, "hel"), (Bodies{"say HELLO to Élodie", "Hello there"})) << "newest first";
  EXPECT_EQ(bodies(b, "HeLLo"), (Bodies{"say HELLO to Élodie", "Hello there"}));
  EXPECT_EQ(bodies(a, "ello"), Bodies{}) << "a word's beginning, not its middle";
  EXPECT_EQ(bodies(a, "élo"), Bodies{"say HELLO to Élodie"});
  EXPECT_EQ(bodies(a, "hello the"), Bodies{"Hello there"}) << "every word must match";
  auto r = search(a, "hel");
  ASSERT_EQ(r.status, 200);
  auto first = r.json()["results"][0]["message"];
  EXPECT_EQ(first.value("conversation_id", 0LL), id);
  EXPECT_EQ(first.value("seq", 0LL), 3);
  EXPECT_EQ(first.value("sender_id", 0LL), b.id);
  EXPECT_TRUE(r.json()["next_cursor"].is_null());
}

TEST_F(Search, ChineseJapaneseKoreanAndEmojiMatchAsSubstrings) {
  auto a = user("lin"), b = user("kim");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  sent(a, id, "1", "大家你好");
  sent(b, id, "2", "今日はいい天気ですね");
  sent(a, id, "3", "안녕하세요 여러분");
  sent(b, id, "4", "party time 🎉🎉");
  EXPECT_EQ(bodies(a, "你好"), Bodies{"大家你好"});
  EXPECT_EQ(bodies(a, "好"), Bodies{"大家你好"}) << "a single character";
  EXPECT_EQ(bodies(a, "天気"), Bodies{"今日はいい天気ですね"});
  EXPECT_EQ(bodies(a, "하세요"), Bodies{"안녕하세요 여러분"});
  EXPECT_EQ(bodies(a, "🎉"), Bodies{"party time 🎉🎉"});
  EXPECT_EQ(bodies(a, "你们"), Bodies{});
}

TEST_F(Search, WildcardsInTheQueryAreLiteral) {
  auto a = user("wendy"), b = user("will");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  sent(a, id, "1", "100% sure");
  sent(a, id, "2", "1000 sure");
  sent(a, id, "3", "snake_case (and regex.*)");
  EXPECT_EQ(bodies(a, "100%"), Bodies{"100% sure"});
  EXPECT_EQ(bodies(a, "snake_"), Bodies{"snake_case (and regex.*)"});
  EXPECT_EQ(bodies(a, "(and"), Bodies{"snake_case (and regex.*)"});
  EXPECT_EQ(bodies(a, "regex.*"), Bodies{"snake_case (and regex.*)"});
  EXPECT_EQ(bodies(a, "snake%"), Bodies{});
}

TEST_F(Search, DeletedMessagesAreNeverFoundAndEditedOnesByTheirCurrentBody) {
  auto a = user("dora"), b = user("dan");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  auto gone = sent(a, id, "1", "secret plan");
  auto changed = sent(a, id, "2", "meet at noon");
  ASSERT_EQ(request(a, "DELETE", conv_path(id) + "/messages/" + std::to_string(gone)).status, 200);
  ASSERT_EQ(request(a, "PATCH", conv_path(id) + "/messages/" + std::to_string(changed),
                    R"({"body":"meet at midnight"})").status, 200);
  EXPECT_EQ(bodies(b, "secret"), Bodies{});
  EXPECT_EQ(bodies(b, "noon"), Bodies{});
  EXPECT_EQ(bodies(b, "midnight"), Bodies{"meet at midnight"});
}

TEST_F(Search, OnlyTheCallersConversationsAndNothingAfterLeaving) {
  auto a = user("olga"), b = user("omar"), stranger = user("otto");
  auto g = group(a, {b});
  sent(a, g, "1", "quarterly numbers");
  auto dm = direct(a, stranger).json()["conversation"].value("id", 0LL);
  sent(stranger, dm, "2", "quarterly party");
  EXPECT_EQ(bodies(b, "quarterly"), Bodies{"quarterly numbers"});
  EXPECT_EQ(bodies(a, "quarterly").size(), 2u);
  EXPECT_EQ(bodies(a, "quarterly", "&conversation_id=" + std::to_string(g)), Bodies{"quarterly numbers"});
  expect_error(search(stranger, "quarterly", "&conversation_id=" + std::to_string(g)), 404, "not_found");

  ASSERT_EQ(request(b, "DELETE", conv_path(g) + "/members/" + std::to_string(b.id)).status, 204);
  EXPECT_EQ(bodies(b, "quarterly"), Bodies{}) << "a former member finds nothing";
  expect_error(search(b, "quarterly", "&conversation_id=" + std::to_string(g)), 404, "not_found");
}

TEST_F(Search, PagesWalkEveryResultOnceNewestFirst) {
  auto a = user("pia"), b = user("pete");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  auto g = group(a, {b});
  for (int i = 1; i <= 7; ++i) {
    sent(i % 2 ? a : b, i % 3 ? id : g, "p" + std::to_string(i), "ping number " + std::to_string(i));
  }
  sent(a, id, "other", "pong");
  std::vector<std::string> all;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = search(b, "ping", "&limit=3" + (cursor.empty() ? "" : "&cursor=" + url_encode(cursor)));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_LE(j["results"].size(), 3u);
    for (const auto& item : j["results"]) all.push_back(item["message"].value("body", ""));
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].get<std::string>();
  }
  Bodies expected;
  for (int i = 7; i >= 1; --i) expected.push_back("ping number " + std::to_string(i));
  EXPECT_EQ(all, expected);
}

// Past the walk's budget (kWalkBudget messages), a rare term is answered by
// the trigram index: the same results, the same order, the same cursors.
TEST_F(Search, ARareTermBeyondTheWalksBudgetIsFoundThroughTheIndexInTheSameOrder) {
  auto a = user("rita"), b = user("ron");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  sent(a, id, "early", "zebra early");  // seq 2
  // 1,500 older-than-the-next messages, written straight to the table.
  auto conv = std::to_string(id);
  db_->query("INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body) "
             "SELECT " + conv + ", 2 + g, " + std::to_string(a.id) + ", 'f' || g, 'filler ' || g "
             "FROM generate_series(1, 1500) g");
  db_->query("UPDATE conversations SET last_seq = 1502 WHERE id = " + conv);
  sent(b, id, "late", "zebra late");  // seq 1503
  for (int round = 0; round < 2; ++round) {  // the second time, the index at once
    EXPECT_EQ(bodies(a, "zebra"), (Bodies{"zebra late", "zebra early"})) << "round " << round;
    auto first = search(a, "zebra", "&limit=1");
    ASSERT_EQ(first.status, 200);
    auto j = first.json();
    ASSERT_EQ(j["results"].size(), 1u);
    EXPECT_EQ(j["results"][0]["message"].value("body", ""), "zebra late");
    auto cursor = j["next_cursor"].get<std::string>();
    EXPECT_EQ(bodies(a, "zebra", "&limit=1&cursor=" + url_encode(cursor)), Bodies{"zebra early"});
  }
  // A common term is walked: the newest five, then the next five.
  auto r = search(a, "filler", "&limit=5");
  ASSERT_EQ(r.status, 200);
  auto j = r.json();
  Bodies five;
  for (const auto& item : j["results"]) five.push_back(item["message"].value("body", ""));
  EXPECT_EQ(five, (Bodies{"filler 1500", "filler 1499", "filler 1498", "filler 1497", "filler 1496"}));
  auto next = bodies(a, "filler", "&limit=5&cursor=" + url_encode(j["next_cursor"].get<std::string>()));
  EXPECT_EQ(next, (Bodies{"filler 1495", "filler 1494", "filler 1493", "filler 1492", "filler 1491"}));
}

// Messages appended later never carry an older time than those before them
// in the same conversation (the walk relies on it), even when the database
// clock says otherwise.
TEST_F(Search, AMessageIsNeverOlderThanTheOneBeforeIt) {
  auto a = user("tom"), b = user("tim");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  sent(a, id, "1", "first");
  db_->query("UPDATE messages SET created_at = now() + interval '1 hour' WHERE conversation_id = " +
             std::to_string(id));
  sent(b, id, "2", "second");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages a JOIN messages b ON a.conversation_id = "
                       "b.conversation_id AND b.seq > a.seq WHERE b.created_at < a.created_at"),
            "0");
  EXPECT_EQ(bodies(a, "s"), Bodies{"second"});
  EXPECT_EQ(bodies(a, "f"), Bodies{"first"});
}

TEST_F(Search, BadQueriesAreRefusedNamingTheParameter) {
  auto a = user("quinn");
  expect_error(request(a, "GET", "/v1/search/messages"), 400, "invalid_request");
  expect_error(search(a, ""), 400, "invalid_request");
  expect_error(search(a, "   "), 400, "invalid_request");
  expect_error(search(a, std::string(201, 'x')), 400, "invalid_request");
  expect_error(search(a, "ok", "&limit=0"), 400, "invalid_request");
  expect_error(search(a, "ok", "&cursor=garbage"), 400, "invalid_request");
  expect_error(search(a, "ok", "&conversation_id=abc"), 400, "invalid_request");
  expect_error(request(a, "GET", "/v1/search/messages?q=%FF%FE"), 400, "invalid_request");
  expect_error(request(a, "GET", "/v1/search/messages?q=a%00b"), 400, "invalid_request");
  EXPECT_EQ(client().get("/v1/search/messages?q=hi").status, 401);
  EXPECT_EQ(search(a, std::string(200, 'x')).status, 200);
}

}  // namespace
}  // namespace chatd::test
