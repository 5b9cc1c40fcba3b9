#include "chatd/realtime/chat_port.hpp"

#include "chatd/domain/conversation_service.hpp"
#include "chatd/domain/message_service.hpp"

namespace chatd::realtime {

Task<Expected<ChatPort::Positions>> DomainChatPort::conversations_of(model::UserId me) {
  co_return co_await conversations_.conversations_of(me);
}

Task<Expected<store::Page<model::Event>>> DomainChatPort::events(model::UserId me,
                                                                 model::ConversationId id,
                                                                 model::Seq after, int limit) {
  co_return co_await messages_.events(me, id, after, limit);
}

void DomainChatPort::send(model::UserId me, SendCommand c, SendDone done) {
  messages_.submit(me, c.conversation, std::move(c.draft),
                   std::move(done));
}

Task<Expected<model::Seq>> DomainChatPort::mark_read(model::UserId me, model::ConversationId id,
                                                     model::Seq seq) {
  co_return co_await conversations_.mark_read(me, id, seq);
}

void DomainChatPort::typing(model::UserId me, model::ConversationId id) {
  conversations_.typing(me, id);
}

}  // namespace chatd::realtime
