// What a client session asks of the rest of chatd: an interface, so that the
// WebSocket protocol can be tested (and fuzzed) with in-memory services.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/domain/send_batcher.hpp"
#include "chatd/model/conversation.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::domain {
class MessageService;
class ConversationService;
}  // namespace chatd::domain

namespace chatd::realtime {

struct SendCommand {
  model::ConversationId conversation = 0;
  model::MessageDraft draft;
};

class ChatPort {
 public:
  using SendDone = domain::SendBatcher::Done;
  using Positions = std::vector<std::pair<model::ConversationId, model::Seq>>;
  virtual ~ChatPort() = default;

  // The user's conversations and the last seq of each.
  virtual Task<Expected<Positions>> conversations_of(model::UserId me) = 0;
  // The log after `after`; an error when `me` is not a member.
  virtual Task<Expected<store::Page<model::Event>>> events(model::UserId me,
                                                           model::ConversationId id,
                                                           model::Seq after, int limit) = 0;
  // Queued before it returns, in call order; `done` runs once, on any thread.
  virtual void send(model::UserId me, SendCommand command, SendDone done) = 0;
  virtual Task<Expected<model::Seq>> mark_read(model::UserId me, model::ConversationId id,
                                               model::Seq seq) = 0;
  virtual void typing(model::UserId me, model::ConversationId id) = 0;
};

// The real one, over the domain services.
class DomainChatPort final : public ChatPort {
 public:
  DomainChatPort(domain::MessageService& messages, domain::ConversationService& conversations)
      : messages_(messages), conversations_(conversations) {}
  Task<Expected<Positions>> conversations_of(model::UserId me) override;
  Task<Expected<store::Page<model::Event>>> events(model::UserId me, model::ConversationId id,
                                                   model::Seq after, int limit) override;
  void send(model::UserId me, SendCommand command, SendDone done) override;
  Task<Expected<model::Seq>> mark_read(model::UserId me, model::ConversationId id,
                                       model::Seq seq) override;
  void typing(model::UserId me, model::ConversationId id) override;

 private:
  domain::MessageService& messages_;
  domain::ConversationService& conversations_;
};

}  // namespace chatd::realtime
