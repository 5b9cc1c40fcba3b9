// The WebSocket protocol without a socket or a database: a ClientSession on
// an io_context, with an in-memory log whose reads take a random while, and
// live events that arrive late, out of order, as bare hints or not at all.
// Whatever the interleaving: nothing twice on the connection, and everything
// after the client's position delivered, live, with no sync at the end.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <random>
#include <set>

#include "chatd/realtime/client_session.hpp"
#include "fake_chat.hpp"

namespace chatd::realtime {
namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using model::ConversationId;
using model::Seq;

Frame frame_of(const model::Event& e) { return event_frame(e); }

// Runs the io_context until the session has nothing left to do.
void settle(asio::io_context& io, const ClientSession& s) {
  for (int i = 0; i < 10000; ++i) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
    if (s.idle() && io.stopped()) return;
  }
  FAIL() << "the session never settled";
}

struct Scenario {
  asio::io_context io;
  FakeChat chat;
  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<ClientSession> session;

  explicit Scenario(unsigned seed)
      : chat(io, seed), transport(std::make_shared<FakeTransport>(io)) {
    model::User u;
    u.id = 1;
    ClientSession::Limits limits;
    limits.recheck_spread = std::chrono::milliseconds(0);
    session = std::make_shared<ClientSession>(chat, transport, u, "hash", limits);
  }
  void start() {
    asio::co_spawn(io, ClientSession::start(session), asio::detached);
    settle(io, *session);
  }
  void frame(const Json& j) {
    asio::post(io, [s = session, text = j.dump()] { s->on_frame(text); });
  }
  // Event frames per conversation, in the order sent.
  std::map<ConversationId, std::vector<Seq>> sent() const {
    std::map<ConversationId, std::vector<Seq>> out;
    for (const auto& f : transport->frames) {
      if (f.value("type", "") == "event") {
        out[f["event"]["conversation_id"]].push_back(f["event"]["seq"]);
      }
    }
    return out;
  }
};

TEST(ClientSession, ASyncSendsWhatTheConnectionLacksAndSkipsWhatItSentLive) {
  Scenario sc(1);
  for (int i = 0; i < 3; ++i) sc.chat.append(7);
  sc.start();  // positioned at 3
  for (int i = 0; i < 2; ++i) {
    Seq s = sc.chat.append(7);
    sc.session->deliver_event(7, s, frame_of(sc.chat.logs[7][s - 1]));
  }
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[7], (std::vector<Seq>{4, 5}));
  sc.frame({{"type", "sync"}, {"id", 1}, {"cursors", {{"7", 1}}}});
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[7], (std::vector<Seq>{4, 5, 2, 3}));
  EXPECT_EQ(sc.session->position(7), std::make_optional(std::make_pair(Seq{1}, Seq{5})));
  ASSERT_FALSE(sc.transport->frames.empty());
  EXPECT_EQ(sc.transport->frames.back()["type"], "synced");
  // Nothing it has sent comes again, whatever the cursor.
  sc.frame({{"type", "sync"}, {"id", 2}, {"cursors", {{"7", 0}}}});
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[7], (std::vector<Seq>{4, 5, 2, 3, 1}));
}

TEST(ClientSession, AGapOrABareHintIsFilledFromTheLogInOrder) {
  Scenario sc(2);
  sc.chat.append(3);
  sc.start();
  for (int i = 0; i < 4; ++i) sc.chat.append(3);  // 2..5
  sc.session->deliver_event(3, 5, frame_of(sc.chat.logs[3][4]));  // 2..4 never came live
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[3], (std::vector<Seq>{2, 3, 4, 5}));
  sc.chat.append(3);
  sc.session->deliver_event(3, 6, nullptr);  // only a hint: the hub knows no content
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[3], (std::vector<Seq>{2, 3, 4, 5, 6}));
  // And then live again, without a read.
  Seq s = sc.chat.append(3);
  sc.chat.max_delay_us = 0;
  sc.session->deliver_event(3, s, frame_of(sc.chat.logs[3][s - 1]));
  sc.io.restart();
  sc.io.poll();
  EXPECT_EQ(sc.sent()[3].back(), 7);
}

TEST(ClientSession, AnEventHeardWhileAWalkIsReadingIsReadToo) {
  Scenario sc(6);
  sc.chat.append(4);
  sc.start();
  sc.chat.min_delay_us = sc.chat.max_delay_us = 20'000;
  Seq a = sc.chat.append(4);
  sc.session->deliver_event(4, a, nullptr);  // a hint: a walk starts reading
  sc.io.restart();
  sc.io.run_for(std::chrono::milliseconds(2));
  Seq b = sc.chat.append(4);  // committed after that read began
  sc.session->deliver_event(4, b, frame_of(sc.chat.logs[4][b - 1]));
  settle(sc.io, *sc.session);
  EXPECT_EQ(sc.sent()[4], (std::vector<Seq>{2, 3}));
}

// The randomised state-machine check: many seeds, each a different mix.
TEST(ClientSession, NoInterleavingOfLiveEventsSyncsAndReadsLosesOrRepeatsAnEvent) {
  for (unsigned seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Scenario sc(seed);
    std::mt19937 rng(seed * 2654435761u);
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    const std::vector<ConversationId> convs = {1, 2, 3, 4, 5};
    for (auto c : convs) {
      for (int i = pick(5); i > 0; --i) sc.chat.append(c);
    }
    sc.start();
    // The lowest position the connection ever held or was told, per conversation.
    std::map<ConversationId, Seq> lowest;
    for (auto c : convs) lowest[c] = static_cast<Seq>(sc.chat.logs[c].size());
    // Live notices not yet delivered, in commit order.
    std::vector<std::pair<ConversationId, Seq>> notices;
    std::set<std::pair<ConversationId, Seq>> lost;
    for (int step = 0; step < 300; ++step) {
      int action = pick(10);
      if (action < 5) {
        auto c = convs[pick(5)];
        notices.emplace_back(c, sc.chat.append(c));
      } else if (action < 8 && !notices.empty()) {
        // Delivered late and out of order; some as bare hints, a few lost
        // (the next event of that conversation, or a recheck, reveals them).
        auto i = static_cast<std::size_t>(pick(static_cast<int>(std::min<std::size_t>(notices.size(), 4))));
        auto [c, s] = notices[i];
        notices.erase(notices.begin() + static_cast<long>(i));
        int how = pick(20);
        if (how == 0) {
          lost.insert({c, s});  // the hub knows it dropped something: it asks for a recheck
          continue;
        }
        Frame f = how == 1 ? nullptr : frame_of(sc.chat.logs[c][s - 1]);
        sc.session->deliver_event(c, s, f);
      } else if (action == 8) {
        // An honest client: its cursor is at most what it has seen in a row.
        auto sent = sc.sent();
        Json cursors = Json::object();
        for (auto c : convs) {
          std::set<Seq> got(sent[c].begin(), sent[c].end());
          Seq known = lowest[c];
          while (got.count(known + 1)) ++known;
          Seq at = pick(static_cast<int>(known) + 1);
          if (pick(3) != 0) {
            cursors[std::to_string(c)] = at;
          } else {
            at = 0;  // left out: from 0
          }
          lowest[c] = std::min(lowest[c], at);
        }
        sc.frame({{"type", "sync"}, {"id", step}, {"cursors", cursors}});
      } else {
        sc.io.restart();
        sc.io.run_for(std::chrono::microseconds(pick(3000)));
      }
      if (pick(3) == 0) {  // and often a little time passes anyway
        sc.io.restart();
        sc.io.run_for(std::chrono::microseconds(pick(800)));
      }
    }
    // Whatever is still in flight arrives, and where the hub dropped a notice
    // it asks every connection to recheck (FanOut does so at a bound).
    for (auto [c, s] : notices) {
      sc.session->deliver_event(c, s, frame_of(sc.chat.logs[c][s - 1]));
      sc.io.restart();
      sc.io.run_for(std::chrono::microseconds(pick(1500)));
    }
    settle(sc.io, *sc.session);
    auto check = [&](bool after_recheck) {
      auto sent = sc.sent();
      for (auto c : convs) {
        Seq last = static_cast<Seq>(sc.chat.logs[c].size());
        // Before a recheck, a conversation whose newest notice arrived must
        // be complete already: that notice alone fills every gap before it.
        if (!after_recheck && lost.count({c, last})) continue;
        std::set<Seq> once(sent[c].begin(), sent[c].end());
        for (Seq s = lowest[c] + 1; s <= last; ++s) {
          ASSERT_TRUE(once.count(s)) << "conversation " << c << " never got seq " << s << " of "
                                     << last << (after_recheck ? " (after a recheck)" : "");
        }
      }
    };
    check(false);
    if (!lost.empty()) {
      sc.session->recheck();
      settle(sc.io, *sc.session);
    }
    check(true);
    ASSERT_FALSE(sc.transport->closed);
    auto sent = sc.sent();
    for (auto c : convs) {
      std::set<Seq> once;
      for (Seq s : sent[c]) ASSERT_TRUE(once.insert(s).second) << "conversation " << c << " seq " << s << " twice";
      Seq last = static_cast<Seq>(sc.chat.logs[c].size());
      for (Seq s = lowest[c] + 1; s <= last; ++s) {
        ASSERT_TRUE(once.count(s)) << "conversation " << c << " never got seq " << s << " of " << last;
      }
    }
    // From here on, every conversation is live: one new event each goes
    // straight out, with no read and no sync.
    sc.chat.max_delay_us = 0;
    for (auto c : convs) {
      Seq s = sc.chat.append(c);
      sc.session->deliver_event(c, s, frame_of(sc.chat.logs[c][s - 1]));
    }
    sc.io.restart();
    sc.io.poll();
    auto after = sc.sent();
    for (auto c : convs) {
      ASSERT_FALSE(after[c].empty());
      EXPECT_EQ(after[c].back(), static_cast<Seq>(sc.chat.logs[c].size())) << "conversation " << c << " is not live";
    }
  }
}

TEST(ClientSession, PipelinedSendsAreSubmittedInOrderAndAnsweredInOrder) {
  Scenario sc(3);
  sc.chat.append(1);
  sc.start();
  for (int i = 0; i < 10; ++i) {
    sc.frame({{"type", "send"}, {"id", i}, {"conversation_id", 1},
              {"client_msg_id", "c" + std::to_string(i)}, {"body", "b"}});
  }
  sc.frame({{"type", "ping"}, {"id", "p"}});
  sc.io.restart();
  sc.io.poll();
  ASSERT_EQ(sc.chat.submitted.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sc.chat.submitted[i], "c" + std::to_string(i));
  EXPECT_EQ(sc.session->in_flight(), 10u);
  ASSERT_EQ(sc.transport->frames.size(), 1u);
  EXPECT_EQ(sc.transport->frames[0]["type"], "pong") << "a ping waits for nothing";
  // The commits finish in reverse; the acks still go out in arrival order.
  for (int i = 9; i >= 0; --i) {
    domain::SentMessage m;
    m.message.json = R"({"seq":)" + std::to_string(i + 2) + "}";
    sc.chat.pending[i](nullptr, Expected<domain::SentMessage>(m));
    sc.io.restart();
    sc.io.poll();
    if (i > 0) {
      EXPECT_EQ(sc.transport->frames.size(), 1u) << "ack " << i << " overtook an earlier send";
    }
  }
  ASSERT_EQ(sc.transport->frames.size(), 11u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(sc.transport->frames[i + 1]["type"], "ack");
    EXPECT_EQ(sc.transport->frames[i + 1]["id"], i);
  }
  EXPECT_EQ(sc.session->in_flight(), 0u);
}

TEST(ClientSession, FramesBeyondTheInFlightLimitAreRefusedAtOnce) {
  Scenario sc(4);
  sc.chat.append(1);
  sc.start();
  for (int i = 0; i < 70; ++i) {
    sc.frame({{"type", "send"}, {"id", i}, {"conversation_id", 1},
              {"client_msg_id", "c" + std::to_string(i)}, {"body", "b"}});
  }
  sc.io.restart();
  sc.io.poll();
  EXPECT_EQ(sc.chat.submitted.size(), 64u);
  ASSERT_EQ(sc.transport->frames.size(), 6u);
  for (const auto& f : sc.transport->frames) {
    EXPECT_EQ(f["error"]["code"], "rate_limited");
    EXPECT_GT(f.value("retry_after_ms", 0), 0);
  }
}

TEST(ClientSession, AnInvalidSendIsAnsweredInItsTurn) {
  Scenario sc(5);
  sc.chat.append(1);
  sc.start();
  sc.frame({{"type", "send"}, {"id", "ok"}, {"conversation_id", 1}, {"client_msg_id", "a"}, {"body", "b"}});
  sc.frame({{"type", "send"}, {"id", "bad"}, {"conversation_id", "x"}});
  sc.io.restart();
  sc.io.poll();
  EXPECT_TRUE(sc.transport->frames.empty()) << "the error overtook the send before it";
  domain::SentMessage m;
  m.message.json = "{}";
  sc.chat.pending[0](nullptr, Expected<domain::SentMessage>(m));
  sc.io.restart();
  sc.io.poll();
  ASSERT_EQ(sc.transport->frames.size(), 2u);
  EXPECT_EQ(sc.transport->frames[0]["id"], "ok");
  EXPECT_EQ(sc.transport->frames[1]["id"], "bad");
  EXPECT_EQ(sc.transport->frames[1]["error"]["code"], "invalid_request");
}

TEST(ClientSession, PresenceIsSentAsAFrameThatMayWaitAndNothingElseIs) {
  Scenario sc(6);
  sc.chat.append(1);
  sc.start();
  sc.session->deliver_presence(presence_frame(2, true));
  sc.session->deliver_frame(typing_frame(1, 2));
  Seq seq = sc.chat.append(1);
  sc.session->deliver_event(1, seq, frame_of(sc.chat.logs[1][seq - 1]));
  settle(sc.io, *sc.session);
  ASSERT_EQ(sc.transport->frames.size(), 3u);
  EXPECT_EQ(sc.transport->frames[0]["type"], "presence");
  EXPECT_EQ(sc.transport->deferred, (std::vector<bool>{true, false, false}));
}

TEST(ClientSession, ARunOfPresenceReachesTheSocketInOneTaskInOrder) {
  Scenario sc(7);
  sc.start();
  for (int i = 0; i < 3; ++i) sc.session->deliver_presence(presence_frame(2, i % 2 == 0));
  sc.io.restart();
  EXPECT_EQ(sc.io.poll_one(), 1u);
  ASSERT_EQ(sc.transport->frames.size(), 3u) << "one task per run, not one per frame";
  EXPECT_EQ(sc.transport->frames[0]["online"], true);
  EXPECT_EQ(sc.transport->frames[1]["online"], false);
  EXPECT_EQ(sc.transport->frames[2]["online"], true);
  sc.session->deliver_presence(presence_frame(3, true));  // a new run, a new task
  sc.io.restart();
  EXPECT_EQ(sc.io.poll_one(), 1u);
  EXPECT_EQ(sc.transport->frames.size(), 4u);
}

TEST(ClientSession, MorePresenceWaitingThanItsBoundClosesLikeASlowClient) {
  asio::io_context io;
  FakeChat chat(io, 8);
  auto transport = std::make_shared<FakeTransport>(io);
  model::User u;
  u.id = 1;
  ClientSession::Limits limits;
  limits.max_presence_waiting = 2;
  auto session = std::make_shared<ClientSession>(chat, transport, u, "hash", limits);
  for (int i = 0; i < 3; ++i) session->deliver_presence(presence_frame(2, true));
  io.restart();
  io.poll();
  EXPECT_TRUE(transport->closed);
  EXPECT_EQ(transport->close_code, 1013);
  EXPECT_TRUE(transport->frames.empty());
}

}  // namespace
}  // namespace chatd::realtime
