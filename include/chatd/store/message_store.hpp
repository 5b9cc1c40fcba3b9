// Messages, reactions and the event log of one conversation. Every method runs
// inside the caller's Transaction, which must hold the conversation lock
// (ConversationStore::membership(..., lock = true)) before any write.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "chatd/model/conversation.hpp"

namespace chatd::store {

class Transaction;

template <class T>
struct Page {
  std::vector<T> items;
  bool has_more = false;
};

template <class T>
struct MemberPage {
  std::optional<model::Membership> membership;  // none: not a member (page empty)
  Page<T> page;
};

// One send of a batch (see domain::SendBatcher): several sends, possibly to
// several conversations, are checked and appended in one transaction.
struct SendRequest {
  model::ConversationId conversation = 0;
  model::UserId sender = 0;
  std::string client_msg_id;
  std::string body;
  std::optional<model::Seq> reply_to;
  std::vector<model::AttachmentId> attachments;  // checked: 0..10, distinct
  std::optional<model::Share> share;             // checked
};

// What the store knows about one SendRequest, read after the conversation
// locks were taken.
struct SendState {
  std::optional<model::Membership> membership;  // none: not a member, or no conversation
  std::optional<model::Message> existing;       // already stored under this client_msg_id
  bool blocked = false;                         // a direct conversation with a block either way
  bool reply_exists = false;                    // reply_to names a stored message
  // A direct conversation: the other member's standing, and when that is a
  // request, how many messages the sender already stored there.
  std::optional<model::MemberStatus> peer;
  std::int64_t sent_before = 0;
  // Every attachment named is one the sender may read (API.md).
  bool attachments_readable = true;
};

// A message to append at a seq the caller allocated under the lock.
struct NewMessage {
  const SendRequest* request = nullptr;
  model::Seq seq = 0;
};

// An appended message and its message.created event, as stored.
struct Appended {
  model::Message message;
  model::Event event;
};

class MessageStore {
 public:
  explicit MessageStore(Transaction& tx) : tx_(tx) {}

  std::optional<model::Message> get(model::ConversationId id, model::Seq seq);

  // The batch path: lock every conversation of the batch (ascending id, so two
  // batches never deadlock), read the state of every request in one statement,
  // then append every accepted message with its event in one statement. The
  // seqs of `append_all` must continue each conversation's last_seq without a
  // gap, in order; each conversation's last_seq and activity position follow.
  void lock_conversations(std::vector<model::ConversationId> ids);
  std::vector<SendState> send_states(const std::vector<const SendRequest*>& requests);
  // With `push_delay`, each message also makes a push job (due after the
  // delay) for every other member in the inbox who has not muted it: the
  // outbox commits with the messages.
  std::vector<Appended> append_all(const std::vector<NewMessage>& messages,
                                   std::optional<std::chrono::milliseconds> push_delay = {});
  // Members who wrote in a conversation they had not accepted: writing accepts.
  void accept_by_writing(const std::vector<std::pair<model::ConversationId, model::UserId>>& members);

  model::Message edit(model::ConversationId id, model::Seq seq, const std::string& body,
                      model::UserId actor);
  // Leaves a tombstone: deleted, empty body, no reactions.
  model::Message remove(model::ConversationId id, model::Seq seq, model::UserId actor);
  // True when the reaction was added (or removed) by this call, with its event.
  bool add_reaction(model::ConversationId id, model::Seq seq, const std::string& emoji,
                    model::UserId user);
  bool remove_reaction(model::ConversationId id, model::Seq seq, const std::string& emoji,
                       model::UserId user);

  // A page of history (ascending by seq; without bounds the newest page) and
  // the reader's membership, read together in one statement.
  MemberPage<model::Message> member_page(model::ConversationId id, model::UserId reader,
                                         std::optional<model::Seq> before,
                                         std::optional<model::Seq> after, int limit);
  // The log after `after` and the reader's membership, likewise.
  MemberPage<model::Event> member_events(model::ConversationId id, model::UserId reader,
                                         model::Seq after, int limit);
  // The log after `after`, for the hub (no reader).
  Page<model::Event> events(model::ConversationId id, model::Seq after, int limit);

 private:
  Transaction& tx_;
};

class BlockStore {
 public:
  explicit BlockStore(Transaction& tx) : tx_(tx) {}
  void block(model::UserId blocker, model::UserId blocked);
  void unblock(model::UserId blocker, model::UserId blocked);
  std::vector<model::Block> list(model::UserId blocker);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
