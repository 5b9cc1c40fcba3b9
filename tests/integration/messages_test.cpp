// Messages and the log through the real server: sends and safe retries under
// concurrency, gap-free seqs, history pagination, edits, tombstones,
// reactions, and bad input that must change nothing.
#include <atomic>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "chat_fixture.hpp"

namespace chatd::test {
namespace {

class Messages : public ChatTest {
 protected:
  void SetUp() override {
    ChatTest::SetUp();
    a_ = user("alba");
    b_ = user("boris");
    conv_ = direct(a_, b_).json()["conversation"].value("id", 0LL);
  }
  std::string base() const { return conv_path(conv_); }
  TestUser a_, b_;
  long long conv_ = 0;
};

TEST_F(Messages, SendReturnsTheStoredMessageAndItsEvent) {
  auto r = send(a_, conv_, "c-1", "héllo 👋");
  ASSERT_EQ(r.status, 201) << r.body;
  auto m = r.json()["message"];
  EXPECT_EQ(m["conversation_id"], conv_);
  EXPECT_EQ(m["seq"], 2);
  EXPECT_EQ(m["sender_id"], a_.id);
  EXPECT_EQ(m["client_msg_id"], "c-1");
  EXPECT_EQ(m["body"], "héllo 👋");
  EXPECT_TRUE(m["reply_to"].is_null());
  EXPECT_TRUE(m["edited_at"].is_null());
  EXPECT_EQ(m["deleted"], false);
  EXPECT_EQ(m["reactions"], Json::object());
  EXPECT_TRUE(std::regex_match(m["created_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  // The log's message.created carries exactly the same message.
  auto events = client().get(base() + "/events?after=1", a_.token).json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["kind"], "message.created");
  EXPECT_EQ(events[0]["actor_id"], a_.id);
  EXPECT_EQ(events[0]["data"], m);

  auto reply = client().post(base() + "/messages",
                             {{"client_msg_id", "c-2"}, {"body", "re"}, {"reply_to", 2}}, b_.token);
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.json()["message"]["reply_to"], 2);
}

// Answers larger than the socket takes at once (three pipelined history
// pages of 120 messages of 4,000 four-byte characters, 1.9 MB each: more
// than a loopback socket's send buffer grows to, 4 MiB, to a client with a
// 4 KiB window that waits before reading) are written as the client drains
// them: whole, in order, and the connection then serves the next request.
TEST_F(Messages, AnswersLargerThanTheSocketTakesArriveWholeToASlowReader) {
  constexpr int kMessages = 120;
  constexpr int kPages = 3;
  std::string wide;
  for (int i = 0; i < 4000; ++i) wide += "\xF0\x9F\x98\x80";  // U+1F600
  for (int i = 0; i < kMessages; ++i) {
    auto r = send(i % 2 ? b_ : a_, conv_, "big-" + std::to_string(i), wide);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  RawSocket s(server_->port(), 4096);
  std::string requests;
  for (int i = 0; i < kPages; ++i) {
    requests += "GET " + base() + "/messages?limit=200 HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer " + a_.token + "\r\n\r\n";
  }
  ASSERT_TRUE(s.send(requests + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto got = s.read_until("{\"status\":\"ok\"}", std::chrono::seconds(20));
  std::size_t at = 0;
  for (int i = 0; i < kPages; ++i) {
    SCOPED_TRACE("page " + std::to_string(i));
    ASSERT_EQ(got.compare(at, 17, "HTTP/1.1 200 OK\r\n"), 0) << got.substr(at, 200);
    auto head_end = got.find("\r\n\r\n", at);
    ASSERT_NE(head_end, std::string::npos);
    std::string head = got.substr(at, head_end - at);
    std::smatch length;
    ASSERT_TRUE(std::regex_search(head, length, std::regex("Content-Length: (\\d+)"))) << head;
    std::size_t n = std::stoul(length[1].str());
    EXPECT_GT(n, 1900000u);
    ASSERT_LE(head_end + 4 + n, got.size());
    auto page = Json::parse(got.substr(head_end + 4, n), nullptr, false);
    ASSERT_FALSE(page.is_discarded());
    ASSERT_EQ(page["messages"].size(), static_cast<std::size_t>(kMessages));
    EXPECT_EQ(page["messages"][0]["body"], wide);
    at = head_end + 4 + n;
  }
  EXPECT_EQ(got.compare(at, 17, "HTTP/1.1 200 OK\r\n"), 0) << got.substr(at, 200);
}

TEST_F(Messages, RetryWithSameClientMsgIdReturnsTheOriginal) {
  auto first = send(a_, conv_, "same", "once");
  ASSERT_EQ(first.status, 201);
  auto retry = send(a_, conv_, "same", "once");
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.json()["message"], first.json()["message"]);
  // Another sender may use the same id.
  EXPECT_EQ(send(b_, conv_, "same", "mine").status, 201);
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "2");
  EXPECT_EQ(db_->query("SELECT count(*) FROM events"), "3");
}

TEST_F(Messages, FiftyConcurrentSendsTakeConsecutiveSeqsOnce) {
  constexpr int kSends = 50;
  std::vector<std::future<HttpResult>> results;
  for (int i = 0; i < kSends; ++i) {
    results.push_back(std::async(std::launch::async, [this, i] {
      HttpClient c(server_->port());
      const auto& who = i % 2 ? a_ : b_;
      return c.post(base() + "/messages",
                    {{"client_msg_id", "p-" + std::to_string(i)}, {"body", "m" + std::to_string(i)}},
                    who.token);
    }));
  }
  std::set<long long> seqs;
  for (auto& f : results) {
    auto r = f.get();
    ASSERT_EQ(r.status, 201) << r.body;
    seqs.insert(r.json()["message"].value("seq", 0LL));
  }
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kSends));
  EXPECT_EQ(*seqs.begin(), 2);                 // seq 1 is conversation.created
  EXPECT_EQ(*seqs.rbegin(), kSends + 1);
  // The log has no gap and no duplicate either.
  EXPECT_EQ(db_->query("SELECT count(DISTINCT seq) = max(seq) AND min(seq) = 1 FROM events "
                       "WHERE conversation_id = " + std::to_string(conv_)), "t");
  EXPECT_EQ(db_->query("SELECT last_seq FROM conversations"), std::to_string(kSends + 1));
}

TEST_F(Messages, TwentyConcurrentRetriesStoreOneMessage) {
  std::vector<std::future<HttpResult>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(std::async(std::launch::async, [this] {
      HttpClient c(server_->port());
      return c.post(base() + "/messages", {{"client_msg_id", "flaky"}, {"body", "once only"}},
                    a_.token);
    }));
  }
  int created = 0, repeated = 0;
  std::set<long long> seqs;
  for (auto& f : results) {
    auto r = f.get();
    if (r.status == 201) ++created;
    if (r.status == 200) ++repeated;
    seqs.insert(r.json()["message"].value("seq", 0LL));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(repeated, 19);
  EXPECT_EQ(seqs.size(), 1u);
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(db_->query("SELECT last_seq FROM conversations"), "2");
}

TEST_F(Messages, BadMessagesAreRefusedAndChangeNothing) {
  auto post = [&](const std::string& body) { return request(a_, "POST", base() + "/messages", body); };
  expect_error(post(R"({"client_msg_id":"x","body":""})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"x","body":")" + std::string(4001, 'b') + "\"}"), 400, "invalid_request");
  expect_error(post("{\"client_msg_id\":\"x\",\"body\":\"bad \xC3\x28\"}"), 400, "invalid_request");
  expect_error(post(R"({"body":"no id"})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"","body":"empty id"})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"x","body":42})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"x","body":"nul \u0000 inside"})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"x","body":"r","reply_to":"2"})"), 400, "invalid_request");
  expect_error(post(R"({"client_msg_id":"x","body":"r","reply_to":77})"), 400, "invalid_request");
  expect_error(post("not json"), 400, "invalid_request");
  expect_error(request(a_, "POST", "/v1/conversations/abc/messages", R"({"client_msg_id":"x","body":"b"})"), 400, "invalid_request");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "0");
  EXPECT_EQ(db_->query("SELECT last_seq FROM conversations"), "1");
  // 4000 characters (of several bytes each) is fine.
  std::string longest;
  for (int i = 0; i < 4000; ++i) longest += "é";
  EXPECT_EQ(send(a_, conv_, "long", longest).status, 201);
}

TEST_F(Messages, EditBySenderOnlyAndNotOnceDeleted) {
  ASSERT_EQ(send(a_, conv_, "e1", "typo").status, 201);  // seq 2
  auto edited = request(a_, "PATCH", base() + "/messages/2", R"({"body":"fixed"})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json()["message"]["body"], "fixed");
  EXPECT_FALSE(edited.json()["message"]["edited_at"].is_null());
  expect_error(request(b_, "PATCH", base() + "/messages/2", R"({"body":"hijack"})"), 403, "forbidden");
  expect_error(request(a_, "PATCH", base() + "/messages/99", R"({"body":"x"})"), 404, "not_found");
  expect_error(request(a_, "PATCH", base() + "/messages/x", R"({"body":"x"})"), 400, "invalid_request");
  expect_error(request(a_, "PATCH", base() + "/messages/2", R"({"body":""})"), 400, "invalid_request");
  ASSERT_EQ(request(a_, "DELETE", base() + "/messages/2").status, 200);
  expect_error(request(a_, "PATCH", base() + "/messages/2", R"({"body":"again"})"), 409, "message_deleted");
  auto log = client().get(base() + "/events?after=2", a_.token).json()["events"];
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["kind"], "message.edited");
  EXPECT_EQ(log[0]["data"]["seq"], 2);
  EXPECT_EQ(log[0]["data"]["body"], "");  // the deletion took the edit's text out of the log too
  EXPECT_EQ(log[1]["kind"], "message.deleted");
}

TEST_F(Messages, DeleteLeavesATombstoneInHistoryAndLog) {
  ASSERT_EQ(send(a_, conv_, "d1", "regret").status, 201);  // seq 2
  ASSERT_EQ(request(b_, "PUT", base() + "/messages/2/reactions/%F0%9F%98%82").status, 200);
  expect_error(request(b_, "DELETE", base() + "/messages/2"), 403, "forbidden");
  auto del = request(a_, "DELETE", base() + "/messages/2");
  ASSERT_EQ(del.status, 200) << del.body;
  auto m = del.json()["message"];
  EXPECT_EQ(m["deleted"], true);
  EXPECT_EQ(m["body"], "");
  EXPECT_EQ(m["reactions"], Json::object());
  // Deleting again changes nothing and logs nothing.
  EXPECT_EQ(request(a_, "DELETE", base() + "/messages/2").status, 200);
  auto history = client().get(base() + "/messages", a_.token).json()["messages"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["deleted"], true);
  EXPECT_EQ(history[0]["body"], "");
  EXPECT_EQ(history[0]["seq"], 2);
  auto log = client().get(base() + "/events", a_.token).json()["events"];
  ASSERT_EQ(log.size(), 4u);  // created, message, reaction, deleted
  EXPECT_EQ(log[3]["kind"], "message.deleted");
  EXPECT_EQ(log[3]["data"]["seq"], 2);
  // The original text is gone from storage, not only hidden: from the message
  // and from its log entries, edits included.
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages WHERE body = 'regret'"), "0");
  EXPECT_EQ(log[1]["data"]["body"], "");
  EXPECT_EQ(log[1]["data"]["deleted"], true);
  ASSERT_EQ(send(a_, conv_, "d2", "second thoughts").status, 201);  // seq 5
  ASSERT_EQ(request(a_, "PATCH", base() + "/messages/5", R"({"body":"edited secret"})").status, 200);
  ASSERT_EQ(request(a_, "DELETE", base() + "/messages/5").status, 200);
  EXPECT_EQ(db_->query("SELECT count(*) FROM events WHERE data::text LIKE '%secret%' "
                       "OR data::text LIKE '%second thoughts%' OR data::text LIKE '%regret%'"), "0");
}

TEST_F(Messages, GroupAdminMayDeleteOthersMessages) {
  auto c = user("carl");
  auto g = group(a_, {b_, c});
  ASSERT_EQ(send(b_, g, "g1", "spam").status, 201);  // seq 2
  expect_error(request(c, "DELETE", conv_path(g) + "/messages/2"), 403, "forbidden");
  auto del = request(a_, "DELETE", conv_path(g) + "/messages/2");
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.json()["message"]["deleted"], true);
}

TEST_F(Messages, ReactionsAreIdempotentAndCounted) {
  ASSERT_EQ(send(a_, conv_, "r1", "react to me").status, 201);  // seq 2
  std::string thumbs = "/messages/2/reactions/%F0%9F%91%8D";
  auto r1 = request(a_, "PUT", base() + thumbs);
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(r1.json()["message"]["reactions"]["👍"], 1);
  EXPECT_EQ(request(a_, "PUT", base() + thumbs).json()["message"]["reactions"]["👍"], 1);
  EXPECT_EQ(request(b_, "PUT", base() + thumbs).json()["message"]["reactions"]["👍"], 2);
  EXPECT_EQ(request(b_, "DELETE", base() + thumbs).json()["message"]["reactions"]["👍"], 1);
  EXPECT_EQ(request(b_, "DELETE", base() + thumbs).status, 200);
  std::vector<std::string> kinds;
  auto log = client().get(base() + "/events?after=2", a_.token).json();
  for (auto& e : log["events"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"reaction.added", "reaction.added", "reaction.removed"}));

  expect_error(request(a_, "PUT", base() + "/messages/2/reactions/" + std::string(65, 'x')), 400, "invalid_request");
  EXPECT_EQ(request(a_, "PUT", base() + "/messages/2/reactions/" + std::string(64, 'x')).status, 200);
  expect_error(request(a_, "PUT", base() + "/messages/2/reactions/"), 404, "not_found");
  expect_error(request(a_, "PUT", base() + "/messages/2/reactions/a%20b"), 400, "invalid_request");
  expect_error(request(a_, "PUT", base() + "/messages/99/reactions/x"), 404, "not_found");
}

// The newest page is kept per conversation under its last seq
// (domain/newest_pages.hpp): every change a page shows must reach the next
// read of it, by any member, and a reader who left must not get the kept page.
TEST_F(Messages, TheNewestPageShowsEveryChangeAtOnce) {
  auto newest = [&](const TestUser& who) {
    auto r = client().get(base() + "/messages", who.token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["messages"];
  };
  ASSERT_EQ(send(a_, conv_, "n1", "first").status, 201);  // seq 2
  ASSERT_EQ(newest(a_).size(), 1u);
  ASSERT_EQ(newest(b_).size(), 1u);  // read twice: kept, and answered from it
  ASSERT_EQ(send(b_, conv_, "n2", "second").status, 201);  // seq 3
  auto page = newest(a_);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[1]["body"], "second");
  ASSERT_EQ(request(a_, "PATCH", base() + "/messages/2", R"({"body":"first, edited"})").status, 200);
  EXPECT_EQ(newest(b_)[0]["body"], "first, edited");
  ASSERT_EQ(request(b_, "PUT", base() + "/messages/2/reactions/%F0%9F%91%8D").status, 200);
  EXPECT_EQ(newest(a_)[0]["reactions"]["👍"], 1);
  ASSERT_EQ(request(b_, "DELETE", base() + "/messages/2/reactions/%F0%9F%91%8D").status, 200);
  EXPECT_EQ(newest(a_)[0]["reactions"], Json::object());
  ASSERT_EQ(request(b_, "DELETE", base() + "/messages/3").status, 200);
  page = newest(a_);
  EXPECT_EQ(page[1]["deleted"], true);
  EXPECT_EQ(page[1]["body"], "");
  // A different page size is a different page.
  auto one = client().get(base() + "/messages?limit=1", a_.token).json();
  ASSERT_EQ(one["messages"].size(), 1u);
  EXPECT_EQ(one["has_more"], true);

  // A group member who leaves is refused, though the page is kept.
  auto c = user("cyra");
  auto g = group(a_, {b_, c});
  ASSERT_EQ(send(a_, g, "g1", "to the group").status, 201);
  auto as_c = client().get(conv_path(g) + "/messages", c.token);
  ASSERT_EQ(as_c.status, 200) << as_c.body;
  ASSERT_EQ(request(a_, "DELETE", conv_path(g) + "/members/" + std::to_string(c.id)).status, 204);
  auto after = client().get(conv_path(g) + "/messages", c.token);
  EXPECT_TRUE(after.status == 403 || after.status == 404) << after.status << " " << after.body;
  EXPECT_EQ(after.body.find("to the group"), std::string::npos);
}

TEST_F(Messages, HistoryPaginationWalksAThousandMessagesExactlyOnceEachWay) {
  constexpr int kCount = 1000;
  {
    HttpClient c(server_->port());
    for (int i = 0; i < kCount; ++i) {
      auto r = c.post(base() + "/messages",
                      {{"client_msg_id", "h" + std::to_string(i)}, {"body", std::to_string(i)}},
                      a_.token);
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }
  HttpClient c(server_->port());
  // Backward from the newest page.
  std::vector<long long> backward;
  std::string target = base() + "/messages?limit=200";
  for (int pages = 0; pages < 20; ++pages) {
    auto j = c.get(target, a_.token).json();
    auto msgs = j["messages"];
    ASSERT_FALSE(msgs.empty());
    for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) backward.push_back((*it)["seq"]);
    for (std::size_t i = 1; i < msgs.size(); ++i) EXPECT_LT(msgs[i - 1]["seq"], msgs[i]["seq"]);
    if (!j["has_more"].get<bool>()) break;
    target = base() + "/messages?limit=200&before=" + std::to_string(msgs[0]["seq"].get<long long>());
  }
  // Forward from the start.
  std::vector<long long> forward;
  long long after = 0;
  for (int pages = 0; pages < 20; ++pages) {
    auto j = c.get(base() + "/messages?limit=150&after=" + std::to_string(after), a_.token).json();
    for (auto& m : j["messages"]) forward.push_back(m["seq"]);
    if (!j["has_more"].get<bool>()) break;
    after = forward.back();
  }
  ASSERT_EQ(forward.size(), static_cast<std::size_t>(kCount));
  ASSERT_EQ(backward.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(forward[i], i + 2);
    EXPECT_EQ(backward[i], kCount + 1 - i);
  }
  // has_more is exact at the boundary.
  auto last = c.get(base() + "/messages?limit=1&after=" + std::to_string(kCount), a_.token).json();
  EXPECT_EQ(last["messages"].size(), 1u);
  EXPECT_FALSE(last["has_more"].get<bool>());
  auto range = c.get(base() + "/messages?after=10&before=15", a_.token).json();
  EXPECT_EQ(range["messages"].size(), 4u);
  // Events page the same way.
  auto ev = c.get(base() + "/events?after=995&limit=5", a_.token).json();
  EXPECT_EQ(ev["events"].size(), 5u);
  EXPECT_TRUE(ev["has_more"].get<bool>());
  EXPECT_EQ(ev["events"][0]["seq"], 996);

  for (const char* bad : {"limit=0", "limit=201", "limit=10000", "limit=x", "before=-1", "after=abc"}) {
    expect_error(c.get(base() + "/messages?" + bad, a_.token), 400, "invalid_request");
  }
  expect_error(c.get(base() + "/events?limit=0", a_.token), 400, "invalid_request");
  expect_error(c.get(base() + "/events?after=x", a_.token), 400, "invalid_request");
}

}  // namespace
}  // namespace chatd::test
