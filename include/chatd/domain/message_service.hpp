// Messages, reactions and the conversation log.
#pragma once

#include <optional>
#include <string>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/core/rate_limit.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/domain/newest_pages.hpp"
#include "chatd/domain/send_batcher.hpp"
#include "chatd/model/conversation.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::store {
class DbPool;
}

namespace chatd::domain {

class MessageService {
 public:
  // Sends go through a SendBatcher (group commit); everything else runs one
  // transaction per request.
  // send_rate: sends per user (--rate-sends), shared by REST and every
  // socket of the user on this instance, with a burst of twice the rate.
  MessageService(store::DbPool& db, EventPublisher& publisher,
                 SendBatcher::Options batching = {}, Rate send_rate = {})
      : db_(db), publisher_(publisher), sends_(db, publisher, batching), send_limit_(send_rate, 2.0) {}

  // rate_limited (nothing stored) beyond the user's send rate.
  Task<Expected<SentMessage>> send(model::UserId me, model::ConversationId id,
                                   model::MessageDraft draft);
  // The same send, queued for the group commit before this returns, so that
  // sends submitted one after another are stored in that order (pipelined
  // WebSocket frames). `done` runs once: at once for invalid input, else on a
  // database worker after the commit.
  void submit(model::UserId me, model::ConversationId id, model::MessageDraft draft,
              SendBatcher::Done done);
  // The newest page (no bound) comes from `newest_pages()` when the
  // conversation has not changed since it was read: one cheap statement for
  // the reader's membership and the conversation's last seq.
  Task<Expected<store::Page<model::Message>>> history(model::UserId me, model::ConversationId id,
                                                      std::optional<model::Seq> before,
                                                      std::optional<model::Seq> after, int limit);
  Task<Expected<model::Message>> edit(model::UserId me, model::ConversationId id, model::Seq seq,
                                      std::string body);
  Task<Expected<model::Message>> remove(model::UserId me, model::ConversationId id,
                                        model::Seq seq);
  Task<Expected<model::Message>> react(model::UserId me, model::ConversationId id, model::Seq seq,
                                       std::string emoji, bool add);
  Task<Expected<store::Page<model::Event>>> events(model::UserId me, model::ConversationId id,
                                                   model::Seq after, int limit);

  const NewestPages& newest_pages() const { return pages_; }

 private:
  store::DbPool& db_;
  EventPublisher& publisher_;
  SendBatcher sends_;
  KeyedRateLimiter send_limit_;
  NewestPages pages_;
};

}  // namespace chatd::domain
