// GET /v1/ws through a real server and real WebSocket clients: delivery to
// every device in order, sends and acks, catch-up with sync (also racing live
// sends), typing/read/presence, slow clients, malformed frames, revocation,
// shutdown and two instances on one database.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;

class WebSocket : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override { return {"--ws-max-queue", "64"}; }
  std::unique_ptr<WsClient> connect(const TestUser& u) {
    auto c = std::make_unique<WsClient>(server_->port(), u.token);
    EXPECT_TRUE(c->connected());
    // A round trip proves the session is registered before the test goes on.
    c->send({{"type", "ping"}, {"id", "ready"}});
    EXPECT_TRUE(c->read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
    return c;
  }
  static bool is_event(const Json& f) { return f.value("type", "") == "event"; }
  static bool is_message(const Json& f, const std::string& body) {
    return is_event(f) && f["event"]["kind"] == "message.created" &&
           f["event"]["data"]["body"] == body;
  }
};

TEST_F(WebSocket, EveryDeviceAndMemberGetsRestAndWsSendsInOrder) {
  auto a = user("ann"), b = user("ben");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto a1 = connect(a), a2 = connect(a), b1 = connect(b);

  ASSERT_EQ(send(a, conv, "rest-1", "over rest").status, 201);
  b1->send({{"type", "send"}, {"id", 7}, {"conversation_id", conv}, {"client_msg_id", "ws-1"},
            {"body", "over ws"}});
  std::vector<Json> before_ack;
  auto ack = b1->read_until([](const Json& f) { return f.value("type", "") == "ack"; }, 5s,
                            &before_ack);
  ASSERT_TRUE(ack) << "no ack";
  EXPECT_EQ((*ack)["id"], 7);
  EXPECT_EQ((*ack)["message"]["body"], "over ws");
  EXPECT_EQ((*ack)["message"]["seq"], 3);

  for (auto* c : {a1.get(), a2.get(), b1.get()}) {
    // conversation.created (seq 1) was committed just before these sockets
    // opened; it may still arrive live. From there on: every seq, in order.
    std::vector<long long> seqs;
    if (c == b1.get()) {
      for (auto& f : before_ack) {
        if (is_event(f)) seqs.push_back(f["event"]["seq"]);
      }
    }
    while (seqs.empty() || seqs.back() < 3) {
      auto f = c->read_until(is_event);
      ASSERT_TRUE(f);
      seqs.push_back((*f)["event"]["seq"]);
      EXPECT_EQ((*f)["event"]["conversation_id"], conv);
    }
    if (seqs.front() == 1) seqs.erase(seqs.begin());
    EXPECT_EQ(seqs, (std::vector<long long>{2, 3}));
  }
  // The same client_msg_id over the socket answers with the stored message.
  b1->send({{"type", "send"}, {"id", "again"}, {"conversation_id", conv}, {"client_msg_id", "ws-1"},
            {"body", "over ws"}});
  auto again = b1->read_until([](const Json& f) { return f.value("type", "") == "ack"; });
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["message"]["seq"], 3);
  EXPECT_EQ(db_->query("SELECT count(*) FROM messages"), "2");
}

TEST_F(WebSocket, OneSocketsSendsAreStoredInTheOrderSent) {
  auto a = user("ula"), b = user("vic");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto c = connect(a);
  for (int i = 0; i < 20; ++i) {
    c->send({{"type", "send"}, {"id", i}, {"conversation_id", conv},
             {"client_msg_id", "o" + std::to_string(i)}, {"body", std::to_string(i)}});
  }
  std::vector<long long> seqs;
  while (seqs.size() < 20) {
    auto ack = c->read_until([](const Json& f) { return f.value("type", "") == "ack"; });
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["id"], static_cast<int>(seqs.size()));
    EXPECT_EQ((*ack)["message"]["body"], std::to_string(seqs.size()));
    seqs.push_back((*ack)["message"]["seq"]);
  }
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1);
}

TEST_F(WebSocket, SyncCursorPastTheEndDoesNotSilenceTheConversation) {
  auto a = user("wes"), b = user("xan");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto c = connect(b);
  c->send({{"type", "sync"}, {"id", 1}, {"cursors", {{std::to_string(conv), 999}}}});
  ASSERT_TRUE(c->read_until([](const Json& f) { return f.value("type", "") == "synced"; }));
  ASSERT_EQ(send(a, conv, "after", "still heard").status, 201);
  EXPECT_TRUE(c->read_until([](const Json& f) { return is_message(f, "still heard"); }));
}

// A reconnect storm: sockets that start while a read of where conversations
// stand is under way share the next read (domain/conversation_ends.hpp).
// The database is held up so that all of them wait together; each must then
// start at its own conversation's end: the next message arrives live, and
// nothing from before the socket opened.
TEST_F(WebSocket, SocketsStartingTogetherShareOneReadAndEachStartsAtItsOwnEnd) {
  constexpr int kUsers = 40;
  auto hub = user("hubert");
  std::vector<TestUser> users;
  std::vector<long long> convs;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(user("storm" + std::to_string(i)));
    convs.push_back(direct(hub, users.back()).json()["conversation"].value("id", 0LL));
    // Ends differ: seq 2, 3 or 4 (the user writes first, which accepts the
    // hub's message request).
    for (int k = 0; k <= i % 3; ++k) {
      ASSERT_EQ(send(users.back(), convs.back(), "old" + std::to_string(k), "before").status, 201);
    }
  }
  auto counter = [&](const std::string& name) {
    auto text = client().get("/metrics").body;
    auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  double reads_before = counter("chatd_conversation_ends_reads_total");
  double users_before = counter("chatd_conversation_ends_users_total");
  ASSERT_GE(reads_before, 0);

  pqxx::connection blocker(db_->url());
  pqxx::work hold(blocker);
  hold.exec("LOCK TABLE members IN ACCESS EXCLUSIVE MODE");
  std::vector<std::unique_ptr<WsClient>> sockets(kUsers);
  std::vector<std::thread> openers;
  for (int i = 0; i < kUsers; ++i) {
    openers.emplace_back([&, i] { sockets[i] = connect(users[i]); });
  }
  // Until every socket waits for its start (sanitizer builds take longer).
  for (int i = 0; i < 600 && counter("chatd_conversation_ends_pending") < kUsers; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(counter("chatd_conversation_ends_pending"), kUsers);
  hold.abort();
  for (auto& t : openers) t.join();

  EXPECT_EQ(counter("chatd_conversation_ends_users_total") - users_before, kUsers);
  double reads = counter("chatd_conversation_ends_reads_total") - reads_before;
  EXPECT_LE(reads, 4) << "starts were not read together";
  for (int i = 0; i < kUsers; ++i) {
    ASSERT_EQ(send(hub, convs[i], "new", "after " + std::to_string(i)).status, 201);
  }
  for (int i = 0; i < kUsers; ++i) {
    auto f = sockets[i]->read_until(is_event, 5s);
    ASSERT_TRUE(f) << "socket " << i << " got nothing";
    EXPECT_EQ((*f)["event"]["data"]["body"], "after " + std::to_string(i)) << "socket " << i;
    EXPECT_EQ((*f)["event"]["seq"], 3 + i % 3) << "socket " << i;
    EXPECT_FALSE(sockets[i]->read_until(is_event, 100ms)) << "socket " << i << " got more";
  }
}

TEST_F(WebSocket, TwoHundredConcurrentMessagesArriveInSeqOrderWithoutGaps) {
  auto o = user("oona");
  std::vector<TestUser> senders;
  for (int i = 0; i < 4; ++i) senders.push_back(user("snd" + std::to_string(i)));
  auto conv = group(o, senders);
  auto rx = connect(o);
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s) {
    threads.emplace_back([&, s] {
      HttpClient c(server_->port());
      for (int i = 0; i < 50; ++i) {
        auto r = c.post(conv_path(conv) + "/messages",
                        {{"client_msg_id", std::to_string(s) + "-" + std::to_string(i)}, {"body", "x"}},
                        senders[s].token);
        ASSERT_EQ(r.status, 201) << r.body;
      }
    });
  }
  std::vector<long long> seqs;
  while (seqs.empty() || seqs.back() < 201) {
    auto f = rx->read_until(is_event, 15s);
    ASSERT_TRUE(f) << "only " << seqs.size() << " events arrived";
    seqs.push_back((*f)["event"]["seq"]);
  }
  for (auto& t : threads) t.join();
  if (seqs.front() == 1) seqs.erase(seqs.begin());  // conversation.created, possibly still in flight
  ASSERT_EQ(seqs.size(), 200u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<long long>(i) + 2);
}

TEST_F(WebSocket, ReconnectAndSyncDeliversExactlyTheMissedEvents) {
  auto a = user("cat"), b = user("dan");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(send(a, conv, "before", "seen").status, 201);  // seq 2
  // Everything a connection gets until `synced`: what fan-out still had in
  // flight when it opened arrives live, the rest with the sync, and nothing
  // twice (once per connection).
  auto until_synced = [&](WsClient& c, const Json& cursors) {
    c.send({{"type", "sync"}, {"id", "s"}, {"cursors", cursors}});
    std::vector<Json> frames;
    auto synced = c.read_until([](const Json& f) { return f.value("type", "") == "synced"; }, 5s,
                               &frames);
    EXPECT_TRUE(synced);
    std::vector<long long> seqs;
    for (auto& f : frames) {
      if (is_event(f)) seqs.push_back(f["event"]["seq"]);
    }
    std::sort(seqs.begin(), seqs.end());
    return seqs;
  };
  {
    WsClient c(server_->port(), b.token);
    ASSERT_TRUE(c.connected());
    // A conversation left out of the map counts from 0.
    EXPECT_EQ(until_synced(c, Json::object()), (std::vector<long long>{1, 2}));
  }
  for (int i = 0; i < 30; ++i) ASSERT_EQ(send(a, conv, "m" + std::to_string(i), "missed").status, 201);
  WsClient c(server_->port(), b.token);
  ASSERT_TRUE(c.connected());
  std::vector<long long> expected;
  for (int i = 3; i <= 32; ++i) expected.push_back(i);
  EXPECT_EQ(until_synced(c, {{std::to_string(conv), 2}}), expected);
  // Nothing more arrives afterwards: each event came once.
  EXPECT_FALSE(c.read(300ms));
}

TEST_F(WebSocket, SyncRacingLiveSendsLosesAndDuplicatesNothing) {
  auto a = user("eve"), b = user("fox");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(send(a, conv, "old" + std::to_string(i), "old").status, 201);
  // Every frame of the connection counts (none is read away before the sync):
  // what arrives live before the sync is not sent again by it.
  auto c = std::make_unique<WsClient>(server_->port(), b.token);
  ASSERT_TRUE(c->connected());
  std::atomic<bool> go{false};
  std::thread writer([&] {
    HttpClient h(server_->port());
    go = true;
    for (int i = 0; i < 60; ++i) {
      h.post(conv_path(conv) + "/messages", {{"client_msg_id", "new" + std::to_string(i)}, {"body", "new"}},
             a.token);
    }
  });
  while (!go) std::this_thread::yield();
  c->send({{"type", "sync"}, {"id", "race"}, {"cursors", {{std::to_string(conv), 0}}}});
  std::vector<long long> seqs;
  while (seqs.size() < 161) {  // seq 1..161: created + 100 old + 60 new
    auto f = c->read(10s);
    ASSERT_TRUE(f) << "stalled after " << seqs.size() << " events";
    if (is_event(*f)) seqs.push_back((*f)["event"]["seq"]);
  }
  writer.join();
  // Live events that beat the sync may come before its back-fill: each seq
  // once, all of them.
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], static_cast<long long>(i) + 1);
  EXPECT_FALSE(c->read_until(is_event, 300ms));
}

TEST_F(WebSocket, TypingReadAndPresenceReachTheRightUsersOnly) {
  auto a = user("gil"), b = user("hal"), stranger = user("ida");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(send(b, conv, "m", "hello").status, 201);  // seq 2
  auto ca = connect(a);
  auto cs = connect(stranger);
  {
    auto cb = connect(b);
    auto online = ca->read_until([&](const Json& f) { return f.value("type", "") == "presence"; });
    ASSERT_TRUE(online);
    EXPECT_EQ((*online)["user_id"], b.id);
    EXPECT_EQ((*online)["online"], true);

    ca->send({{"type", "typing"}, {"conversation_id", conv}});
    auto typing = cb->read_until([](const Json& f) { return f.value("type", "") == "typing"; });
    ASSERT_TRUE(typing);
    EXPECT_EQ((*typing)["user_id"], a.id);
    EXPECT_EQ((*typing)["conversation_id"], conv);

    ca->send({{"type", "read"}, {"id", "r"}, {"conversation_id", conv}, {"seq", 2}});
    auto ack = ca->read_until([](const Json& f) { return f.value("type", "") == "ack"; });
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["read_seq"], 2);
    auto read = cb->read_until([](const Json& f) { return f.value("type", "") == "read"; });
    ASSERT_TRUE(read);
    EXPECT_EQ((*read)["user_id"], a.id);
    EXPECT_EQ((*read)["seq"], 2);
    // A stranger typing into the conversation reaches nobody.
    cs->send({{"type", "typing"}, {"conversation_id", conv}});
  }
  auto offline = ca->read_until([&](const Json& f) { return f.value("type", "") == "presence"; });
  ASSERT_TRUE(offline);
  EXPECT_EQ((*offline)["online"], false);
  // a never got its own typing/read, nor the stranger's typing; the stranger got nothing.
  EXPECT_FALSE(ca->read_until([](const Json& f) {
    auto t = f.value("type", "");
    return t == "typing" || t == "read";
  }, 300ms));
  EXPECT_FALSE(cs->read_until([](const Json& f) { return f.value("type", "") != "pong"; }, 300ms));
}

TEST_F(WebSocket, NonMembersAndRemovedMembersReceiveNothing) {
  auto o = user("jon"), m = user("kim"), stranger = user("lee");
  auto conv = group(o, {m});
  auto cm = connect(m);
  auto cs = connect(stranger);
  ASSERT_EQ(send(o, conv, "1", "for members").status, 201);
  ASSERT_TRUE(cm->read_until([](const Json& f) { return is_message(f, "for members"); }));
  ASSERT_EQ(request(o, "DELETE", conv_path(conv) + "/members/" + std::to_string(m.id)).status, 204);
  auto removed = cm->read_until([](const Json& f) {
    return is_event(f) && f["event"]["kind"] == "member.removed";
  });
  ASSERT_TRUE(removed);
  ASSERT_EQ(send(o, conv, "2", "after removal").status, 201);
  EXPECT_FALSE(cm->read_until([](const Json& f) { return is_event(f); }, 500ms));
  EXPECT_FALSE(cs->read_until([](const Json& f) { return is_event(f); }, 300ms));
}

TEST_F(WebSocket, AClientThatNeverReadsIsClosedWhileOthersKeepReceiving) {
  auto a = user("max"), b = user("ned");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto slow = std::make_unique<WsClient>(server_->port(), b.token, 4096);
  auto fast = connect(b);
  std::string body(4000, 'z');
  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(server_->port());
      for (int i = 0; i < 300; ++i) {
        auto r = c.post(conv_path(conv) + "/messages",
                        {{"client_msg_id", std::to_string(t) + "-" + std::to_string(i)}, {"body", body}},
                        a.token);
        if (r.status == 201) ++sent;
      }
    });
  }
  // The slow socket's queue (1 MiB) and the kernel's buffers fill after
  // some 300 of these frames. It reads once the server says it cut a reader
  // off, while the sends go on: the close frame waits behind a half-written
  // frame, and reaches only a client that reads within the closing
  // handshake's 5 s (reading too early keeps it open, and fails).
  std::atomic<bool> done{false};
  std::atomic<int> slow_code{-2};
  std::thread slow_reader([&] {
    while (!done && server_->output().find("ws too slow") == std::string::npos) {
      std::this_thread::sleep_for(10ms);
    }
    slow_code = slow->wait_closed(20s);
  });
  int received = 0;
  while (received < 1200) {
    auto f = fast->read_until(is_event, 20s);
    if (!f) break;
    ++received;
  }
  done = true;
  for (auto& t : threads) t.join();
  slow_reader.join();
  EXPECT_EQ(received, 1200) << "the fast client stalled";
  EXPECT_EQ(sent.load(), 1200);
  EXPECT_EQ(slow_code.load(), 1013) << "a slow reader is closed as too slow";
}

TEST_F(WebSocket, MalformedFramesGetErrorsOrTheRightClose) {
  auto a = user("oli");
  auto c = connect(a);
  auto error_for = [&](const std::string& text) {
    c->send_text(text);
    return c->read_until([](const Json& f) { return f.value("type", "") == "error"; });
  };
  auto e1 = error_for("not json");
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["error"]["code"], "invalid_request");
  auto e2 = error_for(R"({"type":"dance","id":1})");
  ASSERT_TRUE(e2);
  EXPECT_EQ((*e2)["id"], 1);
  auto e3 = error_for(R"({"type":"send","id":"x","conversation_id":"nope","client_msg_id":"c","body":"b"})");
  ASSERT_TRUE(e3);
  EXPECT_EQ((*e3)["id"], "x");
  EXPECT_NE((*e3)["error"]["message"].get<std::string>().find("conversation_id"), std::string::npos);
  auto e4 = error_for(R"({"type":"send","id":2,"conversation_id":999999,"client_msg_id":"c","body":"b"})");
  ASSERT_TRUE(e4);
  EXPECT_EQ((*e4)["error"]["code"], "not_found");
  auto e5 = error_for(R"({"type":"sync","id":3,"cursors":[1,2]})");
  ASSERT_TRUE(e5);
  auto e6 = error_for(R"([1,2,3])");
  ASSERT_TRUE(e6);
  // The connection still works after all of that.
  c->send({{"type", "ping"}, {"id", 9}});
  auto pong = c->read_until([](const Json& f) { return f.value("type", "") == "pong"; });
  ASSERT_TRUE(pong);
  EXPECT_EQ((*pong)["id"], 9);

  auto binary = connect(a);
  binary->send_binary("\x01\x02");
  EXPECT_EQ(binary->wait_closed(), 1003);
  auto huge = connect(a);
  huge->send_text(std::string(70 * 1024, 'x'));
  EXPECT_EQ(huge->wait_closed(), 1009);
  // Others are unaffected.
  c->send({{"type", "ping"}, {"id", 10}});
  EXPECT_TRUE(c->read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
}

TEST_F(WebSocket, AuthenticationByHeaderOrFirstFrame) {
  auto a = user("pia");
  WsClient bad(server_->port(), std::string(43, 'A'));
  EXPECT_FALSE(bad.connected());
  // The refusal is a plain 401 in the error shape.
  auto refused = client().request("GET", "/v1/ws", "",
                                  {{"Connection", "Upgrade"}, {"Upgrade", "websocket"},
                                   {"Sec-WebSocket-Version", "13"},
                                   {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                   {"Authorization", "Bearer " + std::string(43, 'A')}});
  expect_error(refused, 401, "unauthenticated");

  WsClient by_frame(server_->port());
  ASSERT_TRUE(by_frame.connected());
  by_frame.send({{"type", "auth"}, {"token", a.token}});
  auto ok = by_frame.read();
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["type"], "authenticated");
  EXPECT_EQ((*ok)["user_id"], a.id);

  WsClient wrong_first(server_->port());
  wrong_first.send({{"type", "ping"}});
  EXPECT_EQ(wrong_first.wait_closed(), 1008);

  WsClient garbage(server_->port());
  garbage.send({{"type", "auth"}, {"token", "garbage"}});
  EXPECT_EQ(garbage.wait_closed(), 1008);
}

TEST_F(WebSocket, SilentUnauthenticatedSocketIsClosedAfterTenSeconds) {
  WsClient silent(server_->port());
  ASSERT_TRUE(silent.connected());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.wait_closed(15s), 1008);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 9s);
}

TEST_F(WebSocket, RevokedTokenClosesItsSockets) {
  auto a = user("quo");
  auto other_token = client().post("/v1/sessions", {{"username", "quo"}, {"password", "password-quo"}})
                         .json().value("token", "");
  auto c = connect(a);
  WsClient other(server_->port(), other_token);
  ASSERT_EQ(client().del("/v1/sessions/current", a.token).status, 204);
  EXPECT_EQ(c->wait_closed(), 1008);
  other.send({{"type", "ping"}, {"id", 1}});
  EXPECT_TRUE(other.read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
}

TEST_F(WebSocket, ShutdownClosesSocketsWithGoingAway) {
  auto a = user("ray");
  auto c = connect(a);
  server_->signal(SIGTERM);
  EXPECT_EQ(c->wait_closed(), 1001);
  EXPECT_EQ(server_->wait(), 0) << server_->output();
}

TEST_F(WebSocket, ShutdownAnswersEverySendItStoredBeforeClosing) {
  // A phone flushing its outbox when the instance is told to stop: each send
  // the server stored must have its ack delivered before the 1001 close;
  // the rest are simply unanswered (the client retries them elsewhere).
  auto a = user("uma"), b = user("vic");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  auto c = connect(a);
  // 25 sends: their acks and events stay under this fixture's --ws-max-queue 64.
  auto send_one = [&](int i) {
    c->send({{"type", "send"}, {"id", i}, {"conversation_id", conv},
             {"client_msg_id", "drain-" + std::to_string(i)}, {"body", "queued " + std::to_string(i)}});
  };
  std::set<std::string> acked;
  send_one(0);
  auto first = c->read_until([](const Json& f) { return f.value("type", "") == "ack"; });
  ASSERT_TRUE(first.has_value());
  acked.insert((*first)["message"].value("client_msg_id", ""));
  for (int i = 1; i < 25; ++i) {
    send_one(i);
    if (i == 12) server_->signal(SIGTERM);
  }
  while (auto f = c->read(10s)) {
    if (f->value("type", "") == "ack") acked.insert((*f)["message"].value("client_msg_id", ""));
  }
  EXPECT_EQ(c->close_code(), 1001);
  EXPECT_EQ(server_->wait(), 0) << server_->output();
  ChatdProcess again({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(again.start()) << again.output();
  auto history = HttpClient(again.port())
                     .get("/v1/conversations/" + std::to_string(conv) + "/messages?limit=200", a.token)
                     .json()["messages"];
  std::set<std::string> stored;
  for (auto& m : history) stored.insert(m.value("client_msg_id", ""));
  EXPECT_GT(stored.size(), 0u);
  EXPECT_TRUE(stored == acked) << stored.size() << " stored, " << acked.size() << " acknowledged";
}

TEST_F(WebSocket, EventsCommittedOnOneInstanceReachSocketsOnAnother) {
  ChatdProcess second({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(second.start()) << second.output();
  auto a = user("sam"), b = user("tom");
  auto conv = direct(a, b).json()["conversation"].value("id", 0LL);
  WsClient on_b(second.port(), b.token);
  ASSERT_TRUE(on_b.connected());
  on_b.send({{"type", "ping"}, {"id", 1}});
  ASSERT_TRUE(on_b.read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
  ASSERT_EQ(send(a, conv, "x", "across instances").status, 201);  // through the first instance
  auto f = on_b.read_until([](const Json& f) { return is_message(f, "across instances"); });
  EXPECT_TRUE(f) << second.output();
  second.signal(SIGTERM);
  EXPECT_EQ(on_b.wait_closed(), 1001);
  EXPECT_EQ(second.wait(), 0);
}

}  // namespace
}  // namespace chatd::test
