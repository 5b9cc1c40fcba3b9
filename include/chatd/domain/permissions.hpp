// Who may do what in a conversation: the one place every path asks.
#pragma once

#include <optional>

#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::domain {

enum class Action {
  read,                 // history, events, the conversation, the read marker
  send,                 // messages and reactions
  update_conversation,  // title
  add_member,
  remove_member,        // another member, or oneself (leaving)
  change_role,          // a member's role, ownership hand-over
  edit_message,
  delete_message,
};

// What the action is aimed at, where it matters.
struct Target {
  model::UserId user = 0;                 // remove_member: who; edit/delete: the sender
  std::optional<model::Role> role;        // remove_member: the target's role
};

// A non-member gets not_found, never forbidden: a conversation's existence
// does not leak.
Expected<Unit> authorize(Action action, const std::optional<model::Membership>& membership,
                         model::UserId actor, const Target& target = {});

Error conversation_not_found();

// How a user takes a conversation that someone opens with them or adds them
// to (API.md, settings): by policy, unless the opener is their contact. The
// conversation lands in the inbox, arrives as a request, or is refused with
// 403 dm_not_allowed.
Expected<model::MemberStatus> admit(model::UserId user, model::DmPolicy policy, bool contact);

}  // namespace chatd::domain
