#include "chatd/model/conversation.hpp"

namespace chatd::model {

const char* to_string(Role role) {
  switch (role) {
    case Role::owner: return "owner";
    case Role::admin: return "admin";
    case Role::member: return "member";
  }
  return "member";
}

std::optional<Role> role_from(const std::string& text) {
  if (text == "owner") return Role::owner;
  if (text == "admin") return Role::admin;
  if (text == "member") return Role::member;
  return std::nullopt;
}

}  // namespace chatd::model
