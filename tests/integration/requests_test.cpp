// Message requests and dm_policy (API.md v1.1): who lands in whose inbox, the
// requester's 3-message limit, accept and decline, derived contacts, and what
// the requester must not learn (reads, typing, presence) until accepted.
#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;
using Pred = std::function<bool(const Json&)>;

Pred is_state_of(long long conv) {
  return [conv](const Json& f) { return is_type(f, "conversation_state") && f.value("conversation_id", 0LL) == conv; };
}
Pred is_message(const std::string& body) {
  return [body](const Json& f) {
    return is_type(f, "event") && f.contains("event") && f["event"].value("kind", "") == "message.created" &&
           f["event"]["data"].value("body", "") == body;
  };
}
bool any_frame(const std::vector<Json>& frames, const Pred& pred) {
  return std::any_of(frames.begin(), frames.end(), pred);
}
bool has(const std::vector<long long>& ids, long long id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }
long long conv_id(const HttpResult& r) {
  auto j = Json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("conversation") || !j["conversation"].is_object()) return 0;
  return j["conversation"].value("id", 0LL);
}

class MessageRequests : public ChatTest {
 protected:
  TestUser user_with(const std::string& name, const std::string& policy) {
    auto u = user(name);
    auto r = request(u, "PATCH", "/v1/users/me/settings", Json{{"dm_policy", policy}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return u;
  }
  long long open_direct(const TestUser& me, const TestUser& peer) {
    auto r = direct(me, peer);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return conv_id(r);
  }
  Json view(const TestUser& u, long long id) {
    auto r = request(u, "GET", conv_path(id));
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = Json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("conversation") ? j["conversation"] : Json::object();
  }
  std::string state(const TestUser& u, long long id) { return view(u, id).value("state", ""); }
  // A member's read_seq as `viewer` sees it in `members` (a string, "null" included).
  std::string read_seq_of(const TestUser& viewer, long long id, const TestUser& who) {
    Json conv = view(viewer, id);
    for (auto& m : conv["members"]) {
      if (m.value("user_id", 0LL) == who.id) return m["read_seq"].dump();
    }
    return "absent";
  }
  std::vector<long long> folder(const TestUser& u, const std::string& name) {
    auto r = client().get("/v1/conversations?limit=200" + (name.empty() ? "" : "&folder=" + name), u.token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<long long> ids;
    Json body = r.json();
    for (auto& c : body["conversations"]) ids.push_back(c.value("id", 0LL));
    return ids;
  }
  HttpResult act(const TestUser& u, long long id, const std::string& what) {
    return request(u, "POST", conv_path(id) + "/" + what);
  }
  std::unique_ptr<WsClient> connect(const TestUser& u) {
    auto c = std::make_unique<WsClient>(server_->port(), u.token);
    EXPECT_TRUE(c->connected());
    c->send({{"type", "ping"}, {"id", "ready"}});
    EXPECT_TRUE(c->read_until([](const Json& f) { return is_type(f, "pong"); }));
    return c;
  }
};

TEST_F(MessageRequests, WithTheDefaultPolicyEveryDirectMessageLandsInTheInboxAsInV1) {
  auto a = user("abel"), b = user("bria"), c = user("cato");
  auto id = open_direct(a, b);
  auto theirs = view(b, id);
  EXPECT_EQ(theirs.value("state", ""), "inbox");
  EXPECT_EQ(theirs.value("declined", true), false);
  EXPECT_TRUE(has(folder(b, ""), id));
  EXPECT_TRUE(folder(b, "requests").empty());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(a, id, "m" + std::to_string(i), "hi").status, 201) << i;
  auto team = group(c, {b});  // a stranger's group too
  EXPECT_EQ(state(b, team), "inbox");
}

TEST_F(MessageRequests, AStrangersDirectMessageIsARequestForTheRecipientOnly) {
  auto r = user_with("rosa", "requests"), x = user("xavi");
  auto created = direct(x, r);
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = conv_id(created);
  EXPECT_EQ(created.json()["conversation"].value("state", ""), "inbox");  // the requester's own view
  auto theirs = view(r, id);
  EXPECT_EQ(theirs.value("state", ""), "request");
  EXPECT_EQ(theirs.value("declined", true), false);
  EXPECT_EQ(folder(r, "requests"), std::vector<long long>{id});
  EXPECT_FALSE(has(folder(r, "inbox"), id));
  EXPECT_FALSE(has(folder(r, ""), id)) << "the default list is the inbox";
  EXPECT_EQ(folder(x, "inbox"), std::vector<long long>{id});
  EXPECT_TRUE(folder(x, "requests").empty());
}

TEST_F(MessageRequests, TheRequesterMayStoreThreeMessagesAndTheFourthIsRefusedOverRestAndWebSocket) {
  auto r = user_with("rina", "requests"), x = user("xena");
  auto id = open_direct(x, r);
  EXPECT_EQ(send(x, id, "m1", "one").status, 201);
  EXPECT_EQ(send(x, id, "m2", "two").status, 201);
  EXPECT_EQ(send(x, id, "m3", "three").status, 201);
  expect_error(send(x, id, "m4", "four"), 403, "request_pending");
  auto ws = connect(x);
  ws->send({{"type", "send"}, {"id", 44}, {"conversation_id", id}, {"client_msg_id", "m4ws"}, {"body", "four"}});
  auto answer = ws->read_until([](const Json& f) {
    return (is_type(f, "error") || is_type(f, "ack")) && f.value("id", 0) == 44;
  });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->value("type", ""), "error") << answer->dump();
  EXPECT_EQ((*answer)["error"].value("code", ""), "request_pending") << answer->dump();
  // Nothing of the refused sends was stored.
  Json history = request(x, "GET", conv_path(id) + "/messages").json();
  ASSERT_EQ(history["messages"].size(), 3u) << history.dump();
  EXPECT_EQ(history["messages"][2].value("body", ""), "three");
  // A safe retry of a stored message still answers with the original.
  auto retry = send(x, id, "m2", "two");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.json()["message"].value("seq", 0LL), 3);
  // Deleting one does not make room: every stored message counts.
  ASSERT_EQ(request(x, "DELETE", conv_path(id) + "/messages/2").status, 200);
  expect_error(send(x, id, "m5", "five"), 403, "request_pending");
}

TEST_F(MessageRequests, AcceptingMovesTheRequestToTheInboxLiftsTheLimitAndTellsTheAcceptersDevices) {
  auto r = user_with("ruth", "requests"), x = user("xander"), stranger = user("sid");
  auto id = open_direct(x, r);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(send(x, id, "m" + std::to_string(i), "hi").status, 201);
  auto ws = connect(r);
  auto accepted = act(r, id, "accept");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.json()["conversation"].value("state", ""), "inbox");
  EXPECT_EQ(accepted.json()["conversation"].value("id", 0LL), id);
  auto frame = ws->read_until(is_state_of(id));
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->value("state", ""), "inbox");
  EXPECT_EQ(frame->value("declined", true), false);
  EXPECT_TRUE(has(folder(r, "inbox"), id));
  EXPECT_TRUE(folder(r, "requests").empty());
  EXPECT_EQ(send(x, id, "m3", "fourth").status, 201);
  EXPECT_EQ(send(x, id, "m4", "fifth").status, 201);
  // Accepting an inbox conversation is a no-op, declining it a conflict; a stranger cannot touch it.
  EXPECT_EQ(act(r, id, "accept").status, 200);
  expect_error(act(r, id, "decline"), 409, "not_a_request");
  expect_error(act(stranger, id, "accept"), 404, "not_found");
}

TEST_F(MessageRequests, DecliningHidesTheRequestFromBothFoldersAndStopsTheRequester) {
  auto r = user_with("rory", "requests"), x = user("xiomara"), stranger = user("stan");
  auto id = open_direct(x, r);
  ASSERT_EQ(send(x, id, "m1", "hello?").status, 201);
  auto ws = connect(r);
  auto declined = act(r, id, "decline");
  ASSERT_EQ(declined.status, 204) << declined.body;
  auto frame = ws->read_until(is_state_of(id));
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->value("declined", false), true);
  EXPECT_EQ(frame->value("state", ""), "request");
  EXPECT_FALSE(has(folder(r, "inbox"), id));
  EXPECT_FALSE(has(folder(r, "requests"), id));
  EXPECT_EQ(view(r, id).value("declined", false), true);  // still a member, still readable
  expect_error(send(x, id, "m2", "please"), 403, "request_declined");
  EXPECT_TRUE(has(folder(x, "inbox"), id)) << "the requester's side is unchanged";
  EXPECT_EQ(act(r, id, "decline").status, 204) << "declining again is idempotent";
  // Only a request can be declined; a non-member learns nothing.
  expect_error(act(x, id, "decline"), 409, "not_a_request");
  expect_error(act(stranger, id, "decline"), 404, "not_found");
  expect_error(act(stranger, id, "accept"), 404, "not_found");
  expect_error(act(r, 999999, "decline"), 404, "not_found");
}

TEST_F(MessageRequests, ADeclinedRequesterMayWriteAgainOnceTheDeclinerWritesReopensOrAccepts) {
  auto r = user_with("remy", "requests"), x1 = user("xyla"), x2 = user("xeno"), x3 = user("xuri");
  auto c1 = open_direct(x1, r), c2 = open_direct(x2, r), c3 = open_direct(x3, r);
  for (auto c : {c1, c2, c3}) ASSERT_EQ(act(r, c, "decline").status, 204);
  expect_error(send(x1, c1, "a", "?"), 403, "request_declined");

  ASSERT_EQ(send(r, c1, "back", "sorry, hi").status, 201);  // writing accepts
  EXPECT_EQ(state(r, c1), "inbox");
  auto reopened = direct(r, x2);  // opening the direct conversation again accepts
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_EQ(reopened.json()["conversation"].value("state", ""), "inbox");
  EXPECT_EQ(reopened.json()["conversation"].value("declined", true), false);
  EXPECT_EQ(act(r, c3, "accept").json()["conversation"].value("state", ""), "inbox");

  for (auto [who, conv] : {std::pair{x1, c1}, std::pair{x2, c2}, std::pair{x3, c3}}) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(send(who, conv, "again" + std::to_string(i), "hi").status, 201);
  }
  auto inbox = folder(r, "inbox");
  EXPECT_TRUE(has(inbox, c1) && has(inbox, c2) && has(inbox, c3));
}

TEST_F(MessageRequests, TheRecipientWritingInARequestAcceptsIt) {
  auto r = user_with("reed", "requests"), x = user("xiao");
  auto id = open_direct(x, r);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(send(x, id, "m" + std::to_string(i), "hi").status, 201);
  expect_error(send(x, id, "m3", "one more"), 403, "request_pending");
  auto ws = connect(r);
  ASSERT_EQ(send(r, id, "reply", "hello back").status, 201);
  auto frame = ws->read_until(is_state_of(id));
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->value("state", ""), "inbox");
  EXPECT_EQ(state(r, id), "inbox");
  EXPECT_TRUE(folder(r, "requests").empty());
  for (int i = 3; i < 7; ++i) EXPECT_EQ(send(x, id, "m" + std::to_string(i), "hi").status, 201) << i;
}

TEST_F(MessageRequests, ContactsAreThoseSharingAConversationTheRecipientAccepted) {
  auto r = user_with("raya", "requests");
  auto made = user("made"), wrote = user("wrote"), ignored = user("ignored"), stranger = user("nobody1");
  group(r, {made}, "r's own group");                 // r created it
  auto wrote_in = group(wrote, {r}, "r wrote here");  // a request r answered by writing
  EXPECT_EQ(state(r, wrote_in), "request");
  ASSERT_EQ(send(r, wrote_in, "w", "hi all").status, 201);
  EXPECT_EQ(state(r, wrote_in), "inbox");
  auto untouched = group(ignored, {r}, "r never answered");  // shared, but never accepted by r
  EXPECT_EQ(state(r, untouched), "request");

  EXPECT_EQ(state(r, open_direct(made, r)), "inbox");
  EXPECT_EQ(state(r, open_direct(wrote, r)), "inbox");
  EXPECT_EQ(state(r, open_direct(ignored, r)), "request");
  EXPECT_EQ(state(r, open_direct(stranger, r)), "request");
}

TEST_F(MessageRequests, WithPolicyNobodyOnlyContactsMayOpenADirectConversationOrAddTheUser) {
  auto n = user_with("nina", "nobody"), s = user("sven"), other = user("olaf"), c = user("cora");
  expect_error(direct(s, n), 403, "dm_not_allowed");
  EXPECT_TRUE(folder(s, "").empty());
  EXPECT_TRUE(folder(n, "").empty());
  EXPECT_TRUE(folder(n, "requests").empty());
  expect_error(client().post("/v1/conversations", {{"kind", "group"}, {"title", "t"}, {"member_ids", {other.id, n.id}}},
                             s.token),
               403, "dm_not_allowed");
  EXPECT_TRUE(folder(s, "").empty()) << "a refused group is not created";
  auto g = group(s, {other});
  expect_error(request(s, "POST", conv_path(g) + "/members", Json{{"user_id", n.id}}.dump()), 403, "dm_not_allowed");
  EXPECT_EQ(read_seq_of(s, g, n), "absent") << "a refused member is not added";
  EXPECT_TRUE(folder(n, "").empty());

  group(n, {c}, "n's group");  // n created it: c is a contact
  auto created = direct(c, n);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(state(n, conv_id(created)), "inbox");
  auto by_contact = group(c, {other}, "c's group");
  EXPECT_EQ(request(c, "POST", conv_path(by_contact) + "/members", Json{{"user_id", n.id}}.dump()).status, 201);
}

TEST_F(MessageRequests, AUserWithPolicyRequestsAddedToAGroupByAStrangerGetsARequest) {
  auto r = user_with("ravi", "requests"), s = user("sasha"), c = user("cleo");
  open_direct(r, c);  // r wrote first: c is r's contact
  auto at_create = group(s, {r, c});
  EXPECT_EQ(state(r, at_create), "request");
  EXPECT_EQ(state(c, at_create), "inbox");
  EXPECT_EQ(state(s, at_create), "inbox");
  auto later = group(s, {c}, "later");
  ASSERT_EQ(request(s, "POST", conv_path(later) + "/members", Json{{"user_id", r.id}}.dump()).status, 201);
  EXPECT_EQ(state(r, later), "request");
  auto by_contact = group(c, {s}, "friendly");
  ASSERT_EQ(request(c, "POST", conv_path(by_contact) + "/members", Json{{"user_id", r.id}}.dump()).status, 201);
  EXPECT_EQ(state(r, by_contact), "inbox");
  auto requests = folder(r, "requests");
  EXPECT_EQ(std::set<long long>(requests.begin(), requests.end()), (std::set<long long>{at_create, later}));
  EXPECT_FALSE(has(folder(r, "inbox"), at_create));
  // The 3-message limit is for direct conversations only.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(s, at_create, "g" + std::to_string(i), "hi").status, 201) << i;
}

TEST_F(MessageRequests, ABlockWinsOverEveryPolicy) {
  auto everyone = user("olga"), closed = user_with("clara", "nobody"), asking = user_with("asha", "requests");
  auto x = user("xerxes");
  auto pending = open_direct(x, asking);
  for (auto* u : {&everyone, &closed, &asking}) {
    ASSERT_EQ(request(*u, "PUT", "/v1/users/me/blocks/" + std::to_string(x.id)).status, 204);
  }
  expect_error(direct(x, everyone), 403, "blocked");
  expect_error(direct(x, closed), 403, "blocked");
  expect_error(send(x, pending, "m", "hi"), 403, "blocked");
}

TEST_F(MessageRequests, TheRequesterSeesNoReadsOrTypingFromTheRecipientUntilAccepted) {
  auto r = user_with("rhea", "requests"), x = user("xima");
  auto id = open_direct(x, r);
  ASSERT_EQ(send(x, id, "m1", "hi there").status, 201);  // seq 2
  auto xw = connect(x), rw = connect(r);
  ASSERT_EQ(request(r, "POST", conv_path(id) + "/read", R"({"seq":2})").status, 200);
  rw->send({{"type", "typing"}, {"conversation_id", id}});
  rw->send({{"type", "ping"}, {"id", "after-typing"}});
  ASSERT_TRUE(rw->read_until([](const Json& f) { return is_type(f, "pong"); }));
  // A later message does reach the requester: nothing suppressed came before it.
  ASSERT_EQ(send(x, id, "m2", "still there?").status, 201);  // seq 3
  std::vector<Json> before;
  ASSERT_TRUE(xw->read_until(is_message("still there?"), 5s, &before));
  EXPECT_FALSE(any_frame(before, about("read", r.id)));
  EXPECT_FALSE(any_frame(before, about("typing", r.id)));
  auto read_or_typing = [&](const Json& f) { return about("read", r.id)(f) || about("typing", r.id)(f); };
  EXPECT_FALSE(xw->read_until(read_or_typing, 500ms));
  EXPECT_TRUE(rw->read_until(is_message("still there?"))) << "the recipient gets the request's events live";
  EXPECT_EQ(read_seq_of(x, id, r), "null");
  EXPECT_EQ(read_seq_of(r, id, r), "2");
  EXPECT_EQ(view(r, id).value("read_seq", 0LL), 2);

  ASSERT_EQ(act(r, id, "accept").status, 200);
  ASSERT_EQ(request(r, "POST", conv_path(id) + "/read", R"({"seq":3})").status, 200);
  auto read = xw->read_until(about("read", r.id));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->value("seq", 0LL), 3);
  EXPECT_EQ(read->value("conversation_id", 0LL), id);
  // A socket relays typing for a conversation at most every 2 s.
  std::this_thread::sleep_for(2100ms);
  rw->send({{"type", "typing"}, {"conversation_id", id}});
  auto typing = xw->read_until(about("typing", r.id));
  ASSERT_TRUE(typing);
  EXPECT_EQ(typing->value("conversation_id", 0LL), id);
  EXPECT_EQ(read_seq_of(x, id, r), "3");
}

TEST_F(MessageRequests, TheRequesterSeesNoPresenceOfTheRecipientUntilAccepted) {
  auto r = user_with("romy", "requests"), x = user("xoan"), friend_ = user("fern");
  auto id = open_direct(x, r);
  open_direct(r, friend_);  // r's own conversation: fern may see r
  auto xw = connect(x), fw = connect(friend_);
  auto rw = connect(r);
  ASSERT_TRUE(fw->read_until(presence(r.id, true), 5s)) << "r's coming online was announced";
  ASSERT_EQ(send(x, id, "m1", "hello?").status, 201);
  std::vector<Json> before;
  ASSERT_TRUE(xw->read_until(is_message("hello?"), 5s, &before));
  EXPECT_FALSE(any_frame(before, about("presence", r.id)));
  EXPECT_FALSE(xw->read_until(about("presence", r.id), 1500ms));

  ASSERT_EQ(act(r, id, "accept").status, 200);
  rw.reset();
  EXPECT_TRUE(xw->read_until(presence(r.id, false), 5s)) << "after accepting, r's presence reaches the requester";
  rw = connect(r);
  EXPECT_TRUE(xw->read_until(presence(r.id, true), 5s));
}

TEST_F(MessageRequests, TheRequestsFolderPagesOnItsOwnCursors) {
  auto r = user_with("rita", "requests");
  std::set<long long> expected;
  for (int i = 0; i < 5; ++i) expected.insert(open_direct(user("asker" + std::to_string(i)), r));
  open_direct(r, user("pal1"));
  open_direct(r, user("pal2"));
  std::vector<long long> seen;
  std::string cursor, first_cursor;
  for (int page = 0; page < 5; ++page) {
    std::string after = cursor.empty() ? "" : "&cursor=" + url_encode(cursor);
    auto res = client().get("/v1/conversations?folder=requests&limit=2" + after, r.token);
    ASSERT_EQ(res.status, 200) << res.body;
    Json body = res.json();
    EXPECT_LE(body["conversations"].size(), 2u);
    for (auto& c : body["conversations"]) {
      seen.push_back(c.value("id", 0LL));
      EXPECT_EQ(c.value("state", ""), "request");
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
    if (first_cursor.empty()) first_cursor = cursor;
  }
  EXPECT_EQ(seen.size(), 5u) << "no repeats";
  EXPECT_EQ(std::set<long long>(seen.begin(), seen.end()), expected);
  ASSERT_FALSE(first_cursor.empty());
  expect_error(client().get("/v1/conversations?folder=inbox&limit=2&cursor=" + url_encode(first_cursor), r.token), 400,
               "invalid_request");
  auto inbox = client().get("/v1/conversations?folder=inbox&limit=1", r.token);
  ASSERT_EQ(inbox.status, 200) << inbox.body;
  ASSERT_TRUE(inbox.json()["next_cursor"].is_string()) << inbox.body;
  auto inbox_cursor = inbox.json()["next_cursor"].get<std::string>();
  expect_error(client().get("/v1/conversations?folder=requests&cursor=" + url_encode(inbox_cursor), r.token), 400,
               "invalid_request");
  expect_error(client().get("/v1/conversations?folder=spam", r.token), 400, "invalid_request");
}

}  // namespace
}  // namespace chatd::test
