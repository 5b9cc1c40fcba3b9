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

const char* to_string(MemberStatus status) {
  switch (status) {
    case MemberStatus::inbox: return "inbox";
    case MemberStatus::request: return "request";
    case MemberStatus::declined: return "declined";
  }
  return "inbox";
}

std::optional<MemberStatus> member_status_from(const std::string& text) {
  if (text == "inbox") return MemberStatus::inbox;
  if (text == "request") return MemberStatus::request;
  if (text == "declined") return MemberStatus::declined;
  return std::nullopt;
}

const char* to_string(DmPolicy policy) {
  switch (policy) {
    case DmPolicy::everyone: return "everyone";
    case DmPolicy::requests: return "requests";
    case DmPolicy::nobody: return "nobody";
  }
  return "everyone";
}

std::optional<DmPolicy> dm_policy_from(const std::string& text) {
  if (text == "everyone") return DmPolicy::everyone;
  if (text == "requests") return DmPolicy::requests;
  if (text == "nobody") return DmPolicy::nobody;
  return std::nullopt;
}

}  // namespace chatd::model
