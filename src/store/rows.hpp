// Private to the store: model types from result rows.
#pragma once

#include <pqxx/pqxx>

#include "chatd/model/user.hpp"

namespace chatd::store {

// Columns: id, username, display_name, created_at (ms), starting at `first`.
inline model::User user_from(const pqxx::row& row, int first = 0) {
  model::User u;
  u.id = row[first].as<std::int64_t>();
  u.username = row[first + 1].as<std::string>();
  u.display_name = row[first + 2].as<std::string>();
  u.created_at_ms = row[first + 3].as<std::int64_t>();
  return u;
}

}  // namespace chatd::store

#include "chatd/model/conversation.hpp"

namespace chatd::store {

// Columns: conversation_id, seq, kind, actor_id, created_at (text), data (text).
inline model::Event event_from(const pqxx::row& r, int first = 0) {
  model::Event e;
  e.conversation_id = r[first].as<std::int64_t>();
  e.seq = r[first + 1].as<std::int64_t>();
  e.kind = r[first + 2].as<std::string>();
  e.actor_id = r[first + 3].as<std::int64_t>();
  e.created_at = r[first + 4].as<std::string>();
  e.data_json = r[first + 5].as<std::string>();
  return e;
}

// Columns: conversation_id, seq, sender_id, deleted, json (text).
inline model::Message message_from(const pqxx::row& r, int first = 0) {
  model::Message m;
  m.conversation_id = r[first].as<std::int64_t>();
  m.seq = r[first + 1].as<std::int64_t>();
  m.sender_id = r[first + 2].as<std::int64_t>();
  m.deleted = r[first + 3].as<bool>();
  m.json = r[first + 4].as<std::string>();
  return m;
}

// Columns: conversation id, kind, role, last_seq, read_seq, state, starting
// at `first` (CHATD_MEMBERSHIP_COLUMNS).
#define CHATD_MEMBERSHIP_COLUMNS(c, m) \
  c ".id, " c ".kind, " m ".role, " c ".last_seq, " m ".read_seq, " m ".state"
inline model::Membership membership_from(const pqxx::row& r, int first = 0) {
  model::Membership m;
  m.conversation_id = r[first].as<std::int64_t>();
  m.kind = r[first + 1].as<std::string>() == "direct" ? model::Kind::direct : model::Kind::group;
  m.role = model::role_from(r[first + 2].as<std::string>()).value_or(model::Role::member);
  m.last_seq = r[first + 3].as<std::int64_t>();
  m.read_seq = r[first + 4].as<std::int64_t>();
  m.status = model::member_status_from(r[first + 5].as<std::string>()).value_or(model::MemberStatus::inbox);
  return m;
}

}  // namespace chatd::store
