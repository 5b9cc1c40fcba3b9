#include "chatd/wire/bodies.hpp"

namespace chatd::wire {

// Each parser reads its fields in the order the contract lists them, so the
// first problem reported is the same on every front.

namespace {
// An optional array of 64-bit integer ids (absent or null: none).
Expected<std::vector<std::int64_t>> id_list(const Json& object, const char* field,
                                            const std::string& what) {
  std::vector<std::int64_t> out;
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return Error::invalid(std::string(field) + " must be an array of " + what);
  for (const auto& v : *it) {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
      return Error::invalid(std::string(field) + " must hold integer " + what);
    }
    out.push_back(v.get<std::int64_t>());
  }
  return out;
}
}  // namespace

Expected<NewUser> parse_new_user(const Json& object) {
  auto username = string_field(object, "username");
  if (!username) return username.error();
  auto password = string_field(object, "password");
  if (!password) return password.error();
  auto display_name = optional_string_field(object, "display_name");
  if (!display_name) return display_name.error();
  return NewUser{std::move(*username), std::move(*password), std::move(*display_name)};
}

Expected<Login> parse_login(const Json& object) {
  auto username = string_field(object, "username");
  if (!username) return username.error();
  auto password = string_field(object, "password");
  if (!password) return password.error();
  return Login{std::move(*username), std::move(*password)};
}

Expected<NewConversation> parse_new_conversation(const Json& object) {
  auto kind = string_field(object, "kind");
  if (!kind) return kind.error();
  NewConversation out;
  if (*kind == "direct") {
    auto peer = int_field(object, "peer_id");
    if (!peer) return peer.error();
    out.direct = true;
    out.peer = *peer;
    return out;
  }
  if (*kind != "group") return Error::invalid("kind must be \"direct\" or \"group\"");
  auto title = string_field(object, "title");
  if (!title) return title.error();
  out.title = std::move(*title);
  auto members = id_list(object, "member_ids", "user ids");
  if (!members) return members.error();
  out.member_ids = std::move(*members);
  return out;
}

Expected<TitleChange> parse_title_change(const Json& object) {
  auto title = string_field(object, "title");
  if (!title) return title.error();
  return TitleChange{std::move(*title)};
}

Expected<NewMember> parse_new_member(const Json& object) {
  auto user = int_field(object, "user_id");
  if (!user) return user.error();
  return NewMember{*user};
}

Expected<RoleChange> parse_role_change(const Json& object) {
  auto role = string_field(object, "role");
  if (!role) return role.error();
  return RoleChange{std::move(*role)};
}

Expected<Mute> parse_mute(const Json& object) {
  auto until = optional_string_field(object, "until");
  if (!until) return until.error();
  return Mute{std::move(*until)};
}

Expected<model::SettingsChange> parse_settings_change(const Json& object) {
  model::SettingsChange out;
  if (auto it = object.find("dm_policy"); it != object.end()) {
    auto policy = it->is_string() ? model::dm_policy_from(it->get<std::string>()) : std::nullopt;
    if (!policy) return Error::invalid("dm_policy must be \"everyone\", \"requests\" or \"nobody\"");
    out.dm_policy = policy;
  }
  auto receipts = optional_bool_field(object, "read_receipts");
  if (!receipts) return receipts.error();
  out.read_receipts = *receipts;
  auto presence = optional_bool_field(object, "show_presence");
  if (!presence) return presence.error();
  out.show_presence = *presence;
  return out;
}

Expected<ReadMark> parse_read_mark(const Json& object) {
  auto seq = int_field(object, "seq");
  if (!seq) return seq.error();
  return ReadMark{*seq};
}

Expected<NewMessage> parse_new_message(const Json& object) {
  auto client_msg_id = string_field(object, "client_msg_id");
  if (!client_msg_id) return client_msg_id.error();
  auto body = string_field(object, "body");
  if (!body) return body.error();
  auto reply_to = optional_int_field(object, "reply_to");
  if (!reply_to) return reply_to.error();
  NewMessage out{std::move(*client_msg_id), std::move(*body), *reply_to, {}, std::nullopt};
  auto attachments = id_list(object, "attachments", "attachment ids");
  if (!attachments) return attachments.error();
  out.attachments = std::move(*attachments);
  if (auto it = object.find("share"); it != object.end() && !it->is_null()) {
    if (!it->is_object()) return Error::invalid("share must be an object {kind, ref, title} or null");
    auto kind = string_field(*it, "kind");
    if (!kind) return Error::invalid("share." + kind.error().message);
    auto ref = string_field(*it, "ref");
    if (!ref) return Error::invalid("share." + ref.error().message);
    auto title = optional_string_field(*it, "title");
    if (!title) return Error::invalid("share." + title.error().message);
    out.share = model::Share{std::move(*kind), std::move(*ref), title->value_or("")};
  }
  return out;
}

Expected<MessageEdit> parse_message_edit(const Json& object) {
  auto body = string_field(object, "body");
  if (!body) return body.error();
  return MessageEdit{std::move(*body)};
}

Expected<model::ConversationId> parse_conversation_id(const Json& frame) {
  return int_field(frame, "conversation_id");
}

}  // namespace chatd::wire
