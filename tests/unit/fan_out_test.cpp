#include <gtest/gtest.h>

#include <thread>

#include "chatd/realtime/fan_out.hpp"
#include "fakes.hpp"

using namespace chatd;
using chatd::realtime::FanOut;
using chatd::realtime::Notice;
using chatd::test::MemoryLog;
using chatd::test::RecordingSubscriber;

namespace {

struct FanOutTest : ::testing::Test {
  MemoryLog log;
  realtime::SessionIndex sessions;
  std::atomic<std::uint64_t> delivered{0}, dropped{0}, errors{0};

  std::unique_ptr<FanOut> make(FanOut::Options o = {}) {
    return std::make_unique<FanOut>(log, sessions, o,
                                    FanOut::Counters{&delivered, &dropped, &errors});
  }
  std::shared_ptr<RecordingSubscriber> connect(model::UserId u) {
    auto s = std::make_shared<RecordingSubscriber>(u);
    sessions.attach(s);
    return s;
  }
  static void run(FanOut& f) {
    while (f.step()) {
    }
  }
  static std::vector<model::Seq> seqs(const RecordingSubscriber& s, model::ConversationId c) {
    std::vector<model::Seq> out;
    for (const auto& g : s.events) {
      if (g.conversation == c) out.push_back(g.seq);
    }
    return out;
  }
};

TEST_F(FanOutTest, EventsCommittedHereGoOutWithoutReadingTheLog) {
  log.members[1] = {10, 11};
  auto a = connect(10), b = connect(11);
  auto f = make();
  std::vector<model::Event> batch;
  for (int i = 0; i < 3; ++i) log.append(1);
  f->committed_here(log.logs[1]);
  run(*f);
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{1, 2, 3}));
  EXPECT_EQ(seqs(*b, 1), (std::vector<model::Seq>{1, 2, 3}));
  EXPECT_EQ(log.reads.load(), 0);
  // Our own reference, heard back through LISTEN, costs nothing either.
  f->announce(1, 1, 3);
  run(*f);
  EXPECT_EQ(log.reads.load(), 0);
  EXPECT_EQ(seqs(*a, 1).size(), 3u);
  EXPECT_EQ(delivered.load(), 6u);
}

// Under load the fan-out thread runs behind: our own reference comes back
// through LISTEN while the events committed here still wait to go out. It
// must not throw their content away (a profile at 14k msg/s found a log read
// for one message in four from exactly this).
TEST_F(FanOutTest, OurOwnReferenceArrivingFirstCostsNoRead) {
  log.members[1] = {10};
  auto a = connect(10);
  auto f = make();
  for (int i = 0; i < 3; ++i) log.append(1);
  f->committed_here(log.logs[1]);
  f->announce(1, 1, 3);  // before the fan-out thread has run
  log.append(1);
  f->committed_here({log.logs[1].back()});  // and more content after it
  f->announce(1, 4, 4);
  run(*f);
  EXPECT_EQ(log.reads.load(), 0);
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{1, 2, 3, 4}));
  // Another instance's reference beyond the content: the rest is read.
  log.append(1);
  log.append(1);
  f->committed_here({log.logs[1][4]});
  f->announce(1, 5, 6);
  run(*f);
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(log.reads.load(), 1);
}

TEST_F(FanOutTest, ManyReferencesToOneConversationCostOneRead) {
  log.members[1] = {10};
  auto a = connect(10);
  auto f = make();
  log.append(1);
  f->announce(1, 1, 1);
  run(*f);
  for (int i = 0; i < 50; ++i) {
    auto s = log.append(1);
    f->announce(1, s, s);
  }
  int before = log.reads.load();
  run(*f);
  EXPECT_EQ(log.reads.load() - before, 1);
  auto got = seqs(*a, 1);
  ASSERT_EQ(got.size(), 51u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<model::Seq>(i) + 1);
}

TEST_F(FanOutTest, AConversationWhoseReadsFailWaitsAloneAndIsRetried) {
  log.members[1] = {10};
  log.members[2] = {10};
  auto a = connect(10);
  FanOut::Options o;
  o.max_backoff = std::chrono::milliseconds(20);
  auto f = make(o);
  log.append(1);
  log.append(2);
  log.failing.insert(1);
  f->announce(1, 1, 1);
  f->announce(2, 1, 1);
  run(*f);
  EXPECT_TRUE(seqs(*a, 1).empty());
  EXPECT_EQ(seqs(*a, 2), (std::vector<model::Seq>{1})) << "one failing conversation held up another";
  EXPECT_GE(errors.load(), 1u);
  log.failing.clear();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (seqs(*a, 1).empty() && std::chrono::steady_clock::now() < until) {
    f->step();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{1}));
}

TEST_F(FanOutTest, AConversationWithNobodyConnectedHereIsNotRead) {
  log.members[1] = {10, 11};
  auto f = make();
  for (int i = 0; i < 5; ++i) {
    auto seq = log.append(1);
    f->announce(1, seq, seq);
  }
  run(*f);
  EXPECT_EQ(log.reads.load(), 0);
  // Someone connects: from the next event on, it is read and delivered.
  auto a = connect(11);
  auto s = log.append(1);
  f->announce(1, s, s);
  run(*f);
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{6}));
}

// A REST sender's conversation: nobody connected here, and every batch is
// committed here with its content. Its members are read once, not once per
// batch (a profile of REST sends found a member read per message).
TEST_F(FanOutTest, ANobodyHereConversationIsNotAskedForItsMembersPerBatch) {
  log.members[1] = {10, 11};
  auto f = make();
  for (int i = 0; i < 5; ++i) {
    log.append(1);
    f->committed_here({log.logs[1].back()});
    run(*f);
  }
  EXPECT_EQ(log.member_reads.load(), 1);
  EXPECT_EQ(log.reads.load(), 0);
  // A member connects: the set kept still names them, the next event reaches them.
  auto a = connect(11);
  log.append(1);
  f->committed_here({log.logs[1].back()});
  run(*f);
  EXPECT_EQ(seqs(*a, 1), (std::vector<model::Seq>{6}));
  EXPECT_EQ(log.member_reads.load(), 1);
}

// ... but a member added meanwhile is never missed: in content committed
// here, or behind another instance's reference, the set is read again.
TEST_F(FanOutTest, AMemberAddedToAConversationNobodyHereWasToldOfGetsTheirEvents) {
  log.members[1] = {10};
  auto f = make();
  log.append(1);
  f->committed_here({log.logs[1].back()});
  run(*f);
  auto newcomer = connect(12);
  log.members[1].insert(12);
  log.append(1, "member.added", R"({"user_id":12})");
  f->committed_here({log.logs[1].back()});
  log.append(1);
  f->committed_here({log.logs[1].back()});
  run(*f);
  EXPECT_EQ(seqs(*newcomer, 1), (std::vector<model::Seq>{2, 3}));

  log.members[2] = {20};
  log.append(2);
  f->committed_here({log.logs[2].back()});
  run(*f);
  auto other = connect(21);
  log.members[2].insert(21);
  auto seq = log.append(2, "member.added", R"({"user_id":21})");
  f->announce(2, seq, seq);  // committed by another instance: no content
  run(*f);
  EXPECT_EQ(seqs(*other, 2), (std::vector<model::Seq>{seq}));
}

TEST_F(FanOutTest, MembershipChangesTakeEffectAtTheirOwnSeq) {
  log.members[1] = {10};
  auto owner = connect(10), newcomer = connect(11);
  auto f = make();
  f->announce(1, log.append(1), 1);
  run(*f);
  log.members[1].insert(11);
  log.append(1, "member.added", R"({"user_id":11})");
  log.append(1);
  log.members[1].erase(11);
  log.append(1, "member.removed", R"({"user_id":11})");
  log.append(1);
  f->announce(1, 2, 5);
  run(*f);
  EXPECT_EQ(seqs(*owner, 1), (std::vector<model::Seq>{1, 2, 3, 4, 5}));
  EXPECT_EQ(seqs(*newcomer, 1), (std::vector<model::Seq>{2, 3, 4}));
}

TEST_F(FanOutTest, TooMuchPendingWorkBecomesARecheckOfEveryConnection) {
  FanOut::Options o;
  o.max_pending_conversations = 10;
  auto a = connect(10), b = connect(11);
  auto f = make(o);
  for (int c = 1; c <= 50; ++c) {
    log.members[c] = {10};
    f->announce(c, log.append(c), 1);
  }
  EXPECT_LE(f->pending(), 10u);
  EXPECT_EQ(dropped.load(), 40u);
  run(*f);
  EXPECT_EQ(a->rechecks.load(), 1);
  EXPECT_EQ(b->rechecks.load(), 1);
}

TEST_F(FanOutTest, ContentOverTheByteBudgetIsReadFromTheLogInstead) {
  FanOut::Options o;
  o.max_content_bytes = 100;
  log.members[1] = {10};
  auto a = connect(10);
  auto f = make(o);
  for (int i = 0; i < 5; ++i) log.append(1, "message.created", std::string(200, ' ') + "{}");
  f->committed_here(log.logs[1]);
  run(*f);
  EXPECT_EQ(seqs(*a, 1).size(), 5u);
  EXPECT_GE(log.reads.load(), 1);
}

TEST_F(FanOutTest, SignalsBeyondTheirBoundAreDroppedAndCounted) {
  FanOut::Options o;
  o.max_signals = 3;
  log.members[1] = {10, 11};
  auto a = connect(10), b = connect(11);
  auto f = make(o);
  for (int i = 0; i < 5; ++i) f->signal(Notice::typing(1, 11));
  EXPECT_EQ(dropped.load(), 2u);
  run(*f);
  EXPECT_EQ(a->frames.size(), 3u);
  EXPECT_TRUE(b->frames.empty()) << "typing goes to the others only";
  // A non-member's typing reaches nobody.
  f->signal(Notice::typing(1, 99));
  run(*f);
  EXPECT_EQ(a->frames.size(), 3u);
}

TEST_F(FanOutTest, ReadAndTypingOfAMemberWhoHasNotAcceptedOrHidesReceiptsReachNobody) {
  log.members[1] = {10, 11};
  log.requests.insert({1, 11});
  auto requester = connect(10), recipient = connect(11);
  auto f = make();
  f->signal(Notice::read(1, 11, 3));
  f->signal(Notice::typing(1, 11));
  run(*f);
  EXPECT_TRUE(requester->frames.empty()) << "a request's recipient stays unseen";
  // Accepted, but receipts off: typing goes, read markers do not.
  log.requests.clear();
  log.hides_receipts.insert(11);
  f->signal(Notice::read(1, 11, 4));
  f->signal(Notice::typing(1, 11));
  run(*f);
  ASSERT_EQ(requester->frames.size(), 1u);
  EXPECT_EQ(requester->frames[0], R"({"type":"typing","conversation_id":1,"user_id":11})");
  log.hides_receipts.clear();
  f->signal(Notice::read(1, 11, 5));
  run(*f);
  ASSERT_EQ(requester->frames.size(), 2u);
  EXPECT_EQ(requester->frames[1], R"({"type":"read","conversation_id":1,"user_id":11,"seq":5})");
}

TEST_F(FanOutTest, HidingPresenceTellsContactsOfflineAndShowingItTellsTheTruth) {
  log.members[1] = {10, 11};
  log.connected.insert(10);
  auto contact = connect(11);
  auto f = make();
  f->signal(Notice::visibility(10, false));
  f->signal(Notice::visibility(10, true));
  run(*f);
  ASSERT_EQ(contact->frames.size(), 2u);
  EXPECT_EQ(contact->frames[0], R"({"type":"presence","user_id":10,"online":false})");
  EXPECT_EQ(contact->frames[1], R"({"type":"presence","user_id":10,"online":true})");
  // Away: hiding or showing changes nothing the contact sees.
  log.connected.clear();
  f->signal(Notice::visibility(10, false));
  f->signal(Notice::visibility(10, true));
  run(*f);
  EXPECT_EQ(contact->frames.size(), 2u);
}

TEST_F(FanOutTest, PresenceGoesToTheUsersContacts) {
  log.members[1] = {10, 11};
  log.members[2] = {12, 13};
  auto contact = connect(11), stranger = connect(12);
  auto f = make();
  f->signal(Notice::presence(10, true));
  run(*f);
  ASSERT_EQ(contact->frames.size(), 1u);
  EXPECT_EQ(contact->frames[0], R"({"type":"presence","user_id":10,"online":true})");
  EXPECT_TRUE(stranger->frames.empty());
}

TEST_F(FanOutTest, ABurstOfPresenceCostsOneReadAndKeepsItsOrder) {
  log.members[1] = {10, 11};
  log.members[2] = {12, 11, 13};
  auto contact = connect(11), other = connect(13);
  auto f = make();
  f->signal(Notice::presence(10, true));
  f->signal(Notice::presence(12, true));
  f->signal(Notice::presence(10, false));
  f->signal(Notice::presence(10, true));
  run(*f);
  EXPECT_EQ(log.audience_reads.load(), 1);
  EXPECT_EQ(contact->frames, (std::vector<std::string>{
                                 R"({"type":"presence","user_id":10,"online":true})",
                                 R"({"type":"presence","user_id":12,"online":true})",
                                 R"({"type":"presence","user_id":10,"online":false})",
                                 R"({"type":"presence","user_id":10,"online":true})"}));
  EXPECT_EQ(other->frames,
            (std::vector<std::string>{R"({"type":"presence","user_id":12,"online":true})"}));
  // A typing notice between two presence runs keeps its place.
  log.members[1] = {10, 11};
  f->signal(Notice::presence(10, false));
  f->signal(Notice::typing(1, 10));
  f->signal(Notice::presence(10, true));
  run(*f);
  EXPECT_EQ(log.audience_reads.load(), 3);
  ASSERT_EQ(contact->frames.size(), 7u);
  EXPECT_EQ(contact->frames[4], R"({"type":"presence","user_id":10,"online":false})");
  EXPECT_EQ(contact->frames[5], R"({"type":"typing","conversation_id":1,"user_id":10})");
  EXPECT_EQ(contact->frames[6], R"({"type":"presence","user_id":10,"online":true})");
  // Presence is handed over as frames that may wait; typing is not.
  EXPECT_EQ(contact->deferred, (std::vector<bool>{true, true, true, true, true, false, true}));
}

TEST_F(FanOutTest, ABurstOfPresenceDoesNotHoldBackTheConversations) {
  // Three conversations with events waiting, three presence notices: one read
  // serves the notices, and each is delivered on its own turn, alternating
  // with the conversations, not all before the next event.
  for (model::ConversationId c : {1, 2, 3}) log.members[c] = {10, 11};
  log.members[4] = {11, 20, 21, 22};
  auto contact = connect(11);
  auto f = make();
  for (model::ConversationId c : {1, 2, 3}) {
    log.append(c);
    f->committed_here(log.logs[c]);
  }
  for (model::UserId u : {20, 21, 22}) f->signal(Notice::presence(u, true));
  auto presence_frames = [&] { return contact->frames.size(); };
  ASSERT_TRUE(f->step());  // conversation 1
  EXPECT_EQ(seqs(*contact, 1).size(), 1u);
  EXPECT_EQ(presence_frames(), 0u);
  ASSERT_TRUE(f->step());  // the read, and the first notice
  EXPECT_EQ(log.audience_reads.load(), 1);
  EXPECT_EQ(presence_frames(), 1u);
  ASSERT_TRUE(f->step());  // conversation 2 before the second notice
  EXPECT_EQ(seqs(*contact, 2).size(), 1u);
  EXPECT_EQ(presence_frames(), 1u);
  ASSERT_TRUE(f->step());
  EXPECT_EQ(presence_frames(), 2u);
  run(*f);
  EXPECT_EQ(seqs(*contact, 3).size(), 1u);
  EXPECT_EQ(contact->frames, (std::vector<std::string>{
                                 R"({"type":"presence","user_id":20,"online":true})",
                                 R"({"type":"presence","user_id":21,"online":true})",
                                 R"({"type":"presence","user_id":22,"online":true})"}));
  EXPECT_EQ(log.audience_reads.load(), 1);
}

// chatd_fanout_pending reads pending(): presence read already and waiting
// for its turns is work owed too, or a burst would look like an idle thread.
TEST_F(FanOutTest, PresenceReadButNotYetDeliveredCountsAsPending) {
  log.members[4] = {11, 20, 21, 22};
  auto contact = connect(11);
  auto f = make();
  for (model::UserId u : {20, 21, 22}) f->signal(Notice::presence(u, true));
  EXPECT_EQ(f->pending(), 3u);
  std::size_t during_read = 0;
  log.on_audience_read = [&] { during_read = f->pending(); };
  ASSERT_TRUE(f->step());  // one read for the three, the first delivered
  EXPECT_EQ(during_read, 3u);  // owed while their audiences are read
  EXPECT_EQ(contact->frames.size(), 1u);
  EXPECT_EQ(f->pending(), 2u);
  run(*f);
  EXPECT_EQ(contact->frames.size(), 3u);
  EXPECT_EQ(f->pending(), 0u);
  // A read that fails drops its notices (counted as an error): nothing owed.
  log.audiences_fail = true;
  f->signal(Notice::presence(20, false));
  run(*f);
  EXPECT_EQ(errors.load(), 1u);
  EXPECT_EQ(f->pending(), 0u);
}

TEST_F(FanOutTest, PresenceWithNobodyConnectedHereReadsNothing) {
  log.members[1] = {10, 11};
  auto f = make();
  f->signal(Notice::presence(10, true));
  run(*f);
  EXPECT_EQ(log.audience_reads.load(), 0);
  // The user's own sockets are not an audience: they are not told about themselves.
  auto self = connect(10);
  f->signal(Notice::presence(10, true));
  run(*f);
  EXPECT_TRUE(self->frames.empty());
}

TEST_F(FanOutTest, AStandingChangeGoesToTheUsersOwnDevicesOnly) {
  log.members[1] = {10, 11};
  log.muted.insert({1, 10});
  auto phone = connect(10), laptop = connect(10), other = connect(11);
  auto f = make();
  f->signal(Notice::standing(1, 10));
  run(*f);
  for (auto* device : {phone.get(), laptop.get()}) {
    ASSERT_EQ(device->frames.size(), 1u);
    auto frame = nlohmann::json::parse(device->frames[0]);
    EXPECT_EQ(frame["type"], "conversation_state");
    EXPECT_EQ(frame["conversation_id"], 1);
    EXPECT_EQ(frame["muted"], true);
    EXPECT_EQ(frame["state"], "inbox");
  }
  EXPECT_TRUE(other->frames.empty());
  // Not a member any more: nothing (member.removed has told them).
  f->signal(Notice::standing(1, 12));
  run(*f);
  EXPECT_EQ(phone->frames.size(), 1u);
}

}  // namespace
