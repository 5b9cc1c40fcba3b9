// Plain data for conversations, messages and the event log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chatd/model/attachment.hpp"
#include "chatd/model/user.hpp"

namespace chatd::model {

using ConversationId = std::int64_t;
using Seq = std::int64_t;

enum class Role { owner, admin, member };
const char* to_string(Role role);
std::optional<Role> role_from(const std::string& text);

enum class Kind { direct, group };

// A member's standing toward the conversation (v1.1 message requests): in the
// inbox, a request not yet accepted, or a request declined (in no folder).
enum class MemberStatus { inbox, request, declined };
const char* to_string(MemberStatus status);
std::optional<MemberStatus> member_status_from(const std::string& text);

// The caller's standing in a conversation.
struct Membership {
  ConversationId conversation_id = 0;
  Kind kind = Kind::group;
  Role role = Role::member;
  Seq last_seq = 0;
  Seq read_seq = 0;
  MemberStatus status = MemberStatus::inbox;
};

struct Member {
  UserId user_id = 0;
  Role role = Role::member;
  // None when hidden from the reader: the member turned read receipts off, or
  // has not accepted the conversation (a request).
  std::optional<Seq> read_seq;
};

// A message as its sender composes it (REST body, `send` frame).
struct MessageDraft {
  std::string client_msg_id;
  std::string body;
  std::optional<Seq> reply_to;
  std::vector<AttachmentId> attachments;  // v1.1: ids of uploads, in order
  std::optional<Share> share;             // v1.1
};

// A message as stored; `json` is its API representation, rendered by the
// database in one place (chatd_message_json) for history, sends and events.
struct Message {
  ConversationId conversation_id = 0;
  Seq seq = 0;
  UserId sender_id = 0;
  bool deleted = false;
  std::string json;
};

struct Event {
  ConversationId conversation_id = 0;
  Seq seq = 0;
  std::string kind;
  UserId actor_id = 0;
  std::string created_at;  // RFC 3339, rendered by the database
  std::string data_json;
};

// A conversation as one member sees it.
struct ConversationView {
  ConversationId id = 0;
  Kind kind = Kind::group;
  std::optional<std::string> title;
  std::string created_at;
  Seq last_seq = 0;
  Seq read_seq = 0;
  std::int64_t unread_count = 0;
  std::optional<std::string> last_message_json;
  // The caller's own standing (v1.1): role, and a mute that has not expired
  // (muted_until: none when muted until unmuted, or not muted).
  Role role = Role::member;
  MemberStatus status = MemberStatus::inbox;
  bool muted = false;
  std::optional<std::string> muted_until;
  std::int64_t activity_key = 0;  // for list cursors
  std::vector<Member> members;    // filled for single-conversation reads
};

// What a user's own devices hear when their standing in a conversation
// changes (the conversation_state frame).
struct MemberState {
  ConversationId conversation = 0;
  Role role = Role::member;
  MemberStatus status = MemberStatus::inbox;
  bool muted = false;
  std::optional<std::string> muted_until;
};

struct Block {
  User user;
  std::string created_at;
};

}  // namespace chatd::model
