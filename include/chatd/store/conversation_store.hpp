// Conversations and their members. Every method runs inside the caller's
// Transaction; every change appends its event with the next seq.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

#include "chatd/model/conversation.hpp"

namespace chatd::store {

class Transaction;

// Whether a user admits an actor who would open a conversation with them or
// add them to a group: their policy, and whether the actor is their contact.
struct Admission {
  model::UserId user = 0;
  model::DmPolicy policy = model::DmPolicy::everyone;
  bool contact = true;
};

// What may be relayed about a member: read, typing and presence only once
// they have accepted (inbox); read markers only with receipts on.
struct MemberPrivacy {
  bool accepted = true;
  bool read_receipts = true;
};

class ConversationStore {
 public:
  explicit ConversationStore(Transaction& tx) : tx_(tx) {}

  // The user's membership. With `lock`, also locks the conversation row: every
  // writer of a conversation serialises there, which keeps seq gap-free.
  std::optional<model::Membership> membership(model::ConversationId id, model::UserId user,
                                              bool lock);
  bool user_exists(model::UserId user);
  // The ids among `users` that belong to no user.
  std::vector<model::UserId> unknown_users(const std::vector<model::UserId>& users);
  bool blocked_either_way(model::UserId a, model::UserId b);

  // The direct conversation of the two users, if any.
  std::optional<model::ConversationId> find_direct(model::UserId a, model::UserId b);
  // Create-or-get on the pair key; .second is true when created now.
  // The creator starts in the inbox, the peer in `peer_status`.
  std::pair<model::ConversationId, bool> create_direct(model::UserId creator, model::UserId peer,
                                                       model::MemberStatus peer_status);
  // `members` start in the inbox, `requested` as message requests.
  model::ConversationId create_group(const std::string& title, model::UserId creator,
                                     const std::vector<model::UserId>& members,
                                     const std::vector<model::UserId>& requested);
  // For each of `users` (ascending id; unknown users are left out).
  std::vector<Admission> admission(const std::vector<model::UserId>& users, model::UserId actor);

  std::optional<model::ConversationView> view(model::ConversationId id, model::UserId me);
  // Highest activity position among the user's conversations: a list snapshot.
  std::int64_t activity_snapshot(model::UserId me);
  // The user's conversations in `folder` (inbox or request) by activity as of
  // `snapshot`, strictly after the (key, id) cursor, newest first; at most `limit`.
  std::vector<model::ConversationView> list(model::UserId me, model::MemberStatus folder,
                                            std::int64_t snapshot,
                                            std::int64_t after_key, model::ConversationId after_id,
                                            int limit);

  std::vector<model::UserId> member_ids(model::ConversationId id);
  // Who hears each user's presence: members of the conversations the user
  // has in the inbox, where both show presence (with `even_hidden`, also
  // while the user hides it). Only contacts in `among` are returned, as
  // pairs (user, contact), once each.
  std::vector<std::pair<model::UserId, model::UserId>> audiences(
      const std::vector<model::UserId>& users, const std::vector<model::UserId>& among,
      bool even_hidden = false);
  // A socket of the user is registered on some instance (migrations/0004);
  // a dead instance's rows count until another instance reaps them.
  bool has_socket(model::UserId user);
  std::optional<MemberPrivacy> privacy(model::ConversationId id, model::UserId user);
  // The user's conversations and their last seq (for sync).
  std::vector<std::pair<model::ConversationId, model::Seq>> conversations_of(model::UserId user);
  // The same for many users in one statement; a user with no conversation
  // has no entry.
  std::unordered_map<model::UserId, std::vector<std::pair<model::ConversationId, model::Seq>>>
  conversations_of(const std::vector<model::UserId>& users);

  std::optional<model::Role> role_of(model::ConversationId id, model::UserId user);
  int owner_count(model::ConversationId id);
  model::Event add_member(model::ConversationId id, model::UserId user, model::Role role,
                          model::UserId actor, model::MemberStatus status);
  // Moves the member to the inbox (an acceptance), a request, or declined.
  void set_status(model::ConversationId id, model::UserId user, model::MemberStatus status);
  model::Event remove_member(model::ConversationId id, model::UserId user, model::UserId actor);
  model::Event set_title(model::ConversationId id, const std::string& title, model::UserId actor);
  // A member's new role, with its member.updated event.
  model::Event set_role(model::ConversationId id, model::UserId user, model::Role role,
                        model::UserId actor);
  // Who becomes owner when `leaving` (the owner) leaves: the longest-standing
  // admin, else member; none when nobody else is left.
  std::optional<model::UserId> successor(model::ConversationId id, model::UserId leaving);
  std::int64_t member_count(model::ConversationId id);
  // Mutes (until `until`, an RFC 3339 time the caller checked, or until
  // unmuted when none) or unmutes the member.
  void set_mute(model::ConversationId id, model::UserId user, bool muted,
                const std::optional<std::string>& until);
  // The member's role and the mute in force now; none when not a member.
  std::optional<model::MemberState> standing(model::ConversationId id, model::UserId user);
  // Moves the read marker forward only; returns the marker after the call.
  model::Seq mark_read(model::ConversationId id, model::UserId user, model::Seq seq);

 private:
  Transaction& tx_;
};

}  // namespace chatd::store
