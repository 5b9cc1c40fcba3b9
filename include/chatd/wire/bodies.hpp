// Every request body a client sends, as a type, and its one parser. REST
// handlers parse the HTTP body with these; the WebSocket session parses its
// `send` and `read` frames with the same ones, so both fronts accept and
// refuse exactly the same input. The parsers check shape and types; the
// domain services check content (lengths, characters, ranges).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chatd/core/expected.hpp"
#include "chatd/model/conversation.hpp"
#include "chatd/model/user.hpp"
#include "chatd/wire/json_fields.hpp"

namespace chatd::wire {

// POST /v1/users
struct NewUser {
  std::string username;
  std::string password;
  std::optional<std::string> display_name;
};
Expected<NewUser> parse_new_user(const Json& object);

// POST /v1/sessions
struct Login {
  std::string username;
  std::string password;
};
Expected<Login> parse_login(const Json& object);

// POST /v1/conversations: a direct conversation with `peer`, or a group.
struct NewConversation {
  bool direct = false;
  model::UserId peer = 0;                // direct
  std::string title;                     // group
  std::vector<model::UserId> member_ids;  // group, besides the creator
};
Expected<NewConversation> parse_new_conversation(const Json& object);

// PATCH /v1/conversations/{id}
struct TitleChange {
  std::string title;
};
Expected<TitleChange> parse_title_change(const Json& object);

// POST /v1/conversations/{id}/members
struct NewMember {
  model::UserId user_id = 0;
};
Expected<NewMember> parse_new_member(const Json& object);

// PATCH /v1/conversations/{id}/members/{user_id}
struct RoleChange {
  std::string role;
};
Expected<RoleChange> parse_role_change(const Json& object);

// PUT /v1/conversations/{id}/mute (an empty body: until unmuted)
struct Mute {
  std::optional<std::string> until;
};
Expected<Mute> parse_mute(const Json& object);

// PATCH /v1/users/me/settings: absent fields stay as they are.
Expected<model::SettingsChange> parse_settings_change(const Json& object);

// POST /v1/conversations/{id}/read, and the `read` frame (with conversation_id).
struct ReadMark {
  model::Seq seq = 0;
};
Expected<ReadMark> parse_read_mark(const Json& object);

// POST /v1/conversations/{id}/messages, and the `send` frame (with conversation_id).
using NewMessage = model::MessageDraft;
Expected<NewMessage> parse_new_message(const Json& object);

// PATCH /v1/conversations/{id}/messages/{seq}
struct MessageEdit {
  std::string body;
};
Expected<MessageEdit> parse_message_edit(const Json& object);

// The `conversation_id` of a WebSocket frame (REST has it in the path).
Expected<model::ConversationId> parse_conversation_id(const Json& frame);

}  // namespace chatd::wire
