// Messages, reactions and the event log of one conversation. Every method runs
// inside the caller's Transaction, which must hold the conversation lock
// (ConversationStore::membership(..., lock = true)) before any write.
#pragma once

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

class MessageStore {
 public:
  explicit MessageStore(Transaction& tx) : tx_(tx) {}

  std::optional<model::Message> by_client_id(model::ConversationId id, model::UserId sender,
                                             const std::string& client_msg_id);
  std::optional<model::Message> get(model::ConversationId id, model::Seq seq);

  // Inserts the message at the next seq with its message.created event.
  model::Message append(model::ConversationId id, model::UserId sender,
                        const std::string& client_msg_id, const std::string& body,
                        std::optional<model::Seq> reply_to);
  model::Message edit(model::ConversationId id, model::Seq seq, const std::string& body,
                      model::UserId actor);
  // Leaves a tombstone: deleted, empty body, no reactions.
  model::Message remove(model::ConversationId id, model::Seq seq, model::UserId actor);
  // True when the reaction was added (or removed) by this call, with its event.
  bool add_reaction(model::ConversationId id, model::Seq seq, const std::string& emoji,
                    model::UserId user);
  bool remove_reaction(model::ConversationId id, model::Seq seq, const std::string& emoji,
                       model::UserId user);

  // Ascending by seq. Without bounds: the newest page.
  Page<model::Message> list(model::ConversationId id, std::optional<model::Seq> before,
                            std::optional<model::Seq> after, int limit);
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
