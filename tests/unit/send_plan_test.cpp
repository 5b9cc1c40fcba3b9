// The per-send decisions of a group commit: the same rules as one send at a
// time, seqs without gaps per conversation, retries inside one batch.
#include <gtest/gtest.h>

#include "chatd/domain/send_plan.hpp"

namespace chatd::domain {
namespace {

using Kind = SendPlan::Kind;

struct Batch {
  std::vector<store::SendRequest> requests;
  std::vector<store::SendState> states;

  // A send by `sender` to `conv` whose last_seq is `last_seq`, the sender a member.
  Batch& add(model::ConversationId conv, model::UserId sender, std::string cmid,
             model::Seq last_seq, std::optional<model::Seq> reply_to = std::nullopt) {
    requests.push_back({conv, sender, std::move(cmid), "hi", reply_to, {}, std::nullopt});
    store::SendState s;
    model::Membership m;
    m.conversation_id = conv;
    m.kind = model::Kind::group;
    m.last_seq = last_seq;
    s.membership = m;
    states.push_back(s);
    return *this;
  }
  store::SendState& last() { return states.back(); }
  std::vector<SendPlan> plan() const {
    std::vector<const store::SendRequest*> ptrs;
    for (const auto& r : requests) ptrs.push_back(&r);
    return plan_sends(ptrs, states);
  }
};

TEST(SendPlan, SeqsContinueEachConversationInArrivalOrder) {
  Batch b;
  b.add(10, 1, "a", 5).add(20, 2, "b", 1).add(10, 3, "c", 5).add(10, 1, "d", 5);
  auto p = b.plan();
  ASSERT_EQ(p.size(), 4u);
  for (const auto& x : p) EXPECT_EQ(x.kind, Kind::append);
  EXPECT_EQ(p[0].seq, 6);
  EXPECT_EQ(p[1].seq, 2);
  EXPECT_EQ(p[2].seq, 7);
  EXPECT_EQ(p[3].seq, 8);
}

TEST(SendPlan, ARejectedSendTakesNoSeq) {
  Batch b;
  b.add(10, 1, "a", 5);
  b.add(10, 9, "b", 5);
  b.last().membership.reset();  // not a member
  b.add(10, 1, "c", 5);
  auto p = b.plan();
  EXPECT_EQ(p[0].seq, 6);
  EXPECT_EQ(p[1].kind, Kind::reject);
  EXPECT_EQ(p[1].error.kind, ErrorKind::not_found);
  EXPECT_EQ(p[2].seq, 7);
}

TEST(SendPlan, RetriesReturnTheStoredOrTheEarlierSendOfTheBatch) {
  Batch b;
  b.add(10, 1, "stored", 5);
  model::Message m;
  m.conversation_id = 10;
  m.seq = 3;
  b.last().existing = m;
  b.add(10, 1, "new", 5).add(10, 1, "new", 5);
  b.add(10, 2, "new", 5);  // another sender may use the same id
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::existing);
  EXPECT_EQ(p[1].kind, Kind::append);
  EXPECT_EQ(p[1].seq, 6);
  EXPECT_EQ(p[2].kind, Kind::same_as);
  EXPECT_EQ(p[2].same_as, 1u);
  EXPECT_EQ(p[3].kind, Kind::append);
  EXPECT_EQ(p[3].seq, 7);
}

TEST(SendPlan, ARetryOfARejectedSendIsJudgedAgain) {
  Batch b;
  b.add(10, 1, "x", 5, 99);  // reply_to a message that does not exist
  b.add(10, 1, "x", 5);      // the same id, now without the bad reply_to
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::reject);
  EXPECT_EQ(p[0].error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(p[1].kind, Kind::append);
  EXPECT_EQ(p[1].seq, 6);
}

TEST(SendPlan, BlockedDirectConversationsRefuseButGroupsIgnoreBlocks) {
  Batch b;
  b.add(10, 1, "a", 5);
  b.last().membership->kind = model::Kind::direct;
  b.last().blocked = true;
  b.add(20, 1, "b", 5);
  b.last().blocked = true;  // a group: blocks do not apply
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::reject);
  EXPECT_EQ(p[0].error.code, "blocked");
  EXPECT_EQ(p[1].kind, Kind::append);
}

TEST(SendPlan, ReplyToAStoredMessageOrAnEarlierOneOfTheBatch) {
  Batch b;
  b.add(10, 1, "a", 5, 4);
  b.last().reply_exists = true;
  b.add(10, 1, "b", 5, 6);  // seq 6 is "a", appended just before
  b.add(10, 1, "c", 5, 9);  // not (yet) a message
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::append);
  EXPECT_EQ(p[1].kind, Kind::append);
  EXPECT_EQ(p[1].seq, 7);
  EXPECT_EQ(p[2].kind, Kind::reject);
}

TEST(SendPlan, ARequesterMayStoreThreeMessagesInAPendingRequestCountingTheBatch) {
  Batch b;
  for (const char* id : {"a", "b", "c", "b"}) {  // "b" again: a retry, not a fourth message
    b.add(10, 1, id, 5);
    b.last().membership->kind = model::Kind::direct;
    b.last().peer = model::MemberStatus::request;
    b.last().sent_before = 1;
  }
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::append);
  EXPECT_EQ(p[1].kind, Kind::append);
  EXPECT_EQ(p[2].kind, Kind::reject) << "1 stored + 2 in this batch is the limit";
  EXPECT_EQ(p[2].error.code, "request_pending");
  EXPECT_EQ(p[2].error.kind, ErrorKind::forbidden);
  EXPECT_EQ(p[3].kind, Kind::same_as);
}

TEST(SendPlan, ADeclinedRequestRefusesTheRequesterAndWritingAcceptsOnce) {
  Batch b;
  b.add(10, 1, "a", 5);
  b.last().membership->kind = model::Kind::direct;
  b.last().peer = model::MemberStatus::declined;
  b.add(20, 2, "b", 5);  // the recipient of a request writes
  b.last().membership->kind = model::Kind::direct;
  b.last().membership->status = model::MemberStatus::request;
  b.add(20, 2, "c", 5);
  b.last().membership->kind = model::Kind::direct;
  b.last().membership->status = model::MemberStatus::request;
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::reject);
  EXPECT_EQ(p[0].error.code, "request_declined");
  EXPECT_EQ(p[1].kind, Kind::append);
  EXPECT_TRUE(p[1].accepts);
  EXPECT_EQ(p[2].kind, Kind::append);
  EXPECT_FALSE(p[2].accepts) << "accepted once per batch";
}


TEST(SendPlan, AnAttachmentTheSenderMayNotReadRefusesOnlyThatSend) {
  Batch b;
  b.add(10, 1, "a", 5).add(10, 2, "b", 5).add(10, 1, "c", 5);
  b.states[1].attachments_readable = false;
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::append);
  EXPECT_EQ(p[0].seq, 6);
  EXPECT_EQ(p[1].kind, Kind::reject);
  EXPECT_EQ(p[1].error.code, "invalid_request");
  // No seq was taken by the refused send: the log stays gap-free.
  EXPECT_EQ(p[2].kind, Kind::append);
  EXPECT_EQ(p[2].seq, 7);
}

TEST(SendPlan, ARetryOfAStoredMessageIsAnsweredEvenIfItsAttachmentIsNowUnreadable) {
  Batch b;
  b.add(10, 1, "a", 5);
  b.last().existing = model::Message{10, 3, 1, false, "{}"};
  b.last().attachments_readable = false;
  auto p = b.plan();
  EXPECT_EQ(p[0].kind, Kind::existing);
}

}  // namespace
}  // namespace chatd::domain
