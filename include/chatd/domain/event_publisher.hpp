// What the domain announces after a commit, for live delivery. Implemented by
// realtime::Hub; the domain does not know how delivery works.
#pragma once

#include <string>
#include <vector>

#include "chatd/model/conversation.hpp"

namespace chatd::domain {

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // Events from..to of the conversation are committed.
  virtual void events_committed(model::ConversationId id, model::Seq from, model::Seq to) = 0;
  // Events this instance just committed, with their content: local delivery
  // need not read them back from the log. By default, announced like any.
  virtual void events_committed(const std::vector<model::Event>& events) {
    for (const auto& e : events) events_committed(e.conversation_id, e.seq, e.seq);
  }
  virtual void read_moved(model::ConversationId id, model::UserId user, model::Seq seq) = 0;
  virtual void typing(model::ConversationId id, model::UserId user) = 0;
  virtual void token_revoked(const std::string& token_hash) = 0;
  // The user's own standing in the conversation (role, mute) changed: their
  // devices hear of it (the conversation_state frame).
  virtual void standing_changed(model::ConversationId, model::UserId) {}
  // The user showed or hid their presence (show_presence): contacts learn
  // the truth now, offline while hidden.
  virtual void presence_shown(model::UserId, bool) {}
};

// For tools and tests that run services without live delivery.
class NoPublisher final : public EventPublisher {
 public:
  void events_committed(model::ConversationId, model::Seq, model::Seq) override {}
  void events_committed(const std::vector<model::Event>&) override {}
  void read_moved(model::ConversationId, model::UserId, model::Seq) override {}
  void typing(model::ConversationId, model::UserId) override {}
  void token_revoked(const std::string&) override {}
};

// What one transaction appended to one conversation's log.
struct Committed {
  model::ConversationId conversation = 0;
  model::Seq from = 0;
  model::Seq to = -1;  // to < from: nothing
  void publish(EventPublisher& p) const {
    if (to >= from) p.events_committed(conversation, from, to);
  }
};

}  // namespace chatd::domain
