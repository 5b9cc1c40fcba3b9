// Conversations, membership, read markers and blocks. Each operation validates
// its input, then runs as one transaction on a database worker, where the
// permission check, the change and its event commit together.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chatd/core/async.hpp"
#include "chatd/core/expected.hpp"
#include "chatd/domain/conversation_ends.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::store {
class DbPool;
}

namespace chatd::domain {

struct CreatedConversation {
  model::ConversationView view;
  bool created = false;
};

struct ConversationPage {
  std::vector<model::ConversationView> items;
  std::optional<std::string> next_cursor;
};

// List cursors: "<snapshot>.<activity key>.<id>", opaque to clients.
std::string encode_cursor(std::int64_t snapshot, std::int64_t key, model::ConversationId id);
bool decode_cursor(const std::string& text, std::int64_t& snapshot, std::int64_t& key,
                   model::ConversationId& id);

class ConversationService {
 public:
  // max_group_size: members a group may hold, its creator included
  // (--max-group-size); beyond it 409 group_full.
  ConversationService(store::DbPool& db, EventPublisher& publisher, std::size_t max_group_size = 256)
      : db_(db), publisher_(publisher), max_group_size_(max_group_size), ends_(db) {}

  Task<Expected<CreatedConversation>> create_direct(model::UserId me, model::UserId peer);
  Task<Expected<CreatedConversation>> create_group(model::UserId me, std::string title,
                                                   std::vector<model::UserId> member_ids);
  // The caller's conversations in one folder: the inbox, or message
  // requests (declined requests are in neither). Each folder has its own cursors.
  enum class Folder { inbox, requests };
  Task<Expected<ConversationPage>> list(model::UserId me, Folder folder, int limit,
                                        std::optional<std::string> cursor);
  Task<Expected<model::ConversationView>> get(model::UserId me, model::ConversationId id);
  Task<Expected<model::ConversationView>> update_title(model::UserId me, model::ConversationId id,
                                                       std::string title);
  Task<Expected<model::ConversationView>> add_member(model::UserId me, model::ConversationId id,
                                                     model::UserId user);
  // Leaving (user == me) or removing. When the owner leaves and others
  // remain, the longest-standing admin (else member) becomes owner first.
  Task<Expected<Unit>> remove_member(model::UserId me, model::ConversationId id,
                                     model::UserId user);
  // Owner only: `admin` or `member`; `owner` hands ownership over (the old
  // owner becomes admin). Each change is a member.updated event.
  Task<Expected<model::ConversationView>> set_role(model::UserId me, model::ConversationId id,
                                                   model::UserId user, std::string role);
  // Mutes the conversation for the caller until `until` (RFC 3339), or until
  // unmuted; an `until` already past is no mute. The caller's devices hear
  // of it (conversation_state).
  Task<Expected<model::ConversationView>> mute(model::UserId me, model::ConversationId id,
                                               std::optional<std::string> until);
  Task<Expected<model::ConversationView>> unmute(model::UserId me, model::ConversationId id);
  // Message requests: accept moves the caller's request (or declined
  // request) to the inbox; decline hides a request from the caller's lists
  // and refuses the requester's further sends (409 not_a_request on the
  // inbox). The caller's devices hear of either (conversation_state).
  Task<Expected<model::ConversationView>> accept(model::UserId me, model::ConversationId id);
  Task<Expected<Unit>> decline(model::UserId me, model::ConversationId id);
  Task<Expected<model::Seq>> mark_read(model::UserId me, model::ConversationId id,
                                       model::Seq seq);

  // Relayed to the other members, never stored.
  void typing(model::UserId me, model::ConversationId id) { publisher_.typing(id, me); }
  // The caller's conversations with their last seq, for catch-up: read
  // together with those of other sockets starting at the same time
  // (ConversationEnds).
  Task<Expected<std::vector<std::pair<model::ConversationId, model::Seq>>>> conversations_of(
      model::UserId me);
  const ConversationEnds& ends() const { return ends_; }

  Task<Expected<Unit>> block(model::UserId me, model::UserId other);
  Task<Expected<Unit>> unblock(model::UserId me, model::UserId other);
  Task<Expected<std::vector<model::Block>>> blocks(model::UserId me);

 private:
  store::DbPool& db_;
  EventPublisher& publisher_;
  std::size_t max_group_size_;
  ConversationEnds ends_;
};

}  // namespace chatd::domain
