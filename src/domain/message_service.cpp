#include "chatd/domain/message_service.hpp"

#include "chatd/domain/permissions.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"

// Jobs handed to the pool are named locals: see run_on in core/async.hpp.

namespace chatd::domain {

using model::ConversationId;
using model::Seq;
using model::UserId;
using store::ConversationStore;
using store::MessageStore;
using store::Transaction;

namespace {
Error message_not_found(Seq seq) {
  return Error::not_found("no message with seq " + std::to_string(seq));
}
Error message_deleted(Seq seq) {
  return Error::conflict("message_deleted", "message " + std::to_string(seq) + " is deleted");
}

// A message about to change, with its conversation locked.
struct LockedMessage {
  model::Membership membership;
  model::Message message;
};

// Locks the conversation, checks the caller may `action` in it, and loads
// message `seq`: the first steps of an edit, a delete and a reaction.
Expected<LockedMessage> lock_message(Transaction& tx, UserId me, ConversationId id, Seq seq,
                                     Action action) {
  auto m = ConversationStore(tx).membership(id, me, true);
  if (auto ok = authorize(action, m, me); !ok) return ok.error();
  auto message = MessageStore(tx).get(id, seq);
  if (!message) return message_not_found(seq);
  return LockedMessage{*m, std::move(*message)};
}
}  // namespace

namespace {
Error too_many_sends(std::chrono::milliseconds wait) {
  return Error::rate_limited("too many messages; slow down", wait);
}

// The checks of a send that need no database; empty when it may go.
std::string send_problem(const model::MessageDraft& d) {
  if (auto p = client_msg_id_problem(d.client_msg_id); !p.empty()) return p;
  bool media = !d.attachments.empty() || d.share;
  if (auto p = message_body_problem(d.body, media); !p.empty()) return p;
  if (d.reply_to && *d.reply_to < 1) return "reply_to must be a positive seq";
  if (auto p = attachments_problem(d.attachments); !p.empty()) return p;
  if (d.share) {
    if (auto p = share_problem(*d.share); !p.empty()) return p;
  }
  return {};
}

store::SendRequest request_of(UserId me, ConversationId id, model::MessageDraft&& d) {
  return {id,
          me,
          std::move(d.client_msg_id),
          std::move(d.body),
          d.reply_to,
          std::move(d.attachments),
          std::move(d.share)};
}
}  // namespace

Task<Expected<SentMessage>> MessageService::send(UserId me, ConversationId id,
                                                 model::MessageDraft draft) {
  if (auto p = send_problem(draft); !p.empty()) co_return Error::invalid(p);
  if (std::chrono::milliseconds wait{}; !send_limit_.try_take(me, &wait)) co_return too_many_sends(wait);
  co_return co_await sends_.send(request_of(me, id, std::move(draft)));
}

void MessageService::submit(UserId me, ConversationId id, model::MessageDraft draft,
                            SendBatcher::Done done) {
  if (auto p = send_problem(draft); !p.empty()) {
    done(nullptr, Expected<SentMessage>(Error::invalid(p)));
    return;
  }
  if (std::chrono::milliseconds wait{}; !send_limit_.try_take(me, &wait)) {
    done(nullptr, Expected<SentMessage>(too_many_sends(wait)));
    return;
  }
  sends_.submit(request_of(me, id, std::move(draft)), std::move(done));
}

Task<Expected<store::Page<model::Message>>> MessageService::history(
    UserId me, ConversationId id, std::optional<Seq> before, std::optional<Seq> after,
    int limit) {
  NewestPages* pages = (!before && !after) ? &pages_ : nullptr;
  auto job = [me, id, before, after, limit, pages](store::Connection& c) {
    return store::transact(
        c, [&](Transaction& tx) -> Expected<store::Page<model::Message>> {
          if (pages) {
            // Statement one: who reads, and where the conversation stands.
            auto m = ConversationStore(tx).membership(id, me, false);
            if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
            if (auto kept = pages->find(id, m->last_seq, limit)) return *kept;
          }
          auto r = MessageStore(tx).member_page(id, me, before, after, limit);
          if (auto ok = authorize(Action::read, r.membership, me); !ok) return ok.error();
          // Kept under the last seq the page itself was read at.
          if (pages) {
            pages->put(id, r.membership->last_seq, limit,
                       std::make_shared<const store::Page<model::Message>>(r.page));
          }
          return std::move(r.page);
        },
        store::TxMode::one_statement);
  };
  co_return co_await db_.run<Expected<store::Page<model::Message>>>(job);
}

Task<Expected<model::Message>> MessageService::edit(UserId me, ConversationId id, Seq seq,
                                                    std::string body) {
  // An empty body is allowed only on a message that carries attachments or
  // a share (checked under the lock, below).
  if (auto p = message_body_problem(body, true); !p.empty()) co_return Error::invalid(p);
  Committed committed;
  Committed* out = &committed;
  auto job = [me, id, seq, body, out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::Message> {
      auto t = lock_message(tx, me, id, seq, Action::read);
      if (!t) return t.error();
      const auto& [m, message] = t.value();
      if (auto ok = authorize(Action::edit_message, m, me, {message.sender_id, {}}); !ok) {
        return ok.error();
      }
      if (message.deleted) return message_deleted(seq);
      if (body.empty() && !carries_media(message)) {
        return Error::invalid("body must be 1 to 4000 characters");
      }
      *out = {id, m.last_seq + 1, m.last_seq + 1};
      return MessageStore(tx).edit(id, seq, body, me);
    });
  };
  auto result = co_await db_.run<Expected<model::Message>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

Task<Expected<model::Message>> MessageService::remove(UserId me, ConversationId id, Seq seq) {
  Committed committed;
  Committed* out = &committed;
  auto job = [me, id, seq, out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::Message> {
      auto t = lock_message(tx, me, id, seq, Action::read);
      if (!t) return t.error();
      const auto& [m, message] = t.value();
      if (auto ok = authorize(Action::delete_message, m, me, {message.sender_id, {}}); !ok) {
        return ok.error();
      }
      if (message.deleted) return message;  // already a tombstone: nothing new to log
      *out = {id, m.last_seq + 1, m.last_seq + 1};
      return MessageStore(tx).remove(id, seq, me);
    });
  };
  auto result = co_await db_.run<Expected<model::Message>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

Task<Expected<model::Message>> MessageService::react(UserId me, ConversationId id, Seq seq,
                                                     std::string emoji, bool add) {
  if (auto p = emoji_problem(emoji); !p.empty()) co_return Error::invalid(p);
  Committed committed;
  Committed* out = &committed;
  auto job = [me, id, seq, emoji, add, out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::Message> {
      auto t = lock_message(tx, me, id, seq, Action::send);
      if (!t) return t.error();
      const auto& [m, message] = t.value();
      if (message.deleted) return message_deleted(seq);
      MessageStore messages(tx);
      bool changed = add ? messages.add_reaction(id, seq, emoji, me)
                         : messages.remove_reaction(id, seq, emoji, me);
      if (changed) *out = {id, m.last_seq + 1, m.last_seq + 1};
      return changed ? *messages.get(id, seq) : message;
    });
  };
  auto result = co_await db_.run<Expected<model::Message>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

Task<Expected<store::Page<model::Event>>> MessageService::events(UserId me, ConversationId id,
                                                                 Seq after, int limit) {
  auto job = [me, id, after, limit](store::Connection& c) {
    return store::transact(
        c, [&](Transaction& tx) -> Expected<store::Page<model::Event>> {
          auto r = MessageStore(tx).member_events(id, me, after, limit);
          if (auto ok = authorize(Action::read, r.membership, me); !ok) return ok.error();
          return std::move(r.page);
        },
        store::TxMode::one_statement);
  };
  co_return co_await db_.run<Expected<store::Page<model::Event>>>(job);
}

}  // namespace chatd::domain
