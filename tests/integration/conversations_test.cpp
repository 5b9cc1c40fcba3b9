// Conversations through the real server: direct and group creation, access,
// membership and roles, read markers and unread counts, listing, blocks.
#include <atomic>
#include <set>
#include <thread>

#include <future>

#include <pqxx/pqxx>

#include "chat_fixture.hpp"

namespace chatd::test {
namespace {

class Conversations : public ChatTest {};

TEST_F(Conversations, DirectConversationIsOnePerPairWhoeverCreatesIt) {
  auto a = user("anna"), b = user("bert");
  auto first = direct(a, b);
  ASSERT_EQ(first.status, 201) << first.body;
  auto c = first.json()["conversation"];
  EXPECT_EQ(c["kind"], "direct");
  EXPECT_TRUE(c["title"].is_null());
  EXPECT_EQ(c["last_seq"], 1);
  EXPECT_EQ(c["members"].size(), 2u);
  auto again = direct(a, b);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.json()["conversation"]["id"], c["id"]);
  auto reverse = direct(b, a);
  EXPECT_EQ(reverse.status, 200);
  EXPECT_EQ(reverse.json()["conversation"]["id"], c["id"]);
  EXPECT_EQ(db_->query("SELECT count(*) FROM conversations"), "1");

  // Its log starts with conversation.created at seq 1, carrying the members.
  auto events = client().get(conv_path(c["id"]) + "/events", a.token).json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["seq"], 1);
  EXPECT_EQ(events[0]["kind"], "conversation.created");
  EXPECT_EQ(events[0]["data"]["members"].size(), 2u);
  EXPECT_EQ(events[0]["data"]["conversation"]["id"], c["id"]);
}

TEST_F(Conversations, ConcurrentDirectCreationByBothPeersYieldsOne) {
  auto a = user("cara"), b = user("dirk");
  std::atomic<int> created{0}, found{0}, other{0};
  std::mutex mu;
  std::set<long long> ids;
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c(server_->port());
      const auto& me = i % 2 ? a : b;
      const auto& peer = i % 2 ? b : a;
      auto r = c.post("/v1/conversations", {{"kind", "direct"}, {"peer_id", peer.id}}, me.token);
      if (r.status == 201) ++created;
      else if (r.status == 200) ++found;
      else ++other;
      if (r.status < 300) {
        std::lock_guard lock(mu);
        ids.insert(r.json()["conversation"].value("id", 0LL));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(found.load(), 11);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(db_->query("SELECT count(*) FROM conversations"), "1");
  EXPECT_EQ(db_->query("SELECT count(*) FROM members"), "2");
}

TEST_F(Conversations, DirectConversationRefusals) {
  auto a = user("erik"), b = user("fay");
  expect_error(direct(a, a), 400, "invalid_request");
  expect_error(client().post("/v1/conversations", {{"kind", "direct"}, {"peer_id", 999999}}, a.token),
               404, "not_found");
  expect_error(client().post("/v1/conversations", {{"kind", "direct"}, {"peer_id", "x"}}, a.token),
               400, "invalid_request");
  expect_error(client().post("/v1/conversations", {{"kind", "direct"}}, a.token), 400,
               "invalid_request");
  expect_error(client().post("/v1/conversations", {{"kind", "channel"}}, a.token), 400,
               "invalid_request");
  expect_error(client().post("/v1/conversations", {{"kind", "direct"}, {"peer_id", b.id}}), 401,
               "unauthenticated");
  // A block either way refuses creation, and lifting it allows it.
  ASSERT_EQ(request(b, "PUT", "/v1/users/me/blocks/" + std::to_string(a.id)).status, 204);
  expect_error(direct(a, b), 403, "blocked");
  expect_error(direct(b, a), 403, "blocked");
  EXPECT_EQ(db_->query("SELECT count(*) FROM conversations"), "0");
  ASSERT_EQ(request(b, "DELETE", "/v1/users/me/blocks/" + std::to_string(a.id)).status, 204);
  EXPECT_EQ(direct(a, b).status, 201);
}

TEST_F(Conversations, BlockStopsMessagesInAnExistingDirectConversation) {
  auto a = user("gus"), b = user("hana");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(send(a, id, "m1", "hello").status, 201);
  ASSERT_EQ(request(a, "PUT", "/v1/users/me/blocks/" + std::to_string(b.id)).status, 204);
  expect_error(send(b, id, "m2", "hi?"), 403, "blocked");
  expect_error(send(a, id, "m3", "bye"), 403, "blocked");
  // A retry of a message stored before the block still answers with it.
  EXPECT_EQ(send(a, id, "m1", "hello").status, 200);
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "1");

  auto list = client().get("/v1/users/me/blocks", a.token);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json()["blocks"].size(), 1u);
  EXPECT_EQ(list.json()["blocks"][0]["user"]["id"], b.id);
  expect_error(request(a, "PUT", "/v1/users/me/blocks/" + std::to_string(a.id)), 400,
               "invalid_request");
  expect_error(request(a, "PUT", "/v1/users/me/blocks/999999"), 404, "not_found");
  expect_error(request(a, "PUT", "/v1/users/me/blocks/abc"), 400, "invalid_request");
}

TEST_F(Conversations, GroupCreatorIsOwnerAndMembersAreListed) {
  auto o = user("olga"), p = user("pete"), q = user("quin");
  auto r = client().post("/v1/conversations",
                         {{"kind", "group"}, {"title", "Trip ✈"}, {"member_ids", {p.id, q.id}}},
                         o.token);
  ASSERT_EQ(r.status, 201) << r.body;
  auto c = r.json()["conversation"];
  EXPECT_EQ(c["kind"], "group");
  EXPECT_EQ(c["title"], "Trip ✈");
  EXPECT_EQ(c["unread_count"], 0);
  EXPECT_TRUE(c["last_message"].is_null());
  std::map<long long, std::string> roles;
  for (auto& m : c["members"]) roles[m["user_id"]] = m["role"];
  EXPECT_EQ(roles, (std::map<long long, std::string>{{o.id, "owner"}, {p.id, "member"}, {q.id, "member"}}));
}

TEST_F(Conversations, BadGroupInputStoresNothing) {
  auto o = user("rosa"), p = user("sven");
  auto post = [&](const Json& body) { return client().post("/v1/conversations", body, o.token); };
  expect_error(post({{"kind", "group"}, {"title", "t"}, {"member_ids", {p.id, p.id}}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"title", "t"}, {"member_ids", {p.id, 999999}}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"title", ""}, {"member_ids", {p.id}}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"title", std::string(101, 't')}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"member_ids", {p.id}}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"title", "t"}, {"member_ids", "x"}}), 400, "invalid_request");
  expect_error(post({{"kind", "group"}, {"title", "t"}, {"member_ids", {"1"}}}), 400, "invalid_request");
  EXPECT_EQ(db_->query("SELECT count(*) FROM conversations"), "0");
  EXPECT_EQ(post({{"kind", "group"}, {"title", std::string(100, 't')}}).status, 201);
}

TEST_F(Conversations, NonMemberGets404ForEverythingUnderAConversation) {
  auto a = user("tara"), b = user("umar"), stranger = user("vera");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(send(a, id, "m1", "private").status, 201);
  auto base = conv_path(id);
  expect_error(request(stranger, "GET", base), 404, "not_found");
  expect_error(request(stranger, "GET", base + "/messages"), 404, "not_found");
  expect_error(request(stranger, "GET", base + "/events"), 404, "not_found");
  expect_error(request(stranger, "POST", base + "/messages", R"({"client_msg_id":"x","body":"hi"})"), 404, "not_found");
  expect_error(request(stranger, "POST", base + "/read", R"({"seq":1})"), 404, "not_found");
  expect_error(request(stranger, "PATCH", base, R"({"title":"mine"})"), 404, "not_found");
  expect_error(request(stranger, "POST", base + "/members", R"({"user_id":1})"), 404, "not_found");
  expect_error(request(stranger, "DELETE", base + "/members/" + std::to_string(a.id)), 404, "not_found");
  expect_error(request(stranger, "PATCH", base + "/messages/2", R"({"body":"x"})"), 404, "not_found");
  expect_error(request(stranger, "DELETE", base + "/messages/2"), 404, "not_found");
  expect_error(request(stranger, "PUT", base + "/messages/2/reactions/%F0%9F%91%8D"), 404, "not_found");
  // The same answer as for a conversation that does not exist.
  auto missing = request(stranger, "GET", conv_path(999999));
  auto hidden = request(stranger, "GET", base);
  EXPECT_EQ(missing.json()["error"], hidden.json()["error"]);
  expect_error(request(a, "GET", "/v1/conversations/abc"), 400, "invalid_request");
  expect_error(request(a, "GET", "/v1/conversations/0"), 400, "invalid_request");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "1");
}

TEST_F(Conversations, MembershipRolesAddRemoveLeaveAndSuccession) {
  auto o = user("wade"), m1 = user("xena"), m2 = user("yuri"), newbie = user("zack");
  auto id = group(o, {m1, m2});
  auto base = conv_path(id);
  std::string add_body = R"({"user_id":)" + std::to_string(newbie.id) + "}";
  expect_error(request(m1, "POST", base + "/members", add_body), 403, "forbidden");
  auto added = request(o, "POST", base + "/members", add_body);
  EXPECT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json()["conversation"]["members"].size(), 4u);
  expect_error(request(o, "POST", base + "/members", add_body), 409, "already_member");
  expect_error(request(o, "POST", base + "/members", R"({"user_id":999999})"), 404, "not_found");
  expect_error(request(o, "POST", base + "/members", R"({"user_id":"x"})"), 400, "invalid_request");
  // The newcomer can read the conversation.
  EXPECT_EQ(request(newbie, "GET", base).status, 200);

  // A plain member cannot remove others, but can leave.
  expect_error(request(m1, "DELETE", base + "/members/" + std::to_string(m2.id)), 403, "forbidden");
  EXPECT_EQ(request(m1, "DELETE", base + "/members/" + std::to_string(m1.id)).status, 204);
  expect_error(request(m1, "GET", base), 404, "not_found");
  // The owner removes a member, who loses access at once and sees nothing after.
  EXPECT_EQ(request(o, "DELETE", base + "/members/" + std::to_string(m2.id)).status, 204);
  ASSERT_EQ(send(o, id, "after-removal", "secret").status, 201);
  expect_error(request(m2, "GET", base + "/messages"), 404, "not_found");
  expect_error(request(m2, "GET", base + "/events"), 404, "not_found");
  expect_error(send(m2, id, "sneak", "hello?"), 404, "not_found");
  expect_error(request(o, "DELETE", base + "/members/" + std::to_string(m2.id)), 404, "not_found");
  // The owner leaves: the one who is left inherits the group (v1.1).
  EXPECT_EQ(request(o, "DELETE", base + "/members/" + std::to_string(o.id)).status, 204);
  auto after = request(newbie, "GET", base).json()["conversation"];
  ASSERT_EQ(after["members"].size(), 1u);
  EXPECT_EQ(after["members"][0].value("role", ""), "owner");

  // Each change is in the log, in order.
  std::vector<std::string> kinds;
  auto log = request(newbie, "GET", base + "/events").json();
  for (auto& e : log["events"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"conversation.created", "member.added", "member.removed",
                                             "member.removed", "message.created", "member.updated",
                                             "member.removed"}));
}

TEST_F(Conversations, ASendRacingTheRemovalOfItsSenderNeverLandsAfterIt) {
  auto o = user("zoe"), m = user("ugo");
  auto id = group(o, {m});
  // The race, forced: a removal that has locked the conversation and deleted
  // the membership but not yet committed. A send arriving now must wait for
  // the lock and then see the removal; a send that checked membership before
  // taking the lock would land after the removal.
  pqxx::connection c(db_->url());
  pqxx::work removal(c);
  removal.exec("SELECT 1 FROM conversations WHERE id = " + std::to_string(id) + " FOR UPDATE");
  removal.exec("DELETE FROM members WHERE conversation_id = " + std::to_string(id) +
               " AND user_id = " + std::to_string(m.id));
  auto racing = std::async(std::launch::async, [&] { return send(m, id, "raced", "too late"); });
  EXPECT_EQ(racing.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "the send did not wait for the conversation lock";
  removal.commit();
  expect_error(racing.get(), 404, "not_found");
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(m.id)), "0");
  EXPECT_EQ(db_->query("SELECT count(DISTINCT seq) = max(seq) FROM events"), "t");
}

TEST_F(Conversations, TitleChangesByOwnerOnly) {
  auto o = user("abby"), m = user("bill");
  auto id = group(o, {m});
  auto r = request(o, "PATCH", conv_path(id), R"({"title":"renamed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["conversation"]["title"], "renamed");
  expect_error(request(m, "PATCH", conv_path(id), R"({"title":"mine"})"), 403, "forbidden");
  expect_error(request(o, "PATCH", conv_path(id), R"({"title":""})"), 400, "invalid_request");
  expect_error(request(o, "PATCH", conv_path(id), R"({"title":7})"), 400, "invalid_request");
  auto d = direct(o, m).json()["conversation"].value("id", 0LL);
  expect_error(request(o, "PATCH", conv_path(d), R"({"title":"x"})"), 403, "forbidden");
  auto log = request(o, "GET", conv_path(id) + "/events").json()["events"];
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["kind"], "conversation.updated");
  EXPECT_EQ(log[1]["data"]["title"], "renamed");
}

TEST_F(Conversations, ReadMarkerMovesForwardOnlyAndDrivesUnreadCount) {
  auto a = user("cleo"), b = user("dean");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send(a, id, "a" + std::to_string(i), "hi").status, 201);
  ASSERT_EQ(send(b, id, "b0", "mine").status, 201);  // seq 7, b's own
  auto view = [&](const TestUser& u) { return request(u, "GET", conv_path(id)).json()["conversation"]; };
  EXPECT_EQ(view(b)["unread_count"], 5);
  EXPECT_EQ(view(a)["unread_count"], 1);
  EXPECT_EQ(view(b)["last_seq"], 7);
  EXPECT_EQ(view(b)["last_message"]["body"], "mine");

  auto read = request(b, "POST", conv_path(id) + "/read", R"({"seq":4})");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["read_seq"], 4);
  EXPECT_EQ(view(b)["unread_count"], 2);  // seqs 5 and 6
  // Backwards is ignored: the marker stays.
  EXPECT_EQ(request(b, "POST", conv_path(id) + "/read", R"({"seq":2})").json()["read_seq"], 4);
  // A deleted message no longer counts.
  ASSERT_EQ(request(a, "DELETE", conv_path(id) + "/messages/6").status, 200);
  EXPECT_EQ(view(b)["unread_count"], 1);
  expect_error(request(b, "POST", conv_path(id) + "/read", R"({"seq":99})"), 400, "invalid_request");
  expect_error(request(b, "POST", conv_path(id) + "/read", R"({"seq":-1})"), 400, "invalid_request");
  expect_error(request(b, "POST", conv_path(id) + "/read", R"({"seq":"4"})"), 400, "invalid_request");
  // last_seq is 8: the deletion took seq 8.
  EXPECT_EQ(request(b, "POST", conv_path(id) + "/read", R"({"seq":8})").json()["read_seq"], 8);
  EXPECT_EQ(view(b)["unread_count"], 0);
  // The member list shows each marker.
  auto a_view = view(a);
  for (auto& m : a_view["members"]) {
    if (m["user_id"] == b.id) {
      EXPECT_EQ(m["read_seq"], 8);
    }
  }
}

TEST_F(Conversations, ListIsByRecentActivityWithUnreadAndLastMessage) {
  auto me = user("emma"), x = user("finn"), y = user("gail"), z = user("hugo");
  auto cx = direct(me, x).json()["conversation"].value("id", 0LL);
  auto cy = direct(me, y).json()["conversation"].value("id", 0LL);
  auto cz = direct(me, z).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(send(x, cx, "1", "from x").status, 201);
  auto r = client().get("/v1/conversations", me.token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto list = r.json()["conversations"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["id"], cx);
  EXPECT_EQ(list[1]["id"], cz);
  EXPECT_EQ(list[2]["id"], cy);
  EXPECT_EQ(list[0]["unread_count"], 1);
  EXPECT_EQ(list[0]["last_message"]["body"], "from x");
  EXPECT_TRUE(r.json()["next_cursor"].is_null());
  expect_error(client().get("/v1/conversations?limit=0", me.token), 400, "invalid_request");
  expect_error(client().get("/v1/conversations?limit=201", me.token), 400, "invalid_request");
  expect_error(client().get("/v1/conversations?cursor=garbage", me.token), 400, "invalid_request");
}

TEST_F(Conversations, ListPagesNeitherSkipNorRepeatWhileMessagesArrive) {
  auto me = user("ivan");
  std::vector<long long> ids;
  std::vector<TestUser> peers;
  for (int i = 0; i < 9; ++i) {
    peers.push_back(user("peer" + std::to_string(i)));
    ids.push_back(direct(me, peers.back()).json()["conversation"].value("id", 0LL));
  }
  std::vector<long long> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = client().get("/v1/conversations?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), me.token);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    for (auto& c : j["conversations"]) seen.push_back(c["id"]);
    // Activity during the walk: the oldest conversations jump to the top.
    ASSERT_EQ(send(peers[page % 9], ids[page % 9], "w" + std::to_string(page), "ping").status, 201);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"];
  }
  std::multiset<long long> got(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 9u);
  for (auto id : ids) EXPECT_EQ(got.count(id), 1u) << "conversation " << id;
}

}  // namespace
}  // namespace chatd::test
