#include "chatd/domain/permissions.hpp"

namespace chatd::domain {

using model::Kind;
using model::Role;

Error conversation_not_found() { return Error::not_found("conversation not found"); }

Expected<model::MemberStatus> admit(model::UserId user, model::DmPolicy policy, bool contact) {
  if (contact || policy == model::DmPolicy::everyone) return model::MemberStatus::inbox;
  if (policy == model::DmPolicy::requests) return model::MemberStatus::request;
  return Error::forbidden("dm_not_allowed", "user " + std::to_string(user) +
                                                " accepts conversations from contacts only");
}

namespace {
bool moderates(const model::Membership& m) {
  return m.kind == Kind::group && (m.role == Role::owner || m.role == Role::admin);
}
Error forbidden(const char* why) { return Error::forbidden("forbidden", why); }
}  // namespace

Expected<Unit> authorize(Action action, const std::optional<model::Membership>& membership,
                         model::UserId actor, const Target& target) {
  if (!membership) return conversation_not_found();
  const auto& m = *membership;
  switch (action) {
    case Action::read:
    case Action::send:
      return Unit{};
    case Action::update_conversation:
      if (m.kind == Kind::direct) return forbidden("a direct conversation cannot be changed");
      if (!moderates(m)) return forbidden("only the group's owner or an admin may change it");
      return Unit{};
    case Action::add_member:
      if (m.kind == Kind::direct) return forbidden("a direct conversation has fixed members");
      if (!moderates(m)) return forbidden("only the group's owner or an admin may add members");
      return Unit{};
    case Action::remove_member:
      if (m.kind == Kind::direct) return forbidden("a direct conversation has fixed members");
      if (target.user == actor) return Unit{};  // leaving
      if (!moderates(m)) return forbidden("only the group's owner or an admin may remove members");
      if (target.role == Role::owner && m.role != Role::owner) {
        return forbidden("only an owner may remove an owner");
      }
      return Unit{};
    case Action::change_role:
      if (m.kind == Kind::direct) return forbidden("a direct conversation has no roles");
      if (m.role != Role::owner) return forbidden("only the group's owner may change roles");
      return Unit{};
    case Action::edit_message:
      if (target.user != actor) return forbidden("only the sender may edit a message");
      return Unit{};
    case Action::delete_message:
      if (target.user == actor || moderates(m)) return Unit{};
      return forbidden("only the sender or the group's owner or an admin may delete a message");
  }
  return forbidden("not allowed");
}

}  // namespace chatd::domain
